#include "fault_proxy.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <deque>
#include <future>
#include <set>
#include <thread>

namespace tenure::faults {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// What the proxy does to each direction right now.
struct Faults {
  bool hold_c2s = false;
  bool hold_s2c = false;
  std::chrono::milliseconds delay_s2c{0};
  bool any_hold() const { return hold_c2s || hold_s2c; }
};

class Pair;

// One direction of one connection: reads from `from`, queues chunks (with the time they may be
// sent, for delays), writes them to `to` in order. The end of `from` (EOF or error) is queued as
// well, so it reaches `to` after the data and, like the data, only while the direction flows.
struct Direction {
  Direction(tcp::socket& f, tcp::socket& t, bool c2s_)
      : from(f), to(t), c2s(c2s_), timer(f.get_executor()) {}
  struct Chunk {
    Clock::time_point due;
    std::vector<char> data;  // empty: the end of the stream
  };
  tcp::socket& from;
  tcp::socket& to;
  bool c2s;
  asio::steady_timer timer;
  std::array<char, 16384> buf{};
  std::deque<Chunk> queue;
  bool reading = false, writing = false, read_ended = false, delivered_end = false;
};

class Pair : public std::enable_shared_from_this<Pair> {
 public:
  Pair(tcp::socket client, asio::io_context& io, const Faults& f, std::set<Pair*>& live)
      : client_(std::move(client)),
        server_(io),
        c2s_(client_, server_, true),
        s2c_(server_, client_, false),
        faults_(f),
        live_(live) {}

  void connect(uint16_t port) {
    live_.insert(this);
    server_.async_connect({asio::ip::address_v4::loopback(), port},
                          [self = shared_from_this()](boost::system::error_code ec) {
                            if (self->closed_) return;
                            if (ec) return self->close(true);
                            boost::system::error_code ignore;
                            self->client_.set_option(tcp::no_delay(true), ignore);
                            self->server_.set_option(tcp::no_delay(true), ignore);
                            self->connected_ = true;
                            self->kick();
                          });
  }

  // Starts or resumes whatever the current faults allow.
  void kick() {
    if (closed_ || !connected_) return;
    for (Direction* d : {&c2s_, &s2c_}) {
      read(*d);
      write(*d);
    }
  }

  // RST to both sides (abort == true) or a plain close.
  void close(bool abort) {
    if (closed_) return;
    closed_ = true;
    live_.erase(this);
    boost::system::error_code ignore;
    for (tcp::socket* s : {&client_, &server_}) {
      if (!s->is_open()) continue;
      if (abort) s->set_option(asio::socket_base::linger(true, 0), ignore);
      s->close(ignore);
    }
    c2s_.timer.cancel();
    s2c_.timer.cancel();
  }

  uint16_t server_side_port() const {
    boost::system::error_code ec;
    auto ep = server_.local_endpoint(ec);
    return ec ? 0 : ep.port();
  }

 private:
  bool held(const Direction& d) const { return d.c2s ? faults_.hold_c2s : faults_.hold_s2c; }

  void read(Direction& d) {
    if (d.reading || d.read_ended || held(d)) return;
    d.reading = true;
    d.from.async_read_some(asio::buffer(d.buf), [self = shared_from_this(), &d](
                                                    boost::system::error_code ec, size_t n) {
      d.reading = false;
      if (self->closed_) return;
      auto due = Clock::now() + (d.c2s ? std::chrono::milliseconds(0) : self->faults_.delay_s2c);
      if (ec) {
        d.read_ended = true;
        d.queue.push_back({due, {}});
      } else {
        d.queue.push_back({due, std::vector<char>(d.buf.data(), d.buf.data() + n)});
      }
      self->write(d);
      self->read(d);
    });
  }

