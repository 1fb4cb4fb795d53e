// libFuzzer target: the records tenure parses from storage it does not fully control: the file
// backend's lease and run-once records (JSON), and the Redis lease value. Checks that whatever
// parses is within the documented ranges (a token never above 2^63-1).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "file/file_store.hpp"
#include "redis/redis_session.hpp"
#include "tenure/fencing.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tenure;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto l = backends::file::parse_lease("/fuzz/job.lease", text);
  if (l.ok()) {
    if (l.value.token > kMaxFencingToken || l.value.lease_duration_ms < 0 ||
        l.value.acquired_unix_ms < 0 || l.value.pid < 0)
      std::abort();
    (void)backends::file::next_token("/fuzz/job.lease", l.value.token);
  } else if (l.status.message.find("/fuzz/job.lease") == std::string::npos) {
    std::abort();  // a bad record is always reported with its path
  }
  auto r = backends::file::parse_run("/fuzz/run.json", text);
  if (r.ok() && (r.value.token == 0 || r.value.token > kMaxFencingToken)) std::abort();
  LeaseRecord rec;
  if (backends::redis::parse_lease_value(text, rec) && rec.token > kMaxFencingToken) std::abort();
  return 0;
}
