// The `tenure` CLI as real processes on the file backend: candidates are `tenure run` processes,
// their CMD is a small shell script that appends to a journal:
//   start TOKEN IDENTITY PID    when it starts
//   tick TOKEN IDENTITY PID     every 20 ms while it runs
//   stop TOKEN IDENTITY PID     when it gets SIGTERM (then it exits)
// O_APPEND writes land in one global order, so the journal shows whether two CMDs ever ran at
// once: after "start T", no line of an older token may appear, and start tokens must grow.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const std::string kCli = TENURE_CLI_PATH;

// Generous bounds: these are ceilings for a loaded CI machine, not expectations.
constexpr auto kLong = 15s;

bool wait_until(const std::function<bool()>& pred, milliseconds limit) {
  auto deadline = Clock::now() + limit;
  for (;;) {
    if (pred()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, const std::string& text, bool executable = false) {
  std::ofstream(p) << text;
  if (executable) fs::permissions(p, fs::perms::owner_all, fs::perm_options::add);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

// A process is gone when /proc has no entry for it or only a zombie (whoever reaps it).
bool process_gone(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return true;
  std::string stat;
  std::getline(in, stat);
  auto paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return true;
  char state = stat[paren + 2];
  return state == 'Z' || state == 'X';
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tenure-cli-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

// A child process (the CLI) with stdout and stderr going to files.
class Proc {
 public:
  Proc(const std::vector<std::string>& args, const fs::path& out, const fs::path& err)
      : out_(out), err_(err) {
    std::vector<std::string> argv{kCli};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    int ofd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int efd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(ofd, 1);
      ::dup2(efd, 2);
      ::execv(cargv[0], cargv.data());
      ::_exit(126);
    }
    ::close(ofd);
    ::close(efd);
  }
  ~Proc() {
    if (!exit_code_ && pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st;
      ::waitpid(pid_, &st, 0);
    }
  }
  Proc(const Proc&) = delete;
  Proc& operator=(const Proc&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) {
    if (!exit_code_) ::kill(pid_, sig);
  }
  // The exit code (128+S for signal S), or nullopt if it still runs after `limit`.
  std::optional<int> wait(milliseconds limit) {
    wait_until([&] { return poll_exit(); }, limit);
    return exit_code_;
  }
  bool running() { return !poll_exit(); }
  std::string out() const { return read_file(out_); }
  std::string err() const { return read_file(err_); }

 private:
  bool poll_exit() {
    if (exit_code_) return true;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) != pid_) return false;
    exit_code_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return true;
  }

  pid_t pid_ = -1;
  fs::path out_, err_;
  std::optional<int> exit_code_;
};

struct Output {
  int code = -1;
  std::string out, err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = "file://" + (dir_ / "store").string();
    journal_ = dir_ / "journal";
    script_ = dir_ / "cmd.sh";
    write_file(script_,
               "#!/bin/sh\n"
               "j=\"$1\"\n"
               "echo \"start $TENURE_TOKEN $TENURE_IDENTITY $$\" >> \"$j\"\n"
               "trap 'echo \"stop $TENURE_TOKEN $TENURE_IDENTITY $$\" >> \"$j\"; exit 0' TERM\n"
               "while :; do echo \"tick $TENURE_TOKEN $TENURE_IDENTITY $$\" >> \"$j\"; "
               "sleep 0.02; done\n",
               true);
  }

  // Runs the CLI to completion.
  Output cli(const std::vector<std::string>& args, milliseconds limit = 20s) {
    auto n = std::to_string(++runs_);
    Proc p(args, dir_ / ("cli" + n + ".out"), dir_ / ("cli" + n + ".err"));
    auto code = p.wait(limit);
    if (!code) ADD_FAILURE() << "tenure did not finish within " << limit.count() << " ms";
    return {code.value_or(-1), p.out(), p.err()};
  }

  nlohmann::json status_json(const std::string& election) {
    auto r = cli({"status", "-b", store_, "-e", election, "--json"});
    EXPECT_EQ(r.code, 0) << r.err;
    try {
      return nlohmann::json::parse(r.out);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "status --json printed no JSON: '" << r.out << "': " << e.what();
      return nlohmann::json::object();
    }
  }

  // A `tenure run` candidate whose CMD is the journal script.
  std::unique_ptr<Proc> candidate(const std::string& election, const std::string& id,
                                  std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"run", "-b", store_, "-e", election, "-i", id, "--grace", "3000"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--", "/bin/sh", script_.string(), journal_.string()});
    auto p = std::make_unique<Proc>(args, dir_ / (id + ".out"), dir_ / (id + ".err"));
    wait_ready(*p);
    return p;
  }

  // A signal that arrives before tenure's main() has blocked it kills it the default way: tests
  // that signal a process wait until it runs as a candidate.
  static void wait_ready(Proc& p) {
    EXPECT_TRUE(wait_until(
        [&] { return p.err().find("candidate in election") != std::string::npos || !p.running(); },
        kLong))
        << p.err();
  }

  struct Entry {
    std::string kind;
    uint64_t token = 0;
    std::string id;
    pid_t pid = 0;
  };

  std::vector<Entry> journal() const {
    std::vector<Entry> out;
    for (auto& line : lines_of(read_file(journal_))) {
      std::stringstream ss(line);
      Entry e;
      ss >> e.kind >> e.token >> e.id >> e.pid;
      out.push_back(e);
    }
    return out;
  }

  std::vector<Entry> starts() const {
    std::vector<Entry> s;
    for (auto& e : journal())
      if (e.kind == "start") s.push_back(e);
    return s;
  }

  bool wait_starts(size_t n, milliseconds limit = kLong) {
    return wait_until([&] { return starts().size() >= n; }, limit);
  }

  // The invariant: CMDs never overlap, and every new CMD has a greater token.
  void check_journal() const {
    auto j = journal();
    ASSERT_FALSE(j.empty());
    ASSERT_EQ(j.front().kind, "start");
    uint64_t current = 0;
    bool any = false;
    for (size_t i = 0; i < j.size(); ++i) {
      const auto& e = j[i];
      if (e.kind == "start") {
        if (any) {
          EXPECT_GT(e.token, current) << "line " << i << ": a new CMD did not get a greater token";
        }
        current = e.token;
        any = true;
      } else {
        EXPECT_EQ(e.token, current)
            << "line " << i << ": '" << e.kind << " " << e.token << " " << e.id << "' after 'start "
            << current << "': two CMDs ran at once";
      }
    }
  }

  TempDir dir_;
  std::string store_;
  fs::path journal_, script_;
  int runs_ = 0;
};

