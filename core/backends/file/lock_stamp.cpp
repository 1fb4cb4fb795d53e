#include "lock_stamp.hpp"

#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "file_store.hpp"

namespace tenure::backends::file {

namespace {

using nlohmann::json;

// Fixed record size: the holder overwrites it in place, so the file never changes length.
constexpr size_t kStampSize = 1024;

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// A process in a time namespace sees CLOCK_MONOTONIC shifted by an offset
// (/proc/self/timens_offsets, Linux 5.6+); subtracting it gives the host's clock.
int64_t timens_monotonic_offset_ms() {
  std::ifstream in("/proc/self/timens_offsets");
  std::string name;
  int64_t sec = 0, nsec = 0;
  while (in >> name >> sec >> nsec)
    if (name == "monotonic") return sec * 1000 + nsec / 1000000;
  return 0;
}

}  // namespace

int64_t host_monotonic_ms() {
  static const int64_t offset = timens_monotonic_offset_ms();
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000 - offset;
}

const std::string& this_boot_id() {
  // Never destroyed: a file elector may be created from an atexit handler (tenure_shutdown's
  // callers) after function-local statics were destroyed.
  static const std::string* id = new std::string([] {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string s;
    std::getline(in, s);
    return s;
  }());
  return *id;
}

Status write_stamp(int fd, const LockStamp& st) {
  json j = {{"boot_id", st.boot_id},
            {"mono_ms", st.mono_ms},
            {"lease_ms", st.lease_ms},
            {"pid", st.pid},
            {"identity", st.identity}};
  std::string line = j.dump();
  std::ostringstream out;
  out << line << '\n' << std::hex << fnv1a(line) << '\n';
  std::string rec = out.str();
  if (rec.size() > kStampSize)
    return make_error(Errc::backend, "lock stamp larger than " + std::to_string(kStampSize));
  rec.resize(kStampSize, ' ');
  ssize_t n;
  do n = ::pwrite(fd, rec.data(), rec.size(), 0);
  while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(rec.size()))
    return make_error(Errc::backend, "cannot write the renewal stamp into the lock file: " +
                                         errno_text(n < 0 ? errno : EIO));
  return {};
}

std::optional<LockStamp> read_stamp(int fd) {
  char buf[kStampSize];
  ssize_t n;
  do n = ::pread(fd, buf, sizeof buf, 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return std::nullopt;
  std::string data(buf, static_cast<size_t>(n));
  auto nl = data.find('\n');
  if (nl == std::string::npos) return std::nullopt;
  auto nl2 = data.find('\n', nl + 1);
  if (nl2 == std::string::npos) return std::nullopt;
  std::string line = data.substr(0, nl);
  std::ostringstream sum;
  sum << std::hex << fnv1a(line);
  if (data.substr(nl + 1, nl2 - nl - 1) != sum.str()) return std::nullopt;
  try {
    json j = json::parse(line);
    // Integers only, in range: a hand-edited stamp (the checksum is no secret) must not reach
    // an undefined float-to-integer conversion or an overflow in expires_in_ms. Anything else
    // counts as no stamp.
    auto integer = [&](const char* key, int64_t lo, int64_t hi) -> std::optional<int64_t> {
      auto it = j.find(key);
      if (it == j.end() || !it->is_number_integer()) return std::nullopt;
      if (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(hi)) return std::nullopt;
      const int64_t v = it->get<int64_t>();
      if (v < lo || v > hi) return std::nullopt;
      return v;
    };
    constexpr int64_t kYearMs = int64_t(366) * 24 * 3600 * 1000;
    auto mono = integer("mono_ms", 0, int64_t(1) << 53);
    auto lease = integer("lease_ms", 1, kYearMs);
    auto pid = integer("pid", 0, INT32_MAX);
    if (!mono || !lease || !j.contains("boot_id") || !j["boot_id"].is_string()) return std::nullopt;
    LockStamp st;
    st.boot_id = j["boot_id"].get<std::string>();
    st.mono_ms = *mono;
    st.lease_ms = *lease;
    st.pid = static_cast<int>(pid.value_or(0));
    if (j.contains("identity") && j["identity"].is_string())
      st.identity = j["identity"].get<std::string>();
    return st;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace tenure::backends::file
