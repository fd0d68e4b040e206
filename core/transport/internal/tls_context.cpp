#include "transport/internal/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <stdexcept>

#include "transport/internal/endpoint_url.hpp"

namespace opsup::transport::internal {

namespace ssl = boost::asio::ssl;

namespace {

[[noreturn]] void fail(const std::string &key, const std::string &what) {
  throw std::invalid_argument(key + ": " + what);
}

std::string openssl_reason(const boost::system::error_code &ec) {
  std::string reason = ec.message();
  return reason.empty() ? "rejected by OpenSSL" : reason;
}

void require_readable(const std::string &key, const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    fail(key, "cannot read '" + path + "'");
}

int tls_version(const std::string &key, const std::string &value, int empty_default) {
  if (value.empty())
    return empty_default;
  if (value == "1.0")
    return TLS1_VERSION;
  if (value == "1.1")
    return TLS1_1_VERSION;
  if (value == "1.2")
    return TLS1_2_VERSION;
  if (value == "1.3")
    return TLS1_3_VERSION;
  fail(key, "unsupported TLS version '" + value + "', expected 1.0, 1.1, 1.2 or 1.3");
}

// Loads a certificate chain and its key, each from a file or PEM text.
void load_identity(ssl::context &context, const std::string &prefix, const std::string &cert_file,
                   const std::string &cert_pem, const std::string &key_file,
                   const std::string &key_pem) {
  const bool has_cert = !cert_file.empty() || !cert_pem.empty();
  const bool has_key = !key_file.empty() || !key_pem.empty();
  if (!cert_file.empty() && !cert_pem.empty()) {
    fail(prefix + "::cert_file", "cert_file and cert_pem are mutually exclusive");
  }
  if (!key_file.empty() && !key_pem.empty()) {
    fail(prefix + "::key_file", "key_file and key_pem are mutually exclusive");
  }
  if (has_cert != has_key) {
    fail(prefix + (has_cert ? "::key_file" : "::cert_file"),
         "a certificate and its key must be given together");
  }
  if (!has_cert)
    return;
  boost::system::error_code ec;
  if (!cert_file.empty()) {
    require_readable(prefix + "::cert_file", cert_file);
    context.use_certificate_chain_file(cert_file, ec);
    if (ec)
      fail(prefix + "::cert_file", "'" + cert_file + "': " + openssl_reason(ec));
  } else {
    context.use_certificate_chain(boost::asio::buffer(cert_pem), ec);
    if (ec)
      fail(prefix + "::cert_pem", openssl_reason(ec));
  }
  if (!key_file.empty()) {
    require_readable(prefix + "::key_file", key_file);
    context.use_private_key_file(key_file, ssl::context::pem, ec);
    if (ec)
      fail(prefix + "::key_file", "'" + key_file + "': " + openssl_reason(ec));
  } else {
    context.use_private_key(boost::asio::buffer(key_pem), ssl::context::pem, ec);
    if (ec)
      fail(prefix + "::key_pem", openssl_reason(ec));
  }
  if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
    ERR_clear_error();
    fail(prefix + (key_file.empty() ? "::key_pem" : "::key_file"),
         "the private key does not match the certificate");
  }
}

// Adds every certificate of a PEM bundle (add_certificate_authority takes only one).
void add_ca_pem(ssl::context &context, const std::string &key, const std::string &pem) {
  BIO *bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr)
    fail(key, "out of memory");
  X509_STORE *store = SSL_CTX_get_cert_store(context.native_handle());
  int added = 0;
  while (X509 *cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, cert);
    X509_free(cert);
    ++added;
  }
  BIO_free(bio);
  ERR_clear_error();
  if (added == 0)
    fail(key, "no PEM certificate found");
}

void load_ca(ssl::context &context, const std::string &prefix, const std::string &file_key,
             const std::string &ca_file, const std::string &pem_key, const std::string &ca_pem) {
  if (!ca_file.empty()) {
    require_readable(prefix + "::" + file_key, ca_file);
    std::ifstream file(ca_file, std::ios::binary);
    std::string contents((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    add_ca_pem(context, prefix + "::" + file_key + " ('" + ca_file + "')", contents);
  }
  if (!ca_pem.empty())
    add_ca_pem(context, prefix + "::" + pem_key, ca_pem);
}

}  // namespace

std::shared_ptr<ssl::context> make_client_tls_context(const ClientTlsSettings &settings,
                                                      const std::string &key_prefix) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3);
  const int min_version =
      tls_version(key_prefix + "::min_version", settings.min_version, TLS1_2_VERSION);
  const int max_version = tls_version(key_prefix + "::max_version", settings.max_version, 0);
  if (max_version != 0 && max_version < min_version) {
    fail(key_prefix + "::max_version", "is older than min_version");
  }
  SSL_CTX_set_min_proto_version(context->native_handle(), min_version);
  SSL_CTX_set_max_proto_version(context->native_handle(), max_version);

  load_ca(*context, key_prefix, "ca_file", settings.ca_file, "ca_pem", settings.ca_pem);
  const bool has_ca = !settings.ca_file.empty() || !settings.ca_pem.empty();
  if (!has_ca || settings.include_system_ca_certs_pool) {
    boost::system::error_code ec;
    context->set_default_verify_paths(ec);  // a missing system pool only fails verification
  }
  load_identity(*context, key_prefix, settings.cert_file, settings.cert_pem, settings.key_file,
                settings.key_pem);
  context->set_verify_mode(settings.insecure_skip_verify ? ssl::verify_none : ssl::verify_peer);
  return context;
}

std::shared_ptr<ssl::context> make_server_tls_context(const ServerTlsSettings &settings,
                                                      const std::string &key_prefix) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  if (settings.cert_file.empty() && settings.cert_pem.empty()) {
    fail(key_prefix + "::cert_file", "a server certificate is required");
  }
  load_identity(*context, key_prefix, settings.cert_file, settings.cert_pem, settings.key_file,
                settings.key_pem);
  const bool has_client_ca = !settings.client_ca_file.empty() || !settings.client_ca_pem.empty();
  if (settings.require_client_certificate && !has_client_ca) {
    fail(key_prefix + "::client_ca_file", "required to verify client certificates");
  }
  if (has_client_ca) {
    load_ca(*context, key_prefix, "client_ca_file", settings.client_ca_file, "client_ca_pem",
            settings.client_ca_pem);
    auto mode = ssl::verify_peer;
    if (settings.require_client_certificate)
      mode |= ssl::verify_fail_if_no_peer_cert;
    context->set_verify_mode(mode);
  }
  return context;
}

bool prepare_client_tls(SSL *ssl, const ClientTlsSettings &settings, const std::string &url_host) {
  const std::string &name =
      settings.server_name_override.empty() ? url_host : settings.server_name_override;
  const bool ip = is_ip_literal(name);
  if (!ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1)
    return false;
  if (settings.insecure_skip_verify)
    return true;
  X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                    : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
  return ok == 1;
}

}  // namespace opsup::transport::internal
