// The one reconnect/retry backoff policy of every network backend.
//
// Numbers (kBackoff): the first delay is 50 ms, each further failure doubles it, capped at 2 s;
// each delay is then shortened by a random part of up to 20 % (so 40..50 ms, 80..100 ms, ...,
// 1.6..2 s) to keep many electors from reconnecting in step. reset() after a success.
#pragma once

#include <chrono>
#include <cstdint>

namespace tenure::net {

using std::chrono::milliseconds;

struct BackoffPolicy {
  milliseconds initial{50};
  double factor = 2.0;
  milliseconds max{2000};
  double jitter = 0.2;  // the delay is nominal * (1 - jitter * u), u uniform in [0, 1)
};
inline constexpr BackoffPolicy kBackoff{};

// Not thread-safe: one per connection, used on its strand.
class Backoff {
 public:
  explicit Backoff(BackoffPolicy p = kBackoff, uint64_t seed = 0);  // seed 0: random
  milliseconds next();                // the delay before the next attempt; advances
  milliseconds peek_nominal() const;  // the un-jittered delay next() would start from
  void reset() { attempt_ = 0; }
  unsigned attempts() const { return attempt_; }

 private:
  BackoffPolicy p_;
  unsigned attempt_ = 0;
  uint64_t rng_;
};

}  // namespace tenure::net
