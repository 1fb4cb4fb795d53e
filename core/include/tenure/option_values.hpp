// Option values from text, one parser per kind for the elector's and every backend's options, so
// "yes" means the same everywhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tenure {

// 1/0, true/false, yes/no, on/off (lower case); nullopt for anything else.
std::optional<bool> parse_bool(std::string_view text);
// A whole decimal number, optionally signed, nothing around it; nullopt when malformed or when it
// does not fit in 64 bits.
std::optional<int64_t> parse_int(std::string_view text);
// The value as a message may show it: control bytes escaped, at most 64 characters.
std::string printable_value(std::string_view text);

}  // namespace tenure
