#include "tenure/net/json_stream.hpp"

namespace tenure::net {

Status JsonStreamSplitter::feed(std::string_view bytes,
                                const std::function<void(nlohmann::json)>& on_value) {
  size_t start = 0;  // start of the current value's bytes inside `bytes` (appended in one go)
  auto flush = [&](size_t end) { buf_.append(bytes.substr(start, end - start)); };
  for (size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (depth_ == 0) {
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
      if (c != '{' && c != '[')
        return make_error(
            Errc::backend,
            std::string("the stream carries something other than JSON objects (byte '") +
                (c >= 0x20 && c < 0x7f ? std::string(1, c) : std::string("\\x..")) +
                "' between values)");
      start = i;
      depth_ = 1;
      continue;
    }
    if (in_string_) {
      if (escape_)
        escape_ = false;
      else if (c == '\\')
        escape_ = true;
      else if (c == '"')
        in_string_ = false;
      continue;
    }
    if (c == '"')
      in_string_ = true;
    else if (c == '{' || c == '[')
      ++depth_;
    else if (c == '}' || c == ']') {
      if (--depth_ == 0) {
        flush(i + 1);
        if (buf_.size() > max_)
          return make_error(Errc::backend,
                            "a streamed JSON value of " + std::to_string(buf_.size()) +
                                " bytes exceeds the limit of " + std::to_string(max_) + " bytes");
        auto v = nlohmann::json::parse(buf_, nullptr, false);
        buf_.clear();
        if (v.is_discarded())
          return make_error(Errc::backend, "the stream carries a value that is not valid JSON");
        on_value(std::move(v));
        start = i + 1;
      }
    }
    if (depth_ > 0 && buf_.size() + (i + 1 - start) > max_)
      return make_error(Errc::backend, "a streamed JSON value exceeds the limit of " +
                                           std::to_string(max_) + " bytes (still incomplete)");
  }
  if (depth_ > 0) flush(bytes.size());
  return {};
}

}  // namespace tenure::net