  void write(Direction& d) {
    if (d.writing || d.queue.empty() || held(d)) return;
    auto& c = d.queue.front();
    if (c.due > Clock::now()) {
      d.writing = true;
      d.timer.expires_at(c.due);
      d.timer.async_wait([self = shared_from_this(), &d](boost::system::error_code) {
        d.writing = false;
        if (!self->closed_) self->write(d);
      });
      return;
    }
    if (c.data.empty()) {  // the source ended: pass the end on, after everything before it
      d.queue.clear();
      d.delivered_end = true;
      boost::system::error_code ignore;
      d.to.shutdown(tcp::socket::shutdown_send, ignore);
      if (c2s_.delivered_end && s2c_.delivered_end) close(false);
      return;
    }
    d.writing = true;
    asio::async_write(d.to, asio::buffer(c.data),
                      [self = shared_from_this(), &d](boost::system::error_code ec, size_t) {
                        d.writing = false;
                        if (self->closed_) return;
                        d.queue.pop_front();
                        // A dead receiver: the other direction reads that end from it.
                        if (ec) d.queue.clear();
                        self->write(d);
                      });
  }

  tcp::socket client_, server_;
  Direction c2s_, s2c_;
  const Faults& faults_;
  std::set<Pair*>& live_;
  bool connected_ = false, closed_ = false;
};

}  // namespace

struct FaultProxy::Impl {
  Impl(uint16_t target, uint16_t listen) : target_port(target), acceptor(io) {
    tcp::endpoint ep(asio::ip::address_v4::loopback(), listen);
    acceptor.open(ep.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen(128);
    port = acceptor.local_endpoint().port();
    accept();
    thread = std::thread([this] { io.run(); });
  }
  void accept() {
    if (accepting || faults.any_hold() || !acceptor.is_open()) return;
    accepting = true;
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket s) {
      accepting = false;
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        auto p = std::make_shared<Pair>(std::move(s), io, faults, live);
        pairs.insert(p);
        p->connect(target_port);
      }
      accept();
    });
  }

  // Runs fn on the proxy's thread and waits for it.
  template <class F>
  auto run(F fn) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto fut = task.get_future();
    asio::post(io, [&task] { task(); });
    return fut.get();
  }

  ~Impl() {
    run([this] {
      boost::system::error_code ignore;
      acceptor.close(ignore);
      for (Pair* p : std::set<Pair*>(live)) p->close(true);
    });
    io.stop();
    thread.join();
  }

  void set(Faults f) {
    run([this, f] {
      faults = f;
      // Drop the pairs that have closed; the live ones resume what the new faults allow.
      for (auto it = pairs.begin(); it != pairs.end();)
        it = live.count(it->get()) ? std::next(it) : pairs.erase(it);
      for (auto& p : pairs) p->kick();
      accept();
    });
  }

  uint16_t target_port;
  uint16_t port = 0;
  asio::io_context io;
  // Keeps io.run() going while nothing is pending (every direction held, accepting paused).
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  tcp::acceptor acceptor;
  Faults faults;
  std::set<std::shared_ptr<Pair>> pairs;
  std::set<Pair*> live;
  bool accepting = false;
  std::thread thread;
};

FaultProxy::FaultProxy(uint16_t target_port, uint16_t listen_port)
    : impl_(std::make_unique<Impl>(target_port, listen_port)) {}
FaultProxy::~FaultProxy() = default;

uint16_t FaultProxy::port() const { return impl_->port; }

void FaultProxy::pass() { impl_->set({}); }
void FaultProxy::hold_client_to_server() { impl_->set({.hold_c2s = true}); }
void FaultProxy::hold_server_to_client() { impl_->set({.hold_s2c = true}); }
void FaultProxy::black_hole() { impl_->set({.hold_c2s = true, .hold_s2c = true}); }
void FaultProxy::delay_replies(std::chrono::milliseconds d) { impl_->set({.delay_s2c = d}); }

void FaultProxy::reset_all() {
  impl_->run([this] {
    for (Pair* p : std::set<Pair*>(impl_->live)) p->close(true);
    impl_->pairs.clear();
  });
}

std::vector<uint16_t> FaultProxy::server_side_ports() {
  return impl_->run([this] {
    std::vector<uint16_t> ports;
    for (Pair* p : impl_->live)
      if (uint16_t port = p->server_side_port()) ports.push_back(port);
    return ports;
  });
}

size_t FaultProxy::open_connections() {
  return impl_->run([this] { return impl_->live.size(); });
}

}  // namespace tenure::faults
