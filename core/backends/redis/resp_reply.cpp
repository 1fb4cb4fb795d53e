#include "redis/resp_reply.hpp"

#include <hiredis/hiredis.h>

#include <cstdlib>

namespace tenure::backends::redis {

bool Reply::starts_with(const char* code) const {
  return (type == Type::error || type == Type::status) && str.rfind(code, 0) == 0;
}

std::string Reply::as_string() const {
  switch (type) {
    case Type::string:
    case Type::status:
    case Type::error:
      return str;
    case Type::integer:
      return std::to_string(integer);
    default:
      return {};
  }
}

long long Reply::as_int(long long fallback) const {
  if (type == Type::integer) return integer;
  if (type == Type::string || type == Type::status) {
    char* end = nullptr;
    long long v = std::strtoll(str.c_str(), &end, 10);
    if (end != str.c_str() && *end == '\0') return v;
  }
  return fallback;
}

Reply reply_from_hiredis(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::array;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i)
        out.elements.push_back(reply_from_hiredis(r->element[i]));
      break;
    default:
      out.type = Reply::Type::nil;
  }
  return out;
}

std::string format_command(const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  char* cmd = nullptr;
  int len = redisFormatCommandArgv(&cmd, static_cast<int>(argv.size()), ptrs.data(), lens.data());
  std::string out;
  if (len > 0 && cmd) out.assign(cmd, static_cast<size_t>(len));
  redisFreeCommand(cmd);
  return out;
}

}  // namespace tenure::backends::redis
