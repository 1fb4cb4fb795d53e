// libFuzzer target: backend URL parsing for every scheme, each backend's option parsing, and
// set_option. Input: a URL, optionally followed by "\n" and backend option lines "key=value".
// Beyond crashes and UB it checks that a redacted URL never carries a control byte.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "postgres/pg_config.hpp"
#include "redis/redis_config.hpp"
#include "tenure/backend.hpp"
#include "tenure/options.hpp"
#include "tenure/url.hpp"

namespace {

void check_printable(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tenure;
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  const std::string url_text = input.substr(0, nl);

  BackendContext ctx;
  ctx.election = "fuzz";
  ctx.identity = "fuzzer";
  ElectorOptions opts;
  if (nl != std::string::npos) {
    size_t pos = nl + 1;
    while (pos <= input.size()) {
      size_t end = input.find('\n', pos);
      if (end == std::string::npos) end = input.size();
      const std::string line = input.substr(pos, end - pos);
      const size_t eq = line.find('=');
      if (eq != std::string::npos) {
        ctx.options[line.substr(0, eq)] = line.substr(eq + 1);
        (void)set_option(opts, line.substr(0, eq), line.substr(eq + 1));
      }
      pos = end + 1;
    }
  }

  // Every scheme the backends know, with the same text after "://".
  const size_t sep = url_text.find("://");
  const std::string rest = sep == std::string::npos ? url_text : url_text.substr(sep + 3);
  for (const std::string scheme :
       {"", "file://", "memory://", "redis://", "rediss://", "postgres://", "postgresql://"}) {
    const std::string text = scheme.empty() ? url_text : scheme + rest;
    auto u = parse_url(text);
    check_printable(u.status.message);
    if (!u.ok()) continue;
    check_printable(u.value.redacted());
    ctx.url = u.value;
    if (u.value.scheme == "redis" || u.value.scheme == "rediss") {
      // No TLS files are opened here: parse_settings only reads the options.
      auto r = backends::redis::parse_settings(ctx);
      (void)r;
    } else if (u.value.scheme == "postgres" || u.value.scheme == "postgresql") {
      auto p = backends::pg::parse_config(ctx);
      (void)p;
    }
  }
  (void)validate_timing(opts.timing);
  (void)validate_election_name(url_text);
  (void)validate_identity(url_text);
  return 0;
}
