#include "client_certificate.hpp"

#include <yaml-cpp/yaml.h>

#include <opsup/opamp_constants.h>

#include "certificate_request.hpp"

namespace opsup::connection_settings {
namespace {

namespace proto = ::opamp::proto::v1;

constexpr const char *kKeyFile = "client_certificate_key.pem";
constexpr const char *kUidKey = "client_certificate_instance_uid";
constexpr const char *kOrganization = "opamp-supervisor";

std::string stored_uid(opsup::Host &host) {
  std::string yaml;
  if (host.state_read(kUidKey, yaml) != OPSUP_OK)
    return "";
  try {
    const YAML::Node node = YAML::Load(yaml);
    return node.IsScalar() ? node.as<std::string>() : "";
  } catch (const YAML::Exception &) {
    return "";
  }
}

}  // namespace

std::string uuid_text(const opsup::InstanceUid &uid) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (size_t i = 0; i < uid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      text += '-';
    text += kHex[uid[i] >> 4];
    text += kHex[uid[i] & 0xf];
  }
  return text;
}

bool accepts_opamp_connection_settings(std::string_view supervisor_config_yaml) {
  try {
    const YAML::Node root = YAML::Load(std::string(supervisor_config_yaml));
    const YAML::Node key = root["capabilities"]["accepts_opamp_connection_settings"];
    return key && !key.IsNull() && key.as<bool>();
  } catch (const YAML::Exception &error) {
    throw std::invalid_argument(std::string("capabilities.accepts_opamp_connection_settings: ") +
                                error.what());
  }
}

ClientCertificate::ClientCertificate(opsup::Host &host, std::function<void()> fields_changed)
    : host_(host), fields_changed_(std::move(fields_changed)) {}

void ClientCertificate::start(std::string_view committed_cert_pem) {
  const std::string uid = uuid_text(host_.instance_uid());
  std::string key;
  const bool have_key = host_.storage_read(kKeyFile, key) == OPSUP_OK && !key.empty();
  if (!have_key || stored_uid(host_) != uid) {
    if (have_key) {
      host_.info(
          "connection_settings: the client certificate key was made for another instance "
          "UID; making a new key and certificate request for " +
          uid);
    }
    renew_key(uid);
  } else {
    uid_ = uid;
    key_pem_ = std::move(key);
    needs_certificate_ =
        committed_cert_pem.empty() || !certificate_matches_key(committed_cert_pem, key_pem_);
    if (!needs_certificate_) {
      host_.info("connection_settings: connecting with the client certificate issued for " + uid +
                 " (" + describe_certificate(committed_cert_pem) + ")");
    }
  }
  maybe_request();
}

void ClientCertificate::on_server_message() {
  const std::string uid = uuid_text(host_.instance_uid());
  if (uid != uid_) {
    host_.info("connection_settings: the instance UID changed from " + uid_ + " to " + uid +
               "; making a new key and certificate request");
    renew_key(uid);
  }
  maybe_request();
}

bool ClientCertificate::complete_offer(proto::OpAMPConnectionSettings &offer) {
  if (!offer.has_certificate() || offer.certificate().cert().empty() ||
      !offer.certificate().private_key().empty() || key_pem_.empty()) {
    return false;
  }
  const std::string &cert = offer.certificate().cert();
  if (!certificate_matches_key(cert, key_pem_)) {
    if (pending_) {
      host_.warn(
          "connection_settings: the server offered a certificate without a private key "
          "that is not for this supervisor's key (" +
          describe_certificate(cert) + "); the request stays open");
    }
    return false;
  }
  offer.mutable_certificate()->set_private_key(key_pem_);
  if (pending_) {
    host_.info("connection_settings: the server issued a client certificate (" +
               describe_certificate(cert) + "); trying it");
    pending_.reset();
    fields_changed_();
  }
  needs_certificate_ = false;
  return true;
}

void ClientCertificate::renew_key(const std::string &uid) {
  try {
    key_pem_ = generate_private_key_pem();
  } catch (const CertificateError &error) {
    host_.error(std::string("connection_settings: cannot make a client certificate key: ") +
                error.what());
    key_pem_.clear();
  }
  uid_ = uid;
  needs_certificate_ = !key_pem_.empty();
  const bool had_request = pending_.has_value();
  pending_.reset();
  if (!key_pem_.empty() && host_.storage_write(kKeyFile, key_pem_) != OPSUP_OK) {
    host_.error(std::string("connection_settings: could not write ") + kKeyFile +
                "; a restart makes a new key and certificate request");
  }
  host_.state_write(kUidKey, "\"" + uid + "\"");
  if (had_request)
    fields_changed_();
}

void ClientCertificate::maybe_request() {
  if (!needs_certificate_ || pending_)
    return;
  const uint64_t server = host_.server_capabilities();
  if (server == 0)
    return;  // no answer from the server yet
  if ((server & OPSUP_SERVER_CAP_ACCEPTS_CONNECTION_SETTINGS_REQUEST) == 0) {
    if (!said_server_lacks_capability_) {
      host_.info(
          "connection_settings: the server does not accept connection settings requests "
          "(AcceptsConnectionSettingsRequest); no client certificate is requested");
      said_server_lacks_capability_ = true;
    }
    return;
  }
  try {
    proto::ConnectionSettingsRequest request;
    request.mutable_opamp()->mutable_certificate_request()->set_csr(
        make_certificate_request(key_pem_, uid_, kOrganization));
    pending_ = std::move(request);
  } catch (const CertificateError &error) {
    host_.error(std::string("connection_settings: cannot make a certificate request: ") +
                error.what());
    needs_certificate_ = false;
    return;
  }
  host_.info("connection_settings: asking the server for a client certificate (CN=" + uid_ +
             ", O=" + kOrganization + ")");
  fields_changed_();
}

}  // namespace opsup::connection_settings
