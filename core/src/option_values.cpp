#include "tenure/option_values.hpp"

#include <charconv>
#include <cstdio>

namespace tenure {

std::optional<bool> parse_bool(std::string_view v) {
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off") return false;
  return std::nullopt;
}

std::optional<int64_t> parse_int(std::string_view v) {
  // from_chars takes no '+'; accept it so "+5" and "5" read alike.
  std::string_view digits = !v.empty() && v.front() == '+' ? v.substr(1) : v;
  if (digits.empty() || digits.front() == '+') return std::nullopt;
  int64_t out = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return out;
}

std::string printable_value(std::string_view v) {
  constexpr size_t kMax = 64;
  std::string out;
  for (size_t i = 0; i < v.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (v.size() > kMax) out += "...";
  return out;
}

}  // namespace tenure
