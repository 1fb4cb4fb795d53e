// Splits a byte stream into whole JSON values: etcd's grpc-gateway streams (/v3/watch,
// /v3/lease/keepalive) send one JSON object after another in a chunked body; Kubernetes watch
// sends newline-delimited JSON. Both arrive cut at arbitrary chunk and read boundaries.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tenure/errors.hpp"

namespace tenure::net {

class JsonStreamSplitter {
 public:
  explicit JsonStreamSplitter(size_t max_object_bytes) : max_(max_object_bytes) {}

  // Feeds bytes; calls on_value for each complete top-level object or array, in order. Whitespace
  // (and newlines) between values is skipped. Returns an error (Errc::backend) for a value larger
  // than max_object_bytes, a top-level scalar, or text that does not parse; feed nothing after.
  Status feed(std::string_view bytes, const std::function<void(nlohmann::json)>& on_value);
  // True when bytes of an incomplete value are buffered (a stream cut mid-object).
  bool mid_value() const { return !buf_.empty(); }
  size_t buffered() const { return buf_.size(); }

 private:
  size_t max_;
  std::string buf_;  // the current, incomplete value
  int depth_ = 0;    // nesting depth inside buf_
  bool in_string_ = false;
  bool escape_ = false;
};

}  // namespace tenure::net
