// File-backend specifics beyond the contract: durability, bad directories, a deleted lock file.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "../support/test_support.hpp"
#include "file/file_backend.hpp"
#include "file/file_store.hpp"

namespace tenure::testing {
namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/tenure-file-XXXXXX";
  return ::mkdtemp(tmpl);
}

std::unique_ptr<Elector> make(const std::string& dir, const std::string& id,
                              ElectorOptions* out = nullptr) {
  ElectorOptions o;
  o.backend_url = "file://" + dir;
  o.election = "job";
  o.identity = id;
  o.timing = {milliseconds(3000), milliseconds(2000), milliseconds(100)};
  if (out) *out = o;
  auto r = Elector::create(o);
  EXPECT_TRUE(r.ok()) << r.status.message;
  return std::move(r.value);
}

TEST(FileBackend, TokenSurvivesRestartsOfEveryProcess) {
  auto dir = temp_dir();
  uint64_t last = 0;
  for (int i = 0; i < 3; ++i) {
    auto e = make(dir, "p" + std::to_string(i));
    EventLog log;
    e->set_callback(log.callback());
    ASSERT_TRUE(e->start().ok());
    Event el;
    ASSERT_TRUE(log.wait_type(EventType::elected, 5s, &el));
    EXPECT_EQ(el.token, last + 1);
    last = el.token;
    ASSERT_TRUE(e->stop().ok());
  }
  auto rec = backends::file::read_lease(dir + "/job.lease");
  ASSERT_TRUE(rec.ok());
  ASSERT_TRUE(rec.value.has_value());
  EXPECT_EQ(rec.value->token, 3u);
  EXPECT_EQ(rec.value->holder, "") << "a stopped leader leaves no holder";
}

TEST(FileBackend, CorruptRecordIsAnErrorNotATokenReset) {
  auto dir = temp_dir();
  std::ofstream(dir + "/job.lease") << "{\"holder\": \"x\", \"tok";
  auto e = make(dir, "p");
  EventLog log;
  e->set_callback(log.callback());
  ASSERT_TRUE(e->start().ok());
  Event err;
  ASSERT_TRUE(log.wait_type(EventType::error, 5s, &err));
  EXPECT_NE(err.message.find("not a valid tenure record"), std::string::npos) << err.message;
  EXPECT_FALSE(e->status().is_leader);
}

TEST(FileBackend, DeletedLockFileEndsLeadership) {
  auto dir = temp_dir();
  auto e = make(dir, "p");
  EventLog log;
  e->set_callback(log.callback());
  ASSERT_TRUE(e->start().ok());
  ASSERT_TRUE(log.wait_type(EventType::elected, 5s));
  ASSERT_EQ(::unlink((dir + "/job.lock").c_str()), 0);
  Event r;
  ASSERT_TRUE(log.wait_type(EventType::revoked, 5s, &r));
  EXPECT_EQ(r.reason, RevokeReason::lost);
  EXPECT_NE(r.message.find("deleted or replaced"), std::string::npos) << r.message;
}

TEST(FileBackend, BadDirectoriesAreClearErrors) {
  ElectorOptions o;
  o.election = "job";
  o.backend_url = "file://relative/dir";
  auto r = Elector::create(o);
  EXPECT_EQ(r.status.code, Errc::bad_url);
  EXPECT_NE(r.status.message.find("three slashes"), std::string::npos) << r.status.message;
  o.backend_url = "file:///";
  EXPECT_EQ(Elector::create(o).status.code, Errc::bad_url);
  auto dir = temp_dir();
  std::ofstream(dir + "/plain") << "x";
  o.backend_url = "file://" + dir + "/plain";
  r = Elector::create(o);
  EXPECT_EQ(r.status.code, Errc::bad_url);
  EXPECT_NE(r.status.message.find("not a directory"), std::string::npos) << r.status.message;
}

// Root may write anywhere, so the unwritable case runs as an unprivileged user in a child
// process that only calls the backend factory (it starts no threads).
TEST(FileBackend, UnwritableDirectoryNamesThePermission) {
  auto dir = temp_dir();
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipefd[0]);
    if (::getuid() == 0 && ::setuid(65534) != 0) _exit(3);
    auto url = parse_url("file://" + dir + "/sub");
    BackendContext ctx{url.value, "job", "id", Timing{}, {}, nullptr, {}};
    auto r = backends::make_file_backend(ctx);
    std::string msg = std::string(errc_name(r.status.code)) + " " + r.status.message;
    [[maybe_unused]] auto n = ::write(pipefd[1], msg.data(), msg.size());
    _exit(r.ok() ? 1 : 0);
  }
  ::close(pipefd[1]);
  char buf[2048] = {0};
  ssize_t n = 0, got = 0;
  while ((n = ::read(pipefd[0], buf + got, sizeof buf - 1 - got)) > 0) got += n;
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << "expected a permission error, got: " << buf;
  std::string msg = buf;
  EXPECT_EQ(msg.rfind("TENURE_E_PERMISSION_DENIED", 0), 0u) << msg;
  EXPECT_NE(msg.find("write permission"), std::string::npos) << msg;
}

TEST(FileBackend, TwoProcessesOneIdentityIsReported) {
  const char* child = std::getenv("TENURE_TEST_CHILD");
  ASSERT_TRUE(child);
  auto dir = temp_dir();
  ChildProcess other({child, "file://" + dir, "job", "twin", "3000", "2000", "100"});
  ASSERT_FALSE(other.wait_line("elected", 20s).empty());
  auto e = make(dir, "twin");
  EventLog log;
  e->set_callback(log.callback());
  ASSERT_TRUE(e->start().ok());
  Event err;
  ASSERT_TRUE(log.wait_type(EventType::error, 5s, &err));
  EXPECT_EQ(err.code, Errc::identity_in_use) << err.message;
}

}  // namespace
}  // namespace tenure::testing
