// `tenure cron` as real processes on the file, Redis and PostgreSQL backends: three replicas run
// one schedule (every 2 s), the job appends to a journal
//   start FIRE TOKEN IDENTITY     when it starts
//   end FIRE TOKEN IDENTITY       when it is done (1.2 s later)
// and the leader is SIGKILLed in the middle of a run. From the journal and `tenure runs`:
// every fire time from the first to the last is run exactly once (retry), or the one killed
// mid-run is recorded as abandoned and never started again (skip); none is lost in the failover.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <date/date.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using tenure::testing::wait_until;

const std::string kCli = TENURE_CLI_PATH;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::vector<std::string>> journal(const fs::path& p) {
  std::vector<std::vector<std::string>> out;
  std::stringstream ss(slurp(p));
  for (std::string line; std::getline(ss, line);) {
    std::stringstream ls(line);
    std::vector<std::string> w;
    for (std::string x; ls >> x;) w.push_back(x);
    if (w.size() == 4) out.push_back(w);
  }
  return out;
}

// The CLI as a child process, stdout and stderr to files.
class Proc {
 public:
  Proc(const std::vector<std::string>& args, const fs::path& out, const fs::path& err) {
    std::vector<std::string> argv{kCli};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    int ofd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int efd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(ofd, 1);
      ::dup2(efd, 2);
      ::execv(kCli.c_str(), cargv.data());
      ::_exit(127);
    }
    ::close(ofd);
    ::close(efd);
  }
  ~Proc() {
    kill(SIGKILL);
    wait();
  }
  void kill(int sig) {
    if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
  }
  int wait() {
    if (pid_ > 0 && !reaped_) {
      ::waitpid(pid_, &status_, 0);
      reaped_ = true;
    }
    return status_;
  }
  // Exit status within limit, or -1 (then killed).
  int wait_exit(std::chrono::milliseconds limit) {
    if (!wait_until(
            [&] {
              if (reaped_) return true;
              if (::waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
              return reaped_;
            },
            limit)) {
      kill(SIGKILL);
      wait();
      return -1;
    }
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

struct Target {
  std::string name;
  const char* env;  // nullptr: the file backend in a temporary directory
};

class CronProcess : public ::testing::TestWithParam<Target> {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "tenure-cron-test-XXXXXX").string();
    ASSERT_TRUE(::mkdtemp(tmpl.data()));
    dir_ = tmpl;
    if (GetParam().env) {
      TENURE_REQUIRE_ENV(GetParam().env, url_,
                         "start the server with tests/servers/" + GetParam().name +
                             ".sh start DIR and source DIR/" + GetParam().name + ".env");
    } else {
      url_ = "file://" + (dir_ / "backend").string();
    }
    election_ = tenure::testing::unique_name("cron");
    std::ofstream(dir_ / "job.sh") << "#!/bin/sh\n"
                                      "echo \"start $TENURE_FIRE_TIME $TENURE_TOKEN "
                                      "$TENURE_IDENTITY\" >> "
                                   << (dir_ / "journal").string()
                                   << "\n"
                                      "sleep 1.2\n"
                                      "echo \"end $TENURE_FIRE_TIME $TENURE_TOKEN "
                                      "$TENURE_IDENTITY\" >> "
                                   << (dir_ / "journal").string() << "\n";
    fs::permissions(dir_ / "job.sh", fs::perms::owner_all, fs::perm_options::add);
  }
  void TearDown() override {
    replicas_.clear();
    if (!HasFailure()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    } else {
      std::printf("[ info ] kept %s (journal, replica logs)\n", dir_.c_str());
    }
  }

  void start_replicas(const std::string& on_unfinished) {
    for (int i = 1; i <= 3; ++i) {
      const std::string id = "r" + std::to_string(i);
      replicas_[id] = std::make_unique<Proc>(std::vector<std::string>{"cron",
                                                                      "-b",
                                                                      url_,
                                                                      "-e",
                                                                      election_,
                                                                      "-i",
                                                                      id,
                                                                      "--job",
                                                                      "cron-job",
                                                                      "--schedule",
                                                                      "*/2 * * * * *",
                                                                      "--catch-up",
                                                                      "all",
                                                                      "--catch-up-window",
                                                                      "1m",
                                                                      "--on-unfinished",
                                                                      on_unfinished,
                                                                      "--lease-duration",
                                                                      "3000",
                                                                      "--renew-deadline",
                                                                      "2000",
                                                                      "--retry-period",
                                                                      "200",
                                                                      "--grace",
                                                                      "500",
                                                                      "--",
                                                                      (dir_ / "job.sh").string()},
                                             dir_ / (id + ".out"), dir_ / (id + ".err"));
    }
  }
  size_t count(const std::string& kind) {
    size_t n = 0;
    for (auto& l : journal(dir_ / "journal")) n += l[0] == kind;
    return n;
  }
  // Lets two runs finish, then SIGKILLs the leader right after its next run started.
  std::string kill_leader_mid_run() {
    EXPECT_TRUE(wait_until([&] { return count("end") >= 2; }, 20000ms)) << logs();
    const size_t starts = count("start");
    EXPECT_TRUE(wait_until([&] { return count("start") > starts; }, 10000ms)) << logs();
    auto j = journal(dir_ / "journal");
    const std::string victim = j.back()[3], fire = j.back()[1];
    replicas_.at(victim)->kill(SIGKILL);
    replicas_.at(victim)->wait();
    std::printf("[ info ] %s: SIGKILLed leader %s during the run of %s\n", GetParam().name.c_str(),
                victim.c_str(), fire.c_str());
    return fire;
  }
  // Stops the survivors (SIGTERM: they stop CMD, release and exit 0).
  void stop_all() {
    for (auto& [id, p] : replicas_) p->kill(SIGTERM);
    for (auto& [id, p] : replicas_) {
      int rc = p->wait_exit(15000ms);
      EXPECT_TRUE(rc == 0 || rc == 128 + SIGKILL) << id << " exited " << rc << "\n" << logs();
    }
  }
  std::map<std::string, nlohmann::json> ledger() {
    Proc runs({"runs", "-b", url_, "-e", election_, "--json", "--job", "cron-job@"},
              dir_ / "runs.out", dir_ / "runs.err");
    EXPECT_EQ(runs.wait_exit(15000ms), 0) << slurp(dir_ / "runs.err");
    std::map<std::string, nlohmann::json> out;
    std::stringstream ss(slurp(dir_ / "runs.out"));
    for (std::string line; std::getline(ss, line);) {
      auto j = nlohmann::json::parse(line);
      out[j["fire_time"].get<std::string>()] = j;
    }
    return out;
  }
  std::string logs() {
    std::string s = "journal:\n" + slurp(dir_ / "journal");
    for (int i = 1; i <= 3; ++i)
      s += "r" + std::to_string(i) + ":\n" + slurp(dir_ / ("r" + std::to_string(i) + ".err"));
    return s;
  }
  // Every 2 s from the first fire time to the last: none may be missing.
  static void expect_contiguous(const std::set<std::string>& fires, const std::string& all) {
    ASSERT_FALSE(fires.empty());
    auto parse = [](const std::string& s) {
      std::istringstream in(s);
      date::sys_seconds t;
      in >> date::parse("%Y-%m-%dT%H:%M:%SZ", t);
      return t;
    };
    auto first = parse(*fires.begin()), last = parse(*fires.rbegin());
    for (auto t = first; t <= last; t += std::chrono::seconds(2))
      EXPECT_TRUE(fires.count(date::format("%Y-%m-%dT%H:%M:%SZ", t)))
          << "fire time " << date::format("%Y-%m-%dT%H:%M:%SZ", t) << " was lost\n"
          << all;
  }

  fs::path dir_;
  std::string url_, election_;
  std::map<std::string, std::unique_ptr<Proc>> replicas_;
};