// ---------------------------------------------------------------------------------------------
// run: failover, handover, parent death, grace, policies

TEST_F(CliTest, KillNineLeaderOneSuccessorTokenGrowsNoOverlap) {
  std::map<std::string, std::unique_ptr<Proc>> cands;
  for (std::string id : {"c0", "c1", "c2"}) cands[id] = candidate("failover", id);

  ASSERT_TRUE(wait_starts(1)) << "no CMD started";
  auto first = starts()[0];
  ASSERT_TRUE(cands.count(first.id));
  EXPECT_EQ(status_json("failover")["holder"], first.id);

  for (int round = 1; round <= 2; ++round) {
    auto leader = starts().back();
    cands[leader.id]->signal(SIGKILL);
    ASSERT_TRUE(cands[leader.id]->wait(kLong)) << "killed CLI did not exit";
    ASSERT_TRUE(wait_starts(round + 1)) << "no successor's CMD started after kill -9";
    auto next = starts().back();
    EXPECT_NE(next.id, leader.id);
    EXPECT_GT(next.token, leader.token) << "the fencing token must grow";
    // The killed CLI's CMD died with it (parent-death signal).
    EXPECT_TRUE(wait_until([&] { return process_gone(leader.pid); }, 5s))
        << "CMD " << leader.pid << " survived its CLI";
    // Exactly one successor: give a second one every chance to appear, then look.
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(starts().size(), static_cast<size_t>(round + 1)) << "more than one successor";
    auto st = status_json("failover");
    EXPECT_EQ(st["holder"], next.id);
    EXPECT_EQ(st["token"].get<uint64_t>(), next.token);
    cands.erase(leader.id);
  }
  ASSERT_EQ(cands.size(), 1u);
  auto& last = cands.begin()->second;
  last->signal(SIGTERM);
  EXPECT_EQ(last->wait(kLong), 0) << last->err();
  check_journal();
  EXPECT_EQ(journal().back().kind, "stop");
}

