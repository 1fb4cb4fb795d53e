// libFuzzer target: what tenure does with a Redis server's replies. The bytes are read as RESP
// by hiredis (as the connection does), copied into Replys, then given to tenure's own reply
// handling: the error mapping (it cuts grant names out of NOPERM texts), the lease value parser,
// and the number and string accessors.
#include <hiredis/hiredis.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "redis/redis_config.hpp"
#include "redis/redis_session.hpp"
#include "tenure/fencing.hpp"

namespace {

void visit(const tenure::backends::redis::Reply& r,
           const tenure::backends::redis::RedisSettings& settings, int depth) {
  using namespace tenure;
  (void)r.as_string();
  (void)r.as_int();
  (void)backends::redis::reply_error(r, settings, "acquire");
  LeaseRecord rec;
  if (backends::redis::parse_lease_value(r.as_string(), rec) && rec.token > kMaxFencingToken)
    std::abort();
  if (depth < 4)
    for (const auto& e : r.elements) visit(e, settings, depth + 1);
}

// hiredis 0.14 (Debian 12) allocates a declared array before its elements arrive and has no
// limit (1.x has maxelements): "*1777777771" asks for 14 GB. That is hiredis' behaviour, not
// tenure's parsing, so such inputs are skipped here rather than reported as out-of-memory.
bool declares_huge_array(const uint8_t* data, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    if (data[i] != '*' || (i > 0 && data[i - 1] != '\n')) continue;
    uint64_t n = 0;
    for (size_t j = i + 1; j < size && data[j] >= '0' && data[j] <= '9' && n < (1u << 20); ++j)
      n = n * 10 + (data[j] - '0');
    if (n >= (1u << 20)) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (declares_huge_array(data, size)) return 0;
  redisReader* reader = redisReaderCreate();
  if (reader == nullptr) return 0;
  tenure::backends::redis::RedisSettings settings;
  settings.conn.display = "redis://127.0.0.1:6379";
  if (redisReaderFeed(reader, reinterpret_cast<const char*>(data), size) == REDIS_OK) {
    for (int n = 0; n < 64; ++n) {
      void* raw = nullptr;
      if (redisReaderGetReply(reader, &raw) != REDIS_OK || raw == nullptr) break;
      const auto reply = tenure::backends::redis::reply_from_hiredis(static_cast<redisReply*>(raw));
      freeReplyObject(raw);
      visit(reply, settings, 0);
    }
  }
  redisReaderFree(reader);
  return 0;
}
