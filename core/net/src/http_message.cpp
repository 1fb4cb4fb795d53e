#include "tenure/net/http_message.hpp"

#include <strings.h>

namespace tenure::net {

const std::string* find_header(const HttpHeaders& h, const std::string& name) {
  for (const auto& [k, v] : h)
    if (k.size() == name.size() && strncasecmp(k.c_str(), name.c_str(), k.size()) == 0) return &v;
  return nullptr;
}

namespace {

bool is_json_type(const std::string* ct) {
  if (!ct) return false;
  const std::string t = ct->substr(0, ct->find(';'));
  return strcasecmp(t.c_str(), "application/json") == 0 ||
         (t.size() > 5 && strcasecmp(t.c_str() + t.size() - 5, "+json") == 0);
}

// The server's own short explanation, if the body carries one: JSON "message"/"error" fields
// (etcd, Kubernetes Status, Consul) or a short text/plain body. Bounded; never request data.
std::string server_text(const HttpResponse& r) {
  std::string text;
  if (is_json_type(r.header("Content-Type"))) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_object()) {
      for (const char* k : {"message", "error"})
        if (auto it = j.find(k); it != j.end() && it->is_string()) {
          text = it->get<std::string>();
          break;
        }
    }
  } else if (const auto* ct = r.header("Content-Type"); ct && ct->rfind("text/plain", 0) == 0) {
    text = r.body;
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  return text;
}

}  // namespace

Result<nlohmann::json> HttpResponse::json() const {
  const std::string* ct = header("Content-Type");
  if (!is_json_type(ct))
    return make_error(
        Errc::backend,
        endpoint + " answered with Content-Type '" + (ct ? *ct : std::string("none")) +
            "' where JSON was expected: is the endpoint a proxy or the wrong service?");
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded())
    return make_error(Errc::backend, endpoint + " answered with a body that is not valid JSON (" +
                                         std::to_string(body.size()) + " bytes)");
  return j;
}

Status http_status_error(const std::string& service, const HttpResponse& r) {
  Errc code = Errc::backend;
  std::string hint;
  switch (r.status) {
    case 401:
      code = Errc::auth_failed;
      hint = "check the credentials (token, token file, user and password)";
      break;
    case 403:
      code = Errc::permission_denied;
      hint = "grant the user or service account access to this resource";
      break;
    case 404:
      hint = "check the endpoint, the path prefix and the server's version";
      break;
    case 408:
    case 504:
      code = Errc::timeout;
      hint = "the server or a proxy gave up waiting";
      break;
    case 429:
      hint = "the server is rate limiting: slow down";
      break;
    case 502:
    case 503:
      hint = "the server is not ready (no leader, overloaded, or restarting)";
      break;
    default:
      if (r.status >= 500) hint = "the server failed; see its logs";
  }
  std::string msg = service + " at " + r.endpoint + " answered HTTP " + std::to_string(r.status);
  if (auto t = server_text(r); !t.empty()) msg += ": " + t;
  if (r.retry_after)
    msg += "; it asks to retry after " + std::to_string(r.retry_after->count()) + " ms";
  if (!hint.empty()) msg += " (" + hint + ")";
  // Callers that must act on the answer read these, never the message.
  ErrorDetail detail;
  detail.http_status = static_cast<int>(r.status);
  detail.retry_after = r.retry_after;
  return make_error(code, std::move(msg), std::move(detail));
}

}  // namespace tenure::net
