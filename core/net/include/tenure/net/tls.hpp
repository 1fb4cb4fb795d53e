// TLS client settings shared by every network backend: the CA, an optional client certificate
// and key (each from a file or inline PEM, as kubeconfig carries them), SNI and host-name
// verification. One TlsContext is built once per connection group and shared by its streams.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "tenure/errors.hpp"

namespace tenure::net {

// Each PEM item comes from a file (`*_file`) or inline (`*_pem`), never both. `option_prefix`
// names the user-facing options in error messages ("backend.tls_" gives "backend.tls_ca").
struct TlsOptions {
  std::string ca_file, ca_pem;      // none: the system's default trust store
  std::string cert_file, cert_pem;  // client certificate (chain); needs a key
  std::string key_file, key_pem;    // client private key (PEM, unencrypted)
  // SNI and the name checked against the certificate; empty: the endpoint's host.
  std::string server_name;
  bool verify_host = true;  // check the certificate names the host (or server_name)
  // Tests only: accept any certificate (no chain or host check). Never a silent default.
  bool insecure = false;
  std::string option_prefix = "tls_";
  // Option names for messages when they do not follow the prefix scheme (Redis: "tls_ca",
  // "tls_cert", "tls_key"); empty: option_prefix + "ca_file", "cert_pem", ...
  std::string ca_file_option, ca_pem_option, cert_file_option, cert_pem_option, key_file_option,
      key_pem_option;

  // The user-facing name of an option: the override if set, else option_prefix + suffix.
  std::string name(const std::string& override_name, const char* suffix) const {
    return override_name.empty() ? option_prefix + suffix : override_name;
  }
};

// An OpenSSL client context plus the per-connection settings. Immutable once created;
// shared by many streams on many threads.
class TlsContext {
 public:
  // Loads every PEM item now, so a bad file fails at configuration time. Errors are
  // Errc::invalid_argument naming the option and the file (never the PEM contents):
  // "cannot load the TLS CA file '/x/ca.pem' (option tls_ca_file): no PEM certificate found".
  static Result<std::shared_ptr<TlsContext>> create(const TlsOptions& opts);

  boost::asio::ssl::context& native() { return ctx_; }
  const TlsOptions& options() const { return opts_; }
  // The name to send as SNI and to verify for a connection to `host` (server_name if set).
  std::string peer_name(const std::string& host) const;
  // Sets SNI and the verification callback on a fresh OpenSSL stream handle (SSL*) for `host`.
  // SNI is not sent for IP literals (RFC 6066); verification still checks the IP SAN.
  Status prepare(void* ssl_handle, const std::string& host) const;

 private:
  explicit TlsContext(TlsOptions opts);
  TlsOptions opts_;
  boost::asio::ssl::context ctx_;
};

}  // namespace tenure::net
