#include "tenure/net/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>

#include "tenure/local_file.hpp"

namespace tenure::net {

namespace ssl = boost::asio::ssl;

namespace {

// One PEM item, from a file or inline. `what` is "CA", "client certificate", "client key".
struct PemSource {
  const char* what;
  std::string file_option, pem_option;
  const std::string& file;
  const std::string& pem;
};

// The bytes of the item (empty: not given), or an error naming the option and file. The
// contents are never quoted: a key is a secret.
Result<std::string> load(const PemSource& s) {
  if (!s.file.empty() && !s.pem.empty())
    return make_error(Errc::invalid_argument, std::string("the TLS ") + s.what +
                                                  " is given twice: set option " + s.file_option +
                                                  " or " + s.pem_option + ", not both");
  if (!s.pem.empty()) return s.pem;
  if (s.file.empty()) return std::string();
  return read_regular_file(s.file_option, s.file);
}

std::string origin(const PemSource& s) {
  if (!s.file.empty()) return "file '" + s.file + "' (option " + s.file_option + ")";
  return "inline PEM (option " + s.pem_option + ", " + std::to_string(s.pem.size()) + " bytes)";
}

Status load_error(const PemSource& s, const boost::system::error_code& ec, const char* hint) {
  return make_error(Errc::invalid_argument, std::string("cannot load the TLS ") + s.what +
                                                " from " + origin(s) + ": " + ec.message() + hint);
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

TlsContext::TlsContext(TlsOptions opts) : opts_(std::move(opts)), ctx_(ssl::context::tls_client) {}

Result<std::shared_ptr<TlsContext>> TlsContext::create(const TlsOptions& opts) {
  std::shared_ptr<TlsContext> t(new TlsContext(opts));
  boost::system::error_code ec;
  t->ctx_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                          ssl::context::no_tlsv1_1,
                      ec);
  const PemSource ca{"CA", opts.name(opts.ca_file_option, "ca_file"),
                     opts.name(opts.ca_pem_option, "ca_pem"), opts.ca_file, opts.ca_pem};
  const PemSource cert{"client certificate", opts.name(opts.cert_file_option, "cert_file"),
                       opts.name(opts.cert_pem_option, "cert_pem"), opts.cert_file, opts.cert_pem};
  const PemSource key{"client key", opts.name(opts.key_file_option, "key_file"),
                      opts.name(opts.key_pem_option, "key_pem"), opts.key_file, opts.key_pem};
  auto ca_pem = load(ca);
  if (!ca_pem.ok()) return ca_pem.status;
  auto cert_pem = load(cert);
  if (!cert_pem.ok()) return cert_pem.status;
  auto key_pem = load(key);
  if (!key_pem.ok()) return key_pem.status;

  if (opts.insecure) {
    t->ctx_.set_verify_mode(ssl::verify_none, ec);
  } else {
    t->ctx_.set_verify_mode(ssl::verify_peer, ec);
    if (!ca_pem.value.empty()) {
      t->ctx_.add_certificate_authority(boost::asio::buffer(ca_pem.value), ec);
      if (ec) return load_error(ca, ec, " (expected one or more PEM certificates)");
    } else {
      t->ctx_.set_default_verify_paths(ec);
    }
  }
  if (cert_pem.value.empty() != key_pem.value.empty())
    return make_error(Errc::invalid_argument,
                      "a TLS client certificate needs both a certificate (" + cert.file_option +
                          " or " + cert.pem_option + ") and its key (" + key.file_option + " or " +
                          key.pem_option + ")");
  if (!cert_pem.value.empty()) {
    t->ctx_.use_certificate_chain(boost::asio::buffer(cert_pem.value), ec);
    if (ec) return load_error(cert, ec, " (expected a PEM certificate chain)");
    t->ctx_.use_private_key(boost::asio::buffer(key_pem.value), ssl::context::pem, ec);
    if (ec && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH)
      return make_error(Errc::invalid_argument, "the TLS client key from " + origin(key) +
                                                    " does not belong to the certificate from " +
                                                    origin(cert));
    if (ec) return load_error(key, ec, " (expected an unencrypted PEM private key)");
    if (SSL_CTX_check_private_key(t->ctx_.native_handle()) != 1)
      return make_error(Errc::invalid_argument, "the TLS client key from " + origin(key) +
                                                    " does not belong to the certificate from " +
                                                    origin(cert));
  }
  return t;
}

std::string TlsContext::peer_name(const std::string& host) const {
  return opts_.server_name.empty() ? host : opts_.server_name;
}

Status TlsContext::prepare(void* handle, const std::string& host) const {
  SSL* ssl = static_cast<SSL*>(handle);
  const std::string name = peer_name(host);
  const bool ip = is_ip_literal(name);
  if (!ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1)
    return make_error(Errc::invalid_argument,
                      "cannot set the TLS server name (SNI) '" + name + "'");
  if (opts_.insecure || !opts_.verify_host) return {};
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  // Wildcards only in the left-most label, never partial ("a*.example.com").
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const int rc = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                    : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
  if (rc != 1)
    return make_error(Errc::invalid_argument, "cannot check the TLS host name '" + name + "'");
  return {};
}

}  // namespace tenure::net