TEST_F(CliTest, SigtermStopsCmdReleasesAndSuccessorTakesOverQuickly) {
  auto a = candidate("handover", "a");
  ASSERT_TRUE(wait_starts(1));
  auto b = candidate("handover", "b");
  // b is a candidate once it has seen a as leader.
  ASSERT_TRUE(wait_until([&] { return b->err().find("leader is a") != std::string::npos; }, kLong))
      << b->err();
  auto t0 = Clock::now();
  a->signal(SIGTERM);
  ASSERT_TRUE(wait_starts(2));
  auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
  // The lease lasts 15 s by default: a successor within seconds means it was released.
  EXPECT_LT(took, 5s) << "successor took " << took.count() << " ms";
  EXPECT_EQ(a->wait(kLong), 0) << a->err();
  EXPECT_NE(a->err().find("released leadership"), std::string::npos) << a->err();

  auto j = journal();
  // a's CMD was stopped (its "stop" line) before b's CMD started.
  size_t stop_a = j.size(), start_b = j.size();
  for (size_t i = 0; i < j.size(); ++i) {
    if (j[i].kind == "stop" && j[i].id == "a" && stop_a == j.size()) stop_a = i;
    if (j[i].kind == "start" && j[i].id == "b" && start_b == j.size()) start_b = i;
  }
  ASSERT_LT(stop_a, j.size()) << "a's CMD never got SIGTERM";
  ASSERT_LT(start_b, j.size());
  EXPECT_LT(stop_a, start_b);
  b->signal(SIGTERM);
  EXPECT_EQ(b->wait(kLong), 0);
  check_journal();
}

TEST_F(CliTest, SigkillOfCliKillsCmd) {
  auto a = candidate("pdeath", "a");
  ASSERT_TRUE(wait_starts(1));
  pid_t cmd = starts()[0].pid;
  ASSERT_FALSE(process_gone(cmd));
  a->signal(SIGKILL);
  ASSERT_TRUE(a->wait(kLong));
  EXPECT_TRUE(wait_until([&] { return process_gone(cmd); }, 5s)) << "CMD outlived its CLI";
  // And the lease went with the process: no holder now.
  EXPECT_TRUE(wait_until([&] { return status_json("pdeath")["holder"].is_null(); }, 5s));
}

TEST_F(CliTest, CmdIgnoringSigtermIsKilledAfterGrace) {
  auto script = dir_ / "stubborn.sh";
  write_file(script,
             "#!/bin/sh\ntrap '' TERM\necho \"start $TENURE_TOKEN $TENURE_IDENTITY $$\" >> \"$1\"\n"
             "while :; do sleep 0.02; done\n",
             true);
  Proc a({"run", "-b", store_, "-e", "grace", "-i", "a", "--grace", "300", "--", script.string(),
          journal_.string()},
         dir_ / "a.out", dir_ / "a.err");
  ASSERT_TRUE(wait_starts(1));
  pid_t cmd = starts()[0].pid;
  auto t0 = Clock::now();
  a.signal(SIGTERM);
  EXPECT_EQ(a.wait(kLong), 0) << a.err();
  EXPECT_GE(Clock::now() - t0, 250ms) << "CMD was killed before the grace period ended";
  EXPECT_TRUE(process_gone(cmd));
  EXPECT_NE(a.err().find("SIGKILL"), std::string::npos) << a.err();
}

