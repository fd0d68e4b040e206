#include "packages/certificate.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>
#include <optional>
#include <regex>
#include <vector>

namespace opsup::packages {
namespace {

// Leaves this thread's OpenSSL error queue empty, so a failed check cannot confuse a later
// TLS operation on the same thread.
struct ClearOpensslErrors {
  ~ClearOpensslErrors() { ERR_clear_error(); }
};

// Fulcio certificate extensions (github.com/sigstore/fulcio docs/oid-info.md).
constexpr const char *kOidIssuerV1 = "1.3.6.1.4.1.57264.1.1";  // raw string (deprecated)
constexpr const char *kOidWorkflowRepositoryV1 = "1.3.6.1.4.1.57264.1.5";  // raw string
constexpr const char *kOidIssuerV2 = "1.3.6.1.4.1.57264.1.8";              // UTF8String
constexpr const char *kOidSourceRepositoryUri = "1.3.6.1.4.1.57264.1.12";  // UTF8String

struct X509Free {
  void operator()(X509 *cert) const { X509_free(cert); }
};
struct StoreFree {
  void operator()(X509_STORE *store) const { X509_STORE_free(store); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX *ctx) const { X509_STORE_CTX_free(ctx); }
};
struct BioFree {
  void operator()(BIO *bio) const { BIO_free(bio); }
};
struct StackFree {
  void operator()(STACK_OF(X509) * stack) const { sk_X509_pop_free(stack, X509_free); }
};
struct NamesFree {
  void operator()(GENERAL_NAMES *names) const { GENERAL_NAMES_free(names); }
};
using Cert = std::unique_ptr<X509, X509Free>;

CertificateCheck fail(SignatureStatus status, std::string reason) {
  CertificateCheck check;
  check.status = status;
  check.reason = std::move(reason);
  return check;
}

// Every certificate in a PEM text; nullopt when a PEM block does not parse.
std::optional<std::vector<Cert>> read_pem_certificates(std::string_view pem) {
  std::vector<Cert> certs;
  if (pem.empty())
    return certs;
  ERR_clear_error();
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio)
    return std::nullopt;
  for (;;) {
    Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert)
      break;
    certs.push_back(std::move(cert));
  }
  // Distinguish "no more PEM blocks" from a broken one.
  const unsigned long error = ERR_peek_last_error();
  ERR_clear_error();
  if (error != 0 && ERR_GET_REASON(error) != PEM_R_NO_START_LINE)
    return std::nullopt;
  return certs;
}

std::optional<std::vector<Cert>> read_certificates(std::string_view data) {
  if (data.find("-----BEGIN") != std::string_view::npos)
    return read_pem_certificates(data);
  const unsigned char *cursor = reinterpret_cast<const unsigned char *>(data.data());
  Cert cert(d2i_X509(nullptr, &cursor, static_cast<long>(data.size())));
  if (!cert || cursor != reinterpret_cast<const unsigned char *>(data.data()) + data.size())
    return std::nullopt;
  std::vector<Cert> certs;
  certs.push_back(std::move(cert));
  return certs;
}

std::string subject_name(X509 *cert) {
  char buffer[256] = {};
  X509_NAME_oneline(X509_get_subject_name(cert), buffer, sizeof(buffer));
  return buffer;
}

// The value of an extension: the raw octets (v1 Fulcio extensions) or, when they are a
// DER UTF8String, its content.
std::optional<std::string> extension_text(X509 *cert, const char *oid, bool der_utf8) {
  ASN1_OBJECT *object = OBJ_txt2obj(oid, 1);
  if (!object)
    return std::nullopt;
  const int index = X509_get_ext_by_OBJ(cert, object, -1);
  ASN1_OBJECT_free(object);
  if (index < 0)
    return std::nullopt;
  ASN1_OCTET_STRING *data = X509_EXTENSION_get_data(X509_get_ext(cert, index));
  const unsigned char *raw = ASN1_STRING_get0_data(data);
  const long length = ASN1_STRING_length(data);
  if (!der_utf8)
    return std::string(reinterpret_cast<const char *>(raw), static_cast<std::size_t>(length));
  const unsigned char *cursor = raw;
  ASN1_UTF8STRING *text = d2i_ASN1_UTF8STRING(nullptr, &cursor, length);
  if (!text)
    return std::nullopt;
  std::string value(reinterpret_cast<const char *>(ASN1_STRING_get0_data(text)),
                    static_cast<std::size_t>(ASN1_STRING_length(text)));
  ASN1_UTF8STRING_free(text);
  if (cursor != raw + length)
    return std::nullopt;
  return value;
}

