// A RESP2 reply decoded from hiredis' reply tree, and commands encoded with hiredis' encoder.
#pragma once

#include <string>
#include <vector>

struct redisReply;  // hiredis

namespace tenure::backends::redis {

// A decoded RESP2 reply, copied out of hiredis' reply tree.
struct Reply {
  enum class Type { string, array, integer, nil, status, error };
  Type type = Type::nil;
  std::string str;  // string, status, error
  long long integer = 0;
  std::vector<Reply> elements;

  bool is_error() const { return type == Type::error; }
  bool is_nil() const { return type == Type::nil; }
  bool starts_with(const char* code) const;  // an error or status whose text starts with code
  std::string as_string() const;             // string/status/integer as text; "" otherwise
  long long as_int(long long fallback = 0) const;
};

// Copies hiredis' reply tree into a Reply (public for the RESP fuzz target).
Reply reply_from_hiredis(const redisReply* r);

// One command in RESP wire format.
std::string format_command(const std::vector<std::string>& argv);

}  // namespace tenure::backends::redis