TEST_F(CliTest, EnvironmentCarriesElectionIdentityAndToken) {
  auto env_file = dir_ / "env";
  Proc a({"run", "-b", store_, "-e", "envtest", "-i", "web-1", "--", "/bin/sh", "-c",
          "env | grep '^TENURE_' | sort > " + env_file.string() + ".tmp && mv " +
              env_file.string() + ".tmp " + env_file.string() + "; exec sleep 60"},
         dir_ / "a.out", dir_ / "a.err");
  ASSERT_TRUE(wait_until([&] { return fs::exists(env_file); }, kLong)) << a.err();
  auto st = status_json("envtest");
  auto token = st["token"].get<uint64_t>();
  EXPECT_GE(token, 1u);
  auto env = read_file(env_file);
  EXPECT_NE(env.find("TENURE_ELECTION=envtest\n"), std::string::npos) << env;
  EXPECT_NE(env.find("TENURE_IDENTITY=web-1\n"), std::string::npos) << env;
  EXPECT_NE(env.find("TENURE_TOKEN=" + std::to_string(token) + "\n"), std::string::npos) << env;
  a.signal(SIGINT);
  EXPECT_EQ(a.wait(kLong), 0) << a.err();
}

TEST_F(CliTest, OnExitDefaultExitsWithCmdStatusAndReleases) {
  auto r = cli({"run", "-b", store_, "-e", "exitcode", "--", "/bin/sh", "-c", "exit 7"});
  EXPECT_EQ(r.code, 7) << r.err;
  EXPECT_TRUE(status_json("exitcode")["holder"].is_null());
  auto s = cli({"run", "-b", store_, "-e", "exitcode", "--", "/bin/sh", "-c", "kill -USR1 $$"});
  EXPECT_EQ(s.code, 128 + SIGUSR1) << s.err;
}

TEST_F(CliTest, OnExitRestartKeepsLeadershipAndToken) {
  Proc a({"run", "-b", store_, "-e", "restart", "-i", "a", "--on-exit", "restart",
          "--restart-delay", "50", "--", "/bin/sh", "-c",
          "echo \"start $TENURE_TOKEN $TENURE_IDENTITY $$\" >> " + journal_.string()},
         dir_ / "a.out", dir_ / "a.err");
  ASSERT_TRUE(wait_starts(3)) << a.err();
  auto s = starts();
  EXPECT_EQ(s[0].token, s[2].token) << "restarted within one term: same token";
  a.signal(SIGTERM);
  EXPECT_EQ(a.wait(kLong), 0) << a.err();
}

TEST_F(CliTest, OnExitReleaseHandsLeadershipOn) {
  std::vector<std::string> cmd{
      "--", "/bin/sh", "-c",
      "echo \"start $TENURE_TOKEN $TENURE_IDENTITY $$\" >> " + journal_.string() + "; sleep 0.1"};
  std::vector<std::string> base{"run", "-b", store_, "-e", "release", "--on-exit", "release"};
  auto args_for = [&](const std::string& id) {
    auto v = base;
    v.insert(v.end(), {"-i", id});
    v.insert(v.end(), cmd.begin(), cmd.end());
    return v;
  };
  Proc a(args_for("a"), dir_ / "a.out", dir_ / "a.err");
  ASSERT_TRUE(wait_starts(1));
  Proc b(args_for("b"), dir_ / "b.out", dir_ / "b.err");
  wait_ready(b);
  // Each leader's CMD ends quickly, the leader resigns (and sits out a retry period): the other
  // one takes over, with a greater token.
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = starts();
        for (size_t i = 1; i < s.size(); ++i)
          if (s[i].id != s[i - 1].id) return true;
        return false;
      },
      kLong))
      << a.err() << b.err();
  auto s = starts();
  for (size_t i = 1; i < s.size(); ++i) EXPECT_GT(s[i].token, s[i - 1].token);
  a.signal(SIGTERM);
  b.signal(SIGTERM);
  EXPECT_EQ(a.wait(kLong), 0);
  EXPECT_EQ(b.wait(kLong), 0);
}

TEST_F(CliTest, RepeatedKillsAndStopsNeverOverlap) {
  // Churn: each round the leader is killed (-9) or stopped (TERM) and a fresh candidate joins.
  std::map<std::string, std::unique_ptr<Proc>> cands;
  int next_id = 0;
  auto add = [&] {
    std::string id = "n" + std::to_string(next_id++);
    cands[id] = candidate("churn", id);
  };
  for (int i = 0; i < 3; ++i) add();
  for (size_t round = 1; round <= 6; ++round) {
    ASSERT_TRUE(wait_starts(round)) << "round " << round << ": no CMD started";
    auto leader = starts().back();
    ASSERT_TRUE(cands.count(leader.id));
    cands[leader.id]->signal(round % 2 ? SIGKILL : SIGTERM);
    auto code = cands[leader.id]->wait(kLong);
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, round % 2 ? 128 + SIGKILL : 0);
    cands.erase(leader.id);
    add();
  }
  ASSERT_TRUE(wait_starts(7));
  for (auto& [id, p] : cands) p->signal(SIGTERM);
  for (auto& [id, p] : cands) EXPECT_EQ(p->wait(kLong), 0) << id << ": " << p->err();
  check_journal();
  for (auto& e : starts()) EXPECT_TRUE(wait_until([&] { return process_gone(e.pid); }, 5s));
}