TEST_P(CronProcess, LeaderKilledMidRunEveryFireTimeRunsExactlyOnce) {
  start_replicas("retry");
  const std::string killed = kill_leader_mid_run();
  const size_t ends = count("end");
  EXPECT_TRUE(wait_until([&] { return count("end") >= ends + 2; }, 20000ms)) << logs();
  stop_all();
  const std::string all = logs();

  std::map<std::string, int> starts, finishes;
  std::set<std::string> fires;
  for (auto& l : journal(dir_ / "journal")) {
    fires.insert(l[1]);
    (l[0] == "start" ? starts : finishes)[l[1]]++;
  }
  expect_contiguous(fires, all);
  for (auto& [f, n] : finishes) EXPECT_EQ(n, 1) << f << " finished " << n << " times\n" << all;
  // The run cut short by the kill was run again by the next leader, to the end.
  EXPECT_EQ(starts[killed], 2) << all;
  EXPECT_EQ(finishes[killed], 1) << all;
  // The ledger agrees with the journal.
  auto led = ledger();
  for (auto& f : fires) {
    ASSERT_TRUE(led.count(f)) << f << " has no ledger record\n" << all;
    if (finishes[f] == 1) EXPECT_EQ(led[f]["status"], "finished") << f << "\n" << led[f].dump();
  }
  EXPECT_NE(led[killed]["leader"], "") << led[killed].dump();
}

