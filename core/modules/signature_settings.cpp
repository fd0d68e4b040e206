#include "modules/signature_settings.hpp"

#include "modules/settings_files.hpp"

#include <yaml-cpp/yaml.h>

#include <stdexcept>
#include <string>

namespace opsup::modules {
namespace {

const std::string kPrefix = "plugins.packages.";

}  // namespace

packages::SignaturePolicy signature_policy_from(std::string_view own_settings_yaml) {
  packages::SignaturePolicy policy;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(own_settings_yaml));
  } catch (const YAML::Exception &error) {
    throw std::runtime_error("plugins.packages: " + std::string(error.what()));
  }
  if (!root || root.IsNull())
    return policy;
  if (!root.IsMap())
    throw std::runtime_error("plugins.packages: expected a map");
  try {
    if (const YAML::Node allow = root["allow_unsigned"]; allow && !allow.IsNull())
      policy.allow_unsigned = allow.as<bool>();
  } catch (const YAML::Exception &) {
    throw std::runtime_error(kPrefix + "allow_unsigned: expected true or false");
  }
  const YAML::Node signature = root["signature"];
  if (!signature || signature.IsNull())
    return policy;
  if (!signature.IsMap())
    throw std::runtime_error(kPrefix + "signature: expected a map");
  const std::string prefix = kPrefix + "signature.";
  if (const YAML::Node keys = signature["public_keys"]; keys && !keys.IsNull()) {
    if (!keys.IsSequence())
      throw std::runtime_error(prefix + "public_keys: expected a list of PEM files");
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const std::string key = prefix + "public_keys[" + std::to_string(i) + "]";
      policy.public_keys_pem.push_back(read_settings_file(key, settings_scalar(keys[i], key)));
    }
  }
  if (const YAML::Node roots = signature["trusted_roots"]; roots && !roots.IsNull())
    policy.trusted_roots_pem = read_settings_file(prefix + "trusted_roots",
                                                  settings_scalar(roots, prefix + "trusted_roots"));
  if (const YAML::Node more = signature["intermediates"]; more && !more.IsNull())
    policy.intermediates_pem = read_settings_file(prefix + "intermediates",
                                                  settings_scalar(more, prefix + "intermediates"));
  if (const YAML::Node identities = signature["identities"]; identities && !identities.IsNull()) {
    if (!identities.IsSequence())
      throw std::runtime_error(prefix + "identities: expected a list");
    for (std::size_t i = 0; i < identities.size(); ++i) {
      const std::string key = prefix + "identities[" + std::to_string(i) + "]";
      const YAML::Node entry = identities[i];
      if (!entry.IsMap())
        throw std::runtime_error(key + ": expected a map");
      packages::SignerIdentity identity;
      for (const auto &[field, target] :
           {std::pair<const char *, std::string *>{"issuer", &identity.issuer},
            {"issuer_regex", &identity.issuer_regex},
            {"subject", &identity.subject},
            {"subject_regex", &identity.subject_regex}}) {
        if (const YAML::Node value = entry[field]; value && !value.IsNull())
          *target = settings_scalar(value, key + "." + field);
      }
      if (identity.issuer.empty() == identity.issuer_regex.empty() ||
          identity.subject.empty() == identity.subject_regex.empty())
        throw std::runtime_error(key +
                                 ": give exactly one of issuer and issuer_regex, and of "
                                 "subject and subject_regex");
      policy.identities.push_back(std::move(identity));
    }
  }
  if (const YAML::Node repo = signature["github_workflow_repository"]; repo && !repo.IsNull())
    policy.github_workflow_repository =
        settings_scalar(repo, prefix + "github_workflow_repository");
  if (const YAML::Node when = signature["certificate_time"]; when && !when.IsNull()) {
    const std::string text = settings_scalar(when, prefix + "certificate_time");
    if (text == "now")
      policy.certificate_time = packages::CertificateTime::kNow;
    else if (text != "issuance")
      throw std::runtime_error(prefix + "certificate_time: expected issuance or now, not " + text);
  }
  return policy;
}

}  // namespace opsup::modules