// A leader paused (SIGSTOP) for longer than the safety margin steps down when it resumes; its
// CMD needs a moment to stop. The successor's CMD must not start before that: the core holds the
// lease after an involuntary step-down until the CLI acknowledges that CMD is gone.
TEST_F(CliTest, PausedLeaderStepsDownWithoutOverlap) {
  auto script = dir_ / "draining.sh";
  write_file(script,
             "#!/bin/sh\nj=\"$1\"\necho \"start $TENURE_TOKEN $TENURE_IDENTITY $$\" >> \"$j\"\n"
             "trap 'for i in 1 2 3 4 5; do echo \"drain $TENURE_TOKEN $TENURE_IDENTITY $$\" >> "
             "\"$j\"; sleep 0.05; done; exit 0' TERM\n"
             "while :; do echo \"tick $TENURE_TOKEN $TENURE_IDENTITY $$\" >> \"$j\"; sleep 0.02; "
             "done\n",
             true);
  auto run = [&](const std::string& id) {
    auto p = std::make_unique<Proc>(
        std::vector<std::string>{"run", "-b", store_, "-e", "pause", "-i", id, "--lease-duration",
                                 "3000", "--renew-deadline", "2000", "--retry-period", "500", "--",
                                 script.string(), journal_.string()},
        dir_ / (id + ".out"), dir_ / (id + ".err"));
    wait_ready(*p);
    return p;
  };
  auto a = run("a");
  ASSERT_TRUE(wait_starts(1));
  auto b = run("b");
  a->signal(SIGSTOP);
  std::this_thread::sleep_for(2500ms);  // longer than lease_duration - renew_deadline
  a->signal(SIGCONT);
  ASSERT_TRUE(wait_starts(2)) << a->err() << b->err();
  std::this_thread::sleep_for(500ms);
  a->signal(SIGTERM);
  b->signal(SIGTERM);
  EXPECT_EQ(a->wait(kLong), 0);
  EXPECT_EQ(b->wait(kLong), 0);
  check_journal();
  if (HasFailure()) std::cerr << a->err() << b->err();
}

// ---------------------------------------------------------------------------------------------
// status and watch