TEST_P(CronProcess, LeaderKilledMidRunWithSkipLeavesTheRunAbandoned) {
  start_replicas("skip");
  const std::string killed = kill_leader_mid_run();
  const size_t ends = count("end");
  EXPECT_TRUE(wait_until([&] { return count("end") >= ends + 2; }, 20000ms)) << logs();
  stop_all();
  const std::string all = logs();

  std::map<std::string, int> starts, finishes;
  std::set<std::string> fires;
  for (auto& l : journal(dir_ / "journal")) {
    fires.insert(l[1]);
    (l[0] == "start" ? starts : finishes)[l[1]]++;
  }
  expect_contiguous(fires, all);
  for (auto& [f, n] : starts) EXPECT_EQ(n, 1) << f << " started " << n << " times\n" << all;
  EXPECT_EQ(finishes[killed], 0) << all;
  auto led = ledger();
  ASSERT_TRUE(led.count(killed)) << all;
  EXPECT_EQ(led[killed]["status"], "abandoned") << led[killed].dump();
  for (auto& f : fires)
    if (finishes[f] == 1) EXPECT_EQ(led[f]["status"], "finished") << f << "\n" << led[f].dump();
  // The new leader said why it did not run it.
  EXPECT_NE(all.find("fire time " + killed + " abandoned"), std::string::npos) << all;
}

// `tenure once` on three replicas at the same time: one runs CMD, the others find the record.
TEST_P(CronProcess, OnceRunsACommandOnceAcrossReplicas) {
  const std::string line = "echo \"ran $TENURE_IDENTITY $TENURE_TOKEN $TENURE_JOB_KEY\" >> " +
                           (dir_ / "once-journal").string() + "; sleep 0.5";
  for (int i = 1; i <= 3; ++i) {
    const std::string id = "o" + std::to_string(i);
    replicas_[id] = std::make_unique<Proc>(
        std::vector<std::string>{"once", "-b", url_, "-e", election_, "-i", id, "--job",
                                 "migrate-v42", "--timeout", "20000", "--", "/bin/sh", "-c", line},
        dir_ / (id + ".out"), dir_ / (id + ".err"));
  }
  for (auto& [id, p] : replicas_) EXPECT_EQ(p->wait_exit(30000ms), 0) << id << "\n" << logs();
  std::stringstream ss(slurp(dir_ / "once-journal"));
  std::vector<std::string> ran;
  for (std::string l; std::getline(ss, l);) ran.push_back(l);
  ASSERT_EQ(ran.size(), 1u) << slurp(dir_ / "once-journal");
  EXPECT_NE(ran[0].find("migrate-v42"), std::string::npos) << ran[0];
  Proc runs({"runs", "-b", url_, "-e", election_, "--json"}, dir_ / "runs.out", dir_ / "runs.err");
  EXPECT_EQ(runs.wait_exit(15000ms), 0) << slurp(dir_ / "runs.err");
  auto j = nlohmann::json::parse(slurp(dir_ / "runs.out"));
  EXPECT_EQ(j["key"], "migrate-v42");
  EXPECT_EQ(j["status"], "finished");
  EXPECT_EQ(j["detail"], "exit 0");
}

// Bad input is refused before anything runs, with exit 2 and a message naming what is wrong.
TEST(CronCli, BadInputIsExitTwoWithAClearMessage) {
  const fs::path dir =
      fs::temp_directory_path() / ("tenure-cron-bad-" + tenure::testing::unique_name("x"));
  fs::create_directories(dir);
  const std::string url = "file://" + (dir / "b").string();
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"cron", "-b", url, "-e", "j", "-s", "0 24 * * *", "--", "/bin/true"},
       "hour field '24' is out of range; allowed: 0-23"},
      {{"cron", "-b", url, "-e", "j", "-s", "@daily", "--tz", "Moon/Tranquility", "--",
        "/bin/true"},
       "unknown time zone 'Moon/Tranquility'"},
      {{"cron", "-b", url, "-e", "j", "-s", "@daily", "--catch-up-window", "1y", "--", "/bin/true"},
       "--catch-up-window '1y' has an unknown unit 'y'"},
      {{"cron", "-b", url, "-e", "j", "-s", "@daily", "--catch-up", "most", "--", "/bin/true"},
       "--catch-up"},
      {{"cron", "-b", url, "-e", "j", "-s", "@daily"}, "no command given"},
      {{"once", "-b", url, "-e", "j", "--job", "a b", "--", "/bin/true"}, "illegal character"},
      {{"runs", "-b", url, "-e", "j", "--job", "a b"}, "illegal character"},
  };
  for (const auto& c : cases) {
    Proc p(c.args, dir / "out", dir / "err");
    EXPECT_EQ(p.wait_exit(15000ms), 2) << c.args[0] << " " << c.message;
    EXPECT_NE(slurp(dir / "err").find(c.message), std::string::npos)
        << "expected '" << c.message << "' in: " << slurp(dir / "err");
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

INSTANTIATE_TEST_SUITE_P(Backends, CronProcess,
                         ::testing::Values(Target{"file", nullptr},
                                           Target{"redis", "TENURE_TEST_REDIS_URL"},
                                           Target{"postgres", "TENURE_TEST_POSTGRES_URL"}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
