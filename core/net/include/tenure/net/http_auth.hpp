// Auth hooks for HttpClient: what each request carries and what to do after a 401.
// Implementations never put the secret into a Status message or a log record.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "tenure/errors.hpp"
#include "tenure/net/http_message.hpp"

namespace tenure::net {

class HttpAuth {
 public:
  virtual ~HttpAuth() = default;
  // Adds this request's credentials. Called on the client's strand before each send; an error
  // fails the request with it (e.g. the token file vanished).
  virtual Status apply(HttpHeaders& headers) = 0;
  // True when credentials must be fetched before the next apply (no token yet): the client
  // then calls refresh() first. Called on the client's strand.
  virtual bool needs_refresh() const { return false; }
  // Fetch fresh credentials: before a first request (needs_refresh), or after a request carrying
  // the credentials of `apply` got 401. Return false to fail the request at once (auth_failed);
  // or true and call done(status) later (any thread) once fresh credentials are in place. After a
  // 401 the client then sends the request once more (never twice), else fails it with status.
  // Called on the client's strand.
  virtual bool refresh(std::function<void(Status)> done) {
    (void)done;
    return false;
  }
};

// A fixed header (X-Consul-Token: <t>, or Authorization: Bearer <t> when value has that form).
std::shared_ptr<HttpAuth> header_token(std::string header, std::string value);

// "Authorization: Bearer <file contents, trimmed>", re-read when the file's identity, size or
// modification time changes (Kubernetes rotates projected tokens in place), and after a 401.
// `option` names the user's option in errors ("backend.token_file").
std::shared_ptr<HttpAuth> bearer_token_file(std::string path, std::string option);

// A token minted by a call (etcd's POST /v3/auth/authenticate). `header` carries it as is
// (etcd: "Authorization: <token>"). fetch(done) gets a fresh token; it runs before the first
// request and again after a 401 (at most one fetch in flight; requests waiting meanwhile share
// it). fetch must send its own request with HttpRequest::skip_auth set.
using TokenFetch = std::function<void(std::function<void(Result<std::string>)> done)>;
std::shared_ptr<HttpAuth> refreshing_token(std::string header, TokenFetch fetch);

}  // namespace tenure::net
