#include "tenure/net/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace tenure::net {

Backoff::Backoff(BackoffPolicy p, uint64_t seed) : p_(p), rng_(seed) {
  if (rng_ == 0) rng_ = std::random_device{}() | (uint64_t(std::random_device{}()) << 32) | 1;
}

milliseconds Backoff::peek_nominal() const {
  const double v =
      double(p_.initial.count()) * std::pow(p_.factor, double(std::min(attempt_, 62u)));
  return milliseconds(int64_t(std::min(v, double(p_.max.count()))));
}

milliseconds Backoff::next() {
  const milliseconds nominal = peek_nominal();
  ++attempt_;
  // xorshift64: cheap, good enough to spread reconnects; no shared state between connections.
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  const double u = double(rng_ >> 11) / double(uint64_t(1) << 53);  // [0, 1)
  const double d = double(nominal.count()) * (1.0 - p_.jitter * u);
  return milliseconds(std::max<int64_t>(1, int64_t(d)));
}

}  // namespace tenure::net