std::optional<std::string> issuer_of(X509 *cert) {
  if (auto issuer = extension_text(cert, kOidIssuerV2, true))
    return issuer;
  return extension_text(cert, kOidIssuerV1, false);
}

// SAN URIs and emails: the subjects Fulcio puts there.
std::vector<std::string> subjects_of(X509 *cert) {
  std::vector<std::string> subjects;
  std::unique_ptr<GENERAL_NAMES, NamesFree> names(
      static_cast<GENERAL_NAMES *>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names)
    return subjects;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME *name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI && name->type != GEN_EMAIL)
      continue;
    const ASN1_IA5STRING *text = name->d.ia5;
    subjects.emplace_back(reinterpret_cast<const char *>(ASN1_STRING_get0_data(text)),
                          static_cast<std::size_t>(ASN1_STRING_length(text)));
  }
  return subjects;
}

// Exact when `exact` is set, else a whole-string regex match.
bool matches(const std::string &value, const std::string &exact, const std::regex *pattern) {
  if (pattern)
    return std::regex_match(value, *pattern);
  return value == exact;
}

struct CompiledIdentity {
  const SignerIdentity *identity;
  std::optional<std::regex> issuer;
  std::optional<std::regex> subject;
};

std::optional<std::time_t> to_time(const ASN1_TIME *time) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(time, &tm) != 1)
    return std::nullopt;
  return timegm(&tm);
}

CertificateCheck check_identity(const SignaturePolicy &policy, X509 *leaf) {
  std::vector<CompiledIdentity> compiled;
  for (std::size_t i = 0; i < policy.identities.size(); ++i) {
    const SignerIdentity &identity = policy.identities[i];
    CompiledIdentity entry{&identity, std::nullopt, std::nullopt};
    try {
      if (!identity.issuer_regex.empty())
        entry.issuer.emplace(identity.issuer_regex, std::regex::ECMAScript);
      if (!identity.subject_regex.empty())
        entry.subject.emplace(identity.subject_regex, std::regex::ECMAScript);
    } catch (const std::regex_error &error) {
      return fail(SignatureStatus::kInvalidPolicy,
                  "identity " + std::to_string(i + 1) + " has an invalid regex: " + error.what());
    }
    if ((identity.issuer.empty() == identity.issuer_regex.empty()) ||
        (identity.subject.empty() == identity.subject_regex.empty())) {
      return fail(SignatureStatus::kInvalidPolicy,
                  "identity " + std::to_string(i + 1) +
                      " must set exactly one of issuer / issuer_regex and of subject / "
                      "subject_regex");
    }
    compiled.push_back(std::move(entry));
  }

  const std::optional<std::string> issuer = issuer_of(leaf);
  const std::vector<std::string> subjects = subjects_of(leaf);
  if (!issuer) {
    return fail(SignatureStatus::kIdentityMismatch,
                "certificate has no OIDC issuer extension (1.3.6.1.4.1.57264.1.8 or .1.1)");
  }
  if (subjects.empty()) {
    return fail(SignatureStatus::kIdentityMismatch,
                "certificate has no subject (no URI or email subject alternative name)");
  }
  for (const CompiledIdentity &entry : compiled) {
    if (!matches(*issuer, entry.identity->issuer, entry.issuer ? &*entry.issuer : nullptr))
      continue;
    for (const std::string &subject : subjects) {
      if (matches(subject, entry.identity->subject, entry.subject ? &*entry.subject : nullptr)) {
        CertificateCheck check;
        check.status = SignatureStatus::kVerified;
        check.signer = "subject \"" + subject + "\" (issuer \"" + *issuer + "\")";
        return check;
      }
    }
  }
  std::string found;
  for (const std::string &subject : subjects)
    found += (found.empty() ? "\"" : ", \"") + subject + "\"";
  return fail(SignatureStatus::kIdentityMismatch,
              "certificate identity (issuer \"" + *issuer + "\", subject " + found +
                  ") matches none of the " + std::to_string(compiled.size()) +
                  " configured identities");
}

CertificateCheck check_workflow_repository(const SignaturePolicy &policy, X509 *leaf) {
  CertificateCheck ok;
  ok.status = SignatureStatus::kVerified;
  const std::string &wanted = policy.github_workflow_repository;
  if (wanted.empty())
    return ok;
  const auto v1 = extension_text(leaf, kOidWorkflowRepositoryV1, false);
  const auto uri = extension_text(leaf, kOidSourceRepositoryUri, true);
  if ((v1 && *v1 == wanted) || (uri && *uri == "https://github.com/" + wanted))
    return ok;
  const std::string found = v1 ? *v1 : uri ? *uri : std::string("none");
  return fail(
      SignatureStatus::kIdentityMismatch,
      "certificate workflow repository \"" + found + "\" is not the configured \"" + wanted + "\"");
}