TEST_F(CliTest, StatusJsonWithoutAndWithLeader) {
  auto none = status_json("st");
  EXPECT_EQ(none["election"], "st");
  EXPECT_TRUE(none["holder"].is_null());
  EXPECT_TRUE(none.contains("token"));
  EXPECT_TRUE(none["age_ms"].is_null());
  EXPECT_TRUE(none["expires_in_ms"].is_null());

  auto a =
      candidate("st", "a",
                {"--lease-duration", "6000", "--renew-deadline", "4000", "--retry-period", "1000"});
  ASSERT_TRUE(wait_starts(1));
  auto j = status_json("st");
  EXPECT_EQ(j["election"], "st");
  EXPECT_EQ(j["holder"], "a");
  EXPECT_EQ(j["token"].get<uint64_t>(), starts()[0].token);
  ASSERT_TRUE(j["age_ms"].is_number()) << j.dump();
  EXPECT_GE(j["age_ms"].get<int64_t>(), 0);
  ASSERT_TRUE(j["expires_in_ms"].is_number()) << j.dump();
  EXPECT_GE(j["expires_in_ms"].get<int64_t>(), 0);
  EXPECT_LE(j["expires_in_ms"].get<int64_t>(), 6000);
  EXPECT_EQ(j["lease_duration_ms"], 6000);

  auto human = cli({"status", "-b", store_, "-e", "st"});
  EXPECT_EQ(human.code, 0);
  EXPECT_NE(human.out.find("holder:     a"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("expires in:"), std::string::npos) << human.out;
  a->signal(SIGTERM);
  EXPECT_EQ(a->wait(kLong), 0);
  EXPECT_TRUE(status_json("st")["holder"].is_null());
}

// A damaged lease record (issue 14): status reports the file and the field instead of printing
// a wrapped token (-1 used to show as 18446744073709551615), and `run` never leads on it.
TEST_F(CliTest, StatusOfADamagedRecordNamesItAndPrintsNoToken) {
  const fs::path store = dir_ / "store";
  fs::create_directories(store);
  for (const char* token : {"-1", "18446744073709551615", "1e300"}) {
    write_file(store / "dmg.lease", std::string(R"({"holder":"","token":)") + token + "}");
    auto r = cli({"status", "-b", store_, "-e", "dmg", "--json"});
    EXPECT_EQ(r.code, 3) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_NE(r.err.find((store / "dmg.lease").string()), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("'token'"), std::string::npos) << r.err;
  }
}

TEST_F(CliTest, WatchJsonLinesFollowLeadership) {
  Proc w({"watch", "-b", store_, "-e", "w", "--json"}, dir_ / "w.out", dir_ / "w.err");
  auto events = [&] {
    std::vector<nlohmann::json> out;
    for (auto& l : lines_of(w.out())) out.push_back(nlohmann::json::parse(l));
    return out;
  };
  ASSERT_TRUE(wait_until([&] { return !events().empty(); }, kLong)) << w.err();
  EXPECT_TRUE(events()[0]["holder"].is_null());
  auto a = candidate("w", "a");
  ASSERT_TRUE(wait_until([&] { return events().back()["holder"] == "a"; }, kLong)) << w.out();
  ASSERT_TRUE(wait_starts(1));
  EXPECT_EQ(events().back()["token"].get<uint64_t>(), starts()[0].token);
  a->signal(SIGTERM);
  EXPECT_EQ(a->wait(kLong), 0);
  ASSERT_TRUE(wait_until([&] { return events().back()["holder"].is_null(); }, kLong)) << w.out();
  for (auto& e : events()) {
    EXPECT_EQ(e["election"], "w");
    EXPECT_TRUE(e.contains("holder") && e.contains("token"));
    EXPECT_TRUE(e["time"].is_string());
    EXPECT_TRUE(e["time_unix_ms"].is_number());
  }
  w.signal(SIGTERM);
  EXPECT_EQ(w.wait(kLong), 0) << w.err();

  Proc h({"watch", "-b", store_, "-e", "w"}, dir_ / "h.out", dir_ / "h.err");
  ASSERT_TRUE(wait_until([&] { return h.out().find("no leader") != std::string::npos; }, kLong));
  h.signal(SIGINT);
  EXPECT_EQ(h.wait(kLong), 0);
}

// ---------------------------------------------------------------------------------------------
// bad input: exit 2, one clear line on stderr, nothing on stdout

struct BadInput {
  std::vector<std::string> args;  // "@" is replaced by the test's temporary directory
  std::string expect;             // in the error line
};

void PrintTo(const BadInput& b, std::ostream* os) {
  *os << "tenure";
  for (auto& a : b.args) *os << " '" << a << "'";
}

class CliBadInputTest : public CliTest, public ::testing::WithParamInterface<BadInput> {};

TEST_P(CliBadInputTest, ExitsTwoWithOneLine) {
  write_file(dir_ / "plainfile", "x");
  std::vector<std::string> args;
  for (auto a : GetParam().args) {
    for (size_t p; (p = a.find('@')) != std::string::npos;) a.replace(p, 1, dir_.path().string());
    args.push_back(a);
  }
  std::string expect = GetParam().expect;
  for (size_t p; (p = expect.find('@')) != std::string::npos;)
    expect.replace(p, 1, dir_.path().string());
  auto r = cli(args);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
  EXPECT_NE(r.err.find("error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(expect), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CliBadInputTest,
    ::testing::Values(
        BadInput{{}, "subcommand"},
        BadInput{{"frobnicate"},
                 "unknown subcommand 'frobnicate': the subcommands are run, status and watch"},
        BadInput{{"stat", "-e", "x"}, "did you mean 'status'?"},
        BadInput{{"--backend", "file:///tmp/x"}, "'--backend' must follow a subcommand"},
        BadInput{{"status", "-e", "x"}, "--backend is required"},
        BadInput{{"status", "-b", "bogus://h/x", "-e", "x"}, "unknown scheme 'bogus'"},
        BadInput{{"status", "-b", "not a url", "-e", "x"}, "backend URL"},
        BadInput{{"watch", "-b", "file//@/s", "-e", "x"}, "backend URL"},
        BadInput{{"status", "-b", "file://somehost/x", "-e", "x"}, "three slashes"},
        BadInput{{"status", "-b", "file://@/s", "-e", "bad name!"}, "election name"},
        BadInput{{"status", "-b", "file://@/s", "-e", ""}, "election name is empty"},
        BadInput{{"run", "-b", "file://@/s", "-e", "x", "-i", "has space", "--", "true"},
                 "identity"},
        BadInput{{"run", "-b", "file://@/s", "-e", "x", "--lease-duration", "3000",
                  "--renew-deadline", "4000", "--retry-period", "1000", "--", "true"},
                 "lease_duration must be greater than renew_deadline"},
        BadInput{{"watch", "-b", "file://@/s", "-e", "x", "--retry-period", "0"},
                 "retry_period must be positive"},
        BadInput{{"status", "-b", "file://@/s", "-e", "x", "--lease-duration", "abc"},
                 "--lease-duration"},
        BadInput{{"status", "-b", "file://@/plainfile/sub", "-e", "x"}, "@/plainfile"},
        BadInput{{"status", "-b", "file://@/plainfile", "-e", "x"}, "not a directory"},
        BadInput{{"run", "-b", "file://@/s", "-e", "x"}, "no command given"},
        BadInput{{"run", "-b", "file://@/s", "-e", "x", "--", "no-such-command-xyz"},
                 "not found in PATH"},
        BadInput{{"run", "-b", "file://@/s", "-e", "x", "--", "@/plainfile"}, "not an executable"},
        BadInput{{"run", "-b", "file://@/s", "-e", "x", "--on-exit", "sometimes", "--", "true"},
                 "--on-exit"},
        BadInput{{"run", "-b", "file://@/s", "-e", "x", "--grace", "-5", "--", "true"}, "--grace"},
        BadInput{{"run", "-b", "file://@/s", "-e", "x", "--backend-opt", "novalue", "--", "true"},
                 "key=value"},
        BadInput{{"status", "-b", "file://@/s", "-e", "x", "--bogus"}, "--bogus"},
        BadInput{{"status", "-b", "file://@/s", "-e", "x", "--", "true"}, "only 'tenure run'"}));

TEST_F(CliTest, UnwritableDirectoryIsBadInput) {
  if (::geteuid() == 0) GTEST_SKIP() << "root can write anywhere; the ENOTDIR case covers this";
  auto ro = dir_ / "ro";
  fs::create_directory(ro);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
  auto r = cli({"status", "-b", "file://" + ro.string(), "-e", "x"});
  fs::permissions(ro, fs::perms::owner_all);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("not writable"), std::string::npos) << r.err;
}

// A server that accepts the connection and never answers: `status` gives up after --timeout with
// exit 4, promptly (it does not wait for the backend's own request timeout), and the message names
// the server without its secrets.
TEST_F(CliTest, StatusWithoutAnswerExitsFourPromptlyWithoutSecrets) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 16), 0);  // the kernel completes handshakes; nobody ever reads
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::string port = std::to_string(ntohs(a.sin_port));
  const auto t0 = Clock::now();
  auto r = cli({"status", "-b", "postgres://app:s3cret@127.0.0.1:" + port + "/db?password=s3cret2",
                "-e", "x", "--timeout", "500"});
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
  ::close(fd);
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.err.find("no answer from postgres://app:***@127.0.0.1:" + port), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("500 ms"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("s3cret"), std::string::npos) << r.err;
  // The backend's own request timeout here is 4 s; status must not wait for it.
  EXPECT_LT(took.count(), 3000) << r.err;
}

