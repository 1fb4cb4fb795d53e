// FdWatcher on a socketpair standing in for a library's socket (libpq, librdkafka).
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <future>

#include "net_test_support.hpp"
#include "tenure/net/fd_watcher.hpp"

using namespace std::chrono_literals;
using namespace tenure;
using namespace tenure::net;
using tenure::testing::Box;
using tenure::testing::IoThreads;

namespace {

// FdWatcher is used on its strand, as a connection class would.
template <class Fn>
void on(const boost::asio::any_io_executor& ex, Fn fn) {
  std::promise<void> p;
  boost::asio::post(ex, [&] {
    fn();
    p.set_value();
  });
  p.get_future().wait();
}

struct Pair {
  int fd[2];
  Pair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fd), 0); }
  ~Pair() {
    if (fd[0] >= 0) ::close(fd[0]);
    if (fd[1] >= 0) ::close(fd[1]);
  }
  void poke() { EXPECT_EQ(::write(fd[1], "x", 1), 1); }
};

}  // namespace

TEST(FdWatcher, WaitsForReadableAndWritableOnTheExecutor) {
  IoThreads io;
  auto ex = io.strand();
  Pair p;
  std::unique_ptr<FdWatcher> w;
  Box<Status> readable, writable;
  std::atomic<bool> inline_call{false}, returned{false};
  on(ex, [&] {
    w = std::make_unique<FdWatcher>(ex);
    w->rebind(p.fd[0]);
    w->wait(FdWatcher::Want::read, [&](Status s) { readable.set(s); });
    w->wait(FdWatcher::Want::write, [&](Status s) {
      if (!returned.load()) inline_call = true;
      writable.set(s);
    });
    returned = true;
  });
  auto wr = writable.wait();
  ASSERT_TRUE(wr && wr->ok());
  EXPECT_FALSE(inline_call.load());
  EXPECT_FALSE(readable.wait(50ms).has_value());  // nothing to read yet
  p.poke();
  auto rd = readable.wait();
  ASSERT_TRUE(rd.has_value());
  EXPECT_TRUE(rd->ok());
  on(ex, [&] { w.reset(); });
  EXPECT_NE(::fcntl(p.fd[0], F_GETFD), -1) << "the watcher closed a descriptor it does not own";
}

TEST(FdWatcher, CancelDropsTheWait) {
  IoThreads io;
  auto ex = io.strand();
  Pair p;
  std::unique_ptr<FdWatcher> w;
  Box<Status> got;
  on(ex, [&] {
    w = std::make_unique<FdWatcher>(ex);
    w->rebind(p.fd[0]);
    w->wait(FdWatcher::Want::read, [&](Status s) { got.set(s); });
    w->cancel();
  });
  p.poke();
  EXPECT_FALSE(got.wait(100ms).has_value());
  // Still bound: a new wait works.
  on(ex, [&] { w->wait(FdWatcher::Want::read, [&](Status s) { got.set(s); }); });
  ASSERT_TRUE(got.wait().has_value());
  on(ex, [&] { w.reset(); });
}

TEST(FdWatcher, SameFdNumberReopenedByTheLibrary) {
  IoThreads io;
  auto ex = io.strand();
  Pair old_pair;
  std::unique_ptr<FdWatcher> w;
  Box<Status> stale, fresh;
  const int number = old_pair.fd[0];
  on(ex, [&] {
    w = std::make_unique<FdWatcher>(ex);
    w->sync(number);
    w->wait(FdWatcher::Want::read, [&](Status s) { stale.set(s); });
  });
  // The library closes its socket and opens another that gets the same number.
  Pair next;
  ASSERT_EQ(::close(number), 0);
  ASSERT_EQ(::dup2(next.fd[0], number), number);
  ::close(next.fd[0]);
  next.fd[0] = -1;
  old_pair.fd[0] = number;  // now the new socket; closed by old_pair's destructor
  on(ex, [&] {
    w->sync(number);  // same number: sync alone would not notice
    EXPECT_EQ(w->fd(), number);
    w->rebind(number);
    w->wait(FdWatcher::Want::read, [&](Status s) { fresh.set(s); });
  });
  ASSERT_EQ(::write(next.fd[1], "y", 1), 1);
  auto r = fresh.wait();
  ASSERT_TRUE(r.has_value()) << "no readiness after rebind to the reopened socket";
  EXPECT_TRUE(r->ok());
  EXPECT_FALSE(stale.wait(50ms).has_value()) << "a wait from before rebind ran";
  on(ex, [&] { w.reset(); });
  EXPECT_NE(::fcntl(number, F_GETFD), -1);
}

TEST(FdWatcher, NoDescriptorIsBadState) {
  IoThreads io;
  auto ex = io.strand();
  std::unique_ptr<FdWatcher> w;
  Box<Status> got;
  on(ex, [&] {
    w = std::make_unique<FdWatcher>(ex);
    w->wait(FdWatcher::Want::read, [&](Status s) { got.set(s); });
  });
  auto s = got.wait();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->code, Errc::bad_state);
  on(ex, [&] {
    Pair p;
    w->rebind(p.fd[0]);
    w->release();
    EXPECT_EQ(w->fd(), -1);
    EXPECT_NE(::fcntl(p.fd[0], F_GETFD), -1);
    w.reset();
  });
}
