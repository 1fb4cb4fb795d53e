// libFuzzer target: the C ABI's string-taking entry points. The input is NUL-separated
// key/value pairs for tenure_options_set; tenure_elector_new then runs on them with the backend
// forced to memory:// (file:// would create directories, network backends would connect). The
// error buffer's size comes from the input, to exercise truncation; it must always end in NUL.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tenure/tenure.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t errlen = data[0] % 64;  // 0 (no buffer) .. 63 bytes
  std::vector<std::string> parts;
  std::string cur;
  for (size_t i = 1; i < size; ++i) {
    if (data[i] == 0) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(data[i]));
    }
  }
  parts.push_back(cur);

  tenure_options* o = nullptr;
  if (tenure_options_new(&o, nullptr, 0) != TENURE_OK) std::abort();
  char err[64];
  auto check_nul = [&] {
    if (errlen > 0 && std::memchr(err, 0, errlen) == nullptr) std::abort();
  };
  for (size_t i = 0; i + 1 < parts.size(); i += 2) {
    std::memset(err, 'x', sizeof err);
    if (tenure_options_set(o, parts[i].c_str(), parts[i + 1].c_str(), errlen ? err : nullptr,
                           errlen) != TENURE_OK)
      check_nul();  // written on failure only
  }
  tenure_options_set(o, "backend", "memory://fuzz", nullptr, 0);
  tenure_elector* e = nullptr;
  std::memset(err, 'x', sizeof err);
  if (tenure_elector_new(&e, o, errlen ? err : nullptr, errlen) == TENURE_OK) {
    tenure_elector_destroy(e, nullptr, 0);
  } else {
    check_nul();
  }
  tenure_options_free(o);
  return 0;
}