// Credentials the server refuses: retrying cannot fix them, so `run` and `status` end with exit 3
// and one line naming the problem, without the password.
TEST_F(CliTest, RefusedCredentialsExitThree) {
  std::string url;
  TENURE_REQUIRE_ENV("TENURE_TEST_POSTGRES_URL", url,
                     "start a server with `tests/servers/postgres.sh start DIR && source "
                     "DIR/postgres.env`");
  const auto at = url.find('@');
  const auto colon = url.rfind(':', at);
  ASSERT_NE(at, std::string::npos);
  const std::string bad = url.substr(0, colon + 1) + "not-the-password" + url.substr(at);
  auto st = cli({"status", "-b", bad, "-e", "x", "--timeout", "10000"});
  EXPECT_EQ(st.code, 3) << st.err;
  EXPECT_NE(st.err.find("TENURE_E_AUTH_FAILED"), std::string::npos) << st.err;
  EXPECT_EQ(st.err.find("not-the-password"), std::string::npos) << st.err;
  auto run =
      cli({"run", "-b", bad, "-e", "x", "--", "/bin/sh", "-c", "echo ran >> " + journal_.string()});
  EXPECT_EQ(run.code, 3) << run.err;
  EXPECT_NE(run.err.find("refused the credentials"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("not-the-password"), std::string::npos) << run.err;
  EXPECT_FALSE(fs::exists(journal_)) << "CMD must not run without leadership";
}

TEST_F(CliTest, HelpForEachSubcommand) {
  for (std::string sub : {"run", "status", "watch"}) {
    auto r = cli({sub, "--help"});
    EXPECT_EQ(r.code, 0) << sub;
    EXPECT_NE(r.out.find("--backend"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Exit codes"), std::string::npos) << r.out;
  }
  auto r = cli({"run", "--help"});
  EXPECT_NE(r.out.find("TENURE_TOKEN"), std::string::npos);
  EXPECT_NE(r.out.find("--on-exit"), std::string::npos);
}

// One HTTP/1.0 GET on loopback: "" when nothing answers.
std::string http_get(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    std::string req = "GET " + path + " HTTP/1.0\r\n\r\n";
    [[maybe_unused]] auto n = ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    char buf[4096];
    ssize_t k;
    while ((k = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(k));
  }
  ::close(fd);
  return out;
}

// A free loopback port, by binding port 0 and letting it go.
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

TEST_F(CliTest, MetricsAddrServesMetricsAndHealth) {
  const int port = free_port();
  auto a = candidate("metrics", "a", {"--metrics-addr", "127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(wait_starts(1));
  std::string health;
  ASSERT_TRUE(wait_until(
      [&] { return (health = http_get(port, "/healthz")).find("200 OK") != std::string::npos; },
      kLong))
      << health << a->err();
  EXPECT_NE(health.find("leader"), std::string::npos) << health;
  auto metrics = http_get(port, "/metrics");
  EXPECT_NE(metrics.find("tenure_elector_leader{election=\"metrics\",identity=\"a\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("# TYPE tenure_elector_renew_latency_seconds histogram"),
            std::string::npos);
  EXPECT_NE(http_get(port, "/nope").find("404"), std::string::npos);
  a->signal(SIGTERM);
  EXPECT_EQ(a->wait(kLong), 0) << a->err();
}

TEST_F(CliTest, HealthzIs503WhenTheBackendDoesNotAnswer) {
  const int port = free_port();
  // Nothing listens on port 1: no answer, so unhealthy once renew_deadline has passed.
  Proc p({"run", "-b", "redis://127.0.0.1:1", "-e", "unhealthy", "--lease-duration", "1500",
          "--renew-deadline", "1000", "--retry-period", "200", "--metrics-addr",
          "127.0.0.1:" + std::to_string(port), "--", "/bin/true"},
         dir_ / "h.out", dir_ / "h.err");
  std::string health;
  ASSERT_TRUE(wait_until(
      [&] { return (health = http_get(port, "/healthz")).find("503") != std::string::npos; },
      kLong))
      << health << p.err();
  EXPECT_NE(health.find("renew_deadline"), std::string::npos) << health;
  p.signal(SIGTERM);
  p.wait(kLong);
}

}  // namespace