CertificateCheck check_chain(const SignaturePolicy &policy, X509 *leaf,
                             std::vector<Cert> &extra_chain) {
  auto roots = read_pem_certificates(policy.trusted_roots_pem);
  if (!roots)
    return fail(SignatureStatus::kInvalidPolicy, "trusted roots are not valid PEM certificates");
  if (roots->empty()) {
    return fail(SignatureStatus::kInvalidPolicy,
                "trusted roots contain no PEM certificate (\"-----BEGIN CERTIFICATE-----\")");
  }
  auto intermediates = read_pem_certificates(policy.intermediates_pem);
  if (!intermediates) {
    return fail(SignatureStatus::kInvalidPolicy,
                "intermediate certificates are not valid PEM certificates");
  }
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
  if (!store || !untrusted)
    return fail(SignatureStatus::kCertificateUntrusted, "out of memory");
  for (Cert &root : *roots) {
    if (X509_STORE_add_cert(store.get(), root.get()) != 1)
      return fail(SignatureStatus::kInvalidPolicy, "cannot add a trusted root");
  }
  for (auto *list : {&*intermediates, &extra_chain}) {
    for (Cert &cert : *list) {
      if (sk_X509_push(untrusted.get(), cert.get()) <= 0)
        return fail(SignatureStatus::kCertificateUntrusted, "out of memory");
      cert.release();
    }
  }

  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) != 1)
    return fail(SignatureStatus::kCertificateUntrusted, "cannot set up certificate verification");
  if (policy.certificate_time == CertificateTime::kAtIssuance) {
    const auto issued = to_time(X509_get0_notBefore(leaf));
    if (!issued)
      return fail(SignatureStatus::kMalformed, "certificate notBefore does not parse");
    if (*issued > std::time(nullptr)) {
      return fail(SignatureStatus::kCertificateNotYetValid,
                  "certificate \"" + subject_name(leaf) +
                      "\" is not valid yet (notBefore is in "
                      "the future)");
    }
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), *issued);
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    const int error = X509_STORE_CTX_get_error(ctx.get());
    const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    X509 *failing = X509_STORE_CTX_get_current_cert(ctx.get());
    const std::string where = "certificate at depth " + std::to_string(depth) +
                              (failing ? " \"" + subject_name(failing) + "\"" : std::string());
    const std::string what = X509_verify_cert_error_string(error);
    if (error == X509_V_ERR_CERT_HAS_EXPIRED)
      return fail(SignatureStatus::kCertificateExpired, where + ": " + what);
    if (error == X509_V_ERR_CERT_NOT_YET_VALID)
      return fail(SignatureStatus::kCertificateNotYetValid, where + ": " + what);
    return fail(SignatureStatus::kCertificateUntrusted,
                where + " does not chain to a configured root: " + what);
  }
  if ((X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) == 0 ||
      (X509_get_extended_key_usage(leaf) & XKU_CODE_SIGN) == 0) {
    return fail(
        SignatureStatus::kCertificateUntrusted,
        "certificate \"" + subject_name(leaf) + "\" lacks the codeSigning extended key usage");
  }
  CertificateCheck ok;
  ok.status = SignatureStatus::kVerified;
  return ok;
}

}  // namespace

CertificateCheck check_certificate(const SignaturePolicy &policy, std::string_view certificate) {
  const ClearOpensslErrors clear_errors;
  auto certs = read_certificates(certificate);
  if (!certs || certs->empty()) {
    return fail(SignatureStatus::kMalformed,
                "certificate (first field) is neither a PEM nor a DER X.509 certificate");
  }
  if (policy.identities.empty()) {
    return fail(SignatureStatus::kNotConfigured,
                "no signer identities configured; certificate signatures need at least one");
  }
  Cert leaf = std::move(certs->front());
  certs->erase(certs->begin());

  CertificateCheck chain = check_chain(policy, leaf.get(), *certs);
  if (chain.status != SignatureStatus::kVerified)
    return chain;
  CertificateCheck identity = check_identity(policy, leaf.get());
  if (identity.status != SignatureStatus::kVerified)
    return identity;
  CertificateCheck repository = check_workflow_repository(policy, leaf.get());
  if (repository.status != SignatureStatus::kVerified)
    return repository;

  unsigned char *der = nullptr;
  const int length = i2d_PUBKEY(X509_get0_pubkey(leaf.get()), &der);
  if (length <= 0)
    return fail(SignatureStatus::kMalformed, "certificate public key does not encode");
  identity.leaf_key_der.assign(reinterpret_cast<char *>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return identity;
}

}  // namespace opsup::packages
