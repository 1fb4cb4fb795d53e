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

std::optional<Status> ConnectGate::admit() {
  std::lock_guard<std::mutex> lk(mu_);
  if (delay_.count() == 0) return std::nullopt;
  if (probing_ || Clock::now() < not_before_) return refusal_;
  probing_ = true;  // this attempt probes; the others keep failing fast until it is answered
  return std::nullopt;
}

void ConnectGate::on_connected() {
  std::lock_guard<std::mutex> lk(mu_);
  delay_ = std::chrono::milliseconds(0);
  probing_ = false;
}

void ConnectGate::on_refused(const Status& refusal) {
  std::lock_guard<std::mutex> lk(mu_);
  ++refusals_;
  refusal_ = refusal;
  probing_ = false;
  delay_ = delay_.count() == 0 ? kFirstDelay : std::min(kMaxDelay, delay_ * 2);
  // Jitter over the upper half, so processes refused together do not come back together.
  std::uniform_int_distribution<int64_t> half(delay_.count() / 2, delay_.count());
  not_before_ = Clock::now() + std::chrono::milliseconds(half(rng_));
}

void ConnectGate::on_failed() {
  std::lock_guard<std::mutex> lk(mu_);
  probing_ = false;
}

ConnectGate::Clock::duration ConnectGate::wait_left() {
  std::lock_guard<std::mutex> lk(mu_);
  if (delay_.count() == 0) return Clock::duration::zero();
  return std::max(Clock::duration::zero(), not_before_ - Clock::now());
}

uint64_t ConnectGate::refusals() {
  std::lock_guard<std::mutex> lk(mu_);
  return refusals_;
}

}  // namespace tenure::backends::pg
