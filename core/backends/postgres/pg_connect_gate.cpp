#include "postgres/pg_connect_gate.hpp"

#include <algorithm>
#include <map>

namespace tenure::backends::pg {

std::shared_ptr<ConnectGate> ConnectGate::for_server(const std::string& where) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<ConnectGate>> gates;
  std::lock_guard<std::mutex> lk(mu);
  for (auto it = gates.begin(); it != gates.end();)
    it = it->second.expired() ? gates.erase(it) : std::next(it);
  auto& slot = gates[where];
  auto gate = slot.lock();
  if (!gate) {
    gate = std::make_shared<ConnectGate>();
    slot = gate;
  }
  return gate;
}

ConnectGate::Admission ConnectGate::admit(std::function<bool()> turn) {
  std::lock_guard<std::mutex> lk(mu_);
  const auto now = Clock::now();
  if (limited_ && now - last_refusal_ > kQuiet) {  // the server has had room for a while
    limited_ = probing_ = false;
    delay_ = std::chrono::milliseconds(0);
  }
  if (limited_) {
    if (probing_ || now < not_before_) return {refusal_, false, false};
    probing_ = true;
    ++connecting_;
    return {std::nullopt, false, true};
  }
  if (connecting_ >= kMaxConnecting) {
    waiting_.push_back(std::move(turn));
    return {std::nullopt, true, false};
  }
  ++connecting_;
  return {};
}

void ConnectGate::next_turns(std::unique_lock<std::mutex>& lk) {
  // Limited: every waiter tries again now and is refused at once (or probes). Open: one waiter
  // per free slot.
  while (!waiting_.empty() && (limited_ || connecting_ < kMaxConnecting)) {
    auto turn = std::move(waiting_.front());
    waiting_.pop_front();
    lk.unlock();
    const bool alive = turn();
    lk.lock();
    if (alive && !limited_) break;  // it takes the slot when its turn runs; others wait
  }
}

void ConnectGate::on_connected(bool probe) {
  std::unique_lock<std::mutex> lk(mu_);
  --connecting_;
  if (probe) probing_ = false;
  // There was room: the next probe may go at once, and a refusal starts the delays over.
  delay_ = std::chrono::milliseconds(0);
  not_before_ = Clock::now();
  next_turns(lk);
}

void ConnectGate::on_refused(bool probe, const Status& refusal) {
  std::unique_lock<std::mutex> lk(mu_);
  --connecting_;
  const auto now = Clock::now();
  refusal_ = refusal;
  last_refusal_ = now;
  if (probe) probing_ = false;
  // Attempts admitted before the gate closed are refused together: they set the first delay,
  // only refused probes double it.
  if (!limited_ || probe || delay_.count() == 0) {
    limited_ = true;
    delay_ = delay_.count() == 0 ? kFirstDelay : std::min(kMaxDelay, delay_ * 2);
    // Jitter over the upper half, so processes refused together do not come back together.
    std::uniform_int_distribution<int64_t> half(delay_.count() / 2, delay_.count());
    not_before_ = now + std::chrono::milliseconds(half(rng_));
  }
  next_turns(lk);
}

void ConnectGate::on_failed(bool probe) {
  std::unique_lock<std::mutex> lk(mu_);
  --connecting_;
  if (probe) probing_ = false;
  next_turns(lk);
}

void ConnectGate::pass_turn() {
  std::unique_lock<std::mutex> lk(mu_);
  next_turns(lk);
}

ConnectGate::Clock::duration ConnectGate::wait_left() {
  std::lock_guard<std::mutex> lk(mu_);
  if (!limited_) return Clock::duration::zero();
  return std::max(Clock::duration::zero(), not_before_ - Clock::now());
}

}  // namespace tenure::backends::pg
