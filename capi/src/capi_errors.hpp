// How every C entry point reports failure: a code, and a message in the caller's buffer. No
// exception leaves `guarded`.
#pragma once

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

#include "tenure/errors.hpp"
#include "tenure/tenure.h"

namespace tenure::capi {

inline void write_err(char* buf, size_t len, const std::string& msg) {
  if (!buf || len == 0) return;
  size_t n = std::min(len - 1, msg.size());
  std::memcpy(buf, msg.data(), n);
  buf[n] = '\0';
}

inline tenure_err fail(const Status& s, char* buf, size_t len) {
  write_err(buf, len, s.message.empty() ? errc_text(s.code) : s.message);
  return static_cast<tenure_err>(s.code);
}

inline tenure_err check(const Status& s, char* buf, size_t len) {
  return s.ok() ? TENURE_OK : fail(s, buf, len);
}

inline tenure_err invalid(const char* what, char* buf, size_t len) {
  return fail(make_error(Errc::invalid_argument, std::string(what) + " is NULL"), buf, len);
}

// A C enum argument as the int the caller passed: a C caller may pass any int, and reading an
// out-of-range value as the C++ enum type is undefined (UBSan flags it).
template <class E>
int raw_enum(const E& e) {  // by reference: a by-value copy would load it
  static_assert(sizeof(E) == sizeof(int), "C enums are int-sized here");
  int v;
  std::memcpy(&v, &e, sizeof v);
  return v;
}

template <class F>
tenure_err guarded(char* buf, size_t len, F&& f) noexcept {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    write_err(buf, len, "out of memory");
    return TENURE_E_INTERNAL;
  } catch (const std::exception& e) {
    write_err(buf, len, std::string("internal error: ") + e.what());
    return TENURE_E_INTERNAL;
  } catch (...) {
    write_err(buf, len, "internal error");
    return TENURE_E_INTERNAL;
  }
}

}  // namespace tenure::capi
