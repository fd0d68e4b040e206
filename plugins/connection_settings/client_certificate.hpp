// Client certificates by CSR (issue 11, item 3), the connection_settings module's part:
// with plugins.connection_settings.request_client_certificate on and a server that has
// AcceptsConnectionSettingsRequest, the module makes an EC P-256 key pair for the current
// instance UID, sends AgentToServer.connection_settings_request.opamp.certificate_request.csr
// (subject CN=<instance UID>, O=opamp-supervisor), and completes the server's answer (an
// OpAMPConnectionSettings whose certificate has `cert` but no `private_key`) with its own key,
// so the offer goes through the usual verified switch and is persisted with the key
// (opamp_connection_settings.dat): mTLS from then on, also after a restart. A new instance UID
// means a new key and a new request.
//
// The key lives in client_certificate_key.pem in the storage directory (0600, atomic, never
// logged); persistent_state.yaml keeps the instance UID it was made for
// (modules.connection_settings.client_certificate_instance_uid).
#pragma once

#include <opsup/module.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "opamp.pb.h"

namespace opsup::connection_settings {

class ClientCertificate {
 public:
  // `fields_changed` is called when pending_request() changed: the module then sends its
  // AgentToServer fields again.
  ClientCertificate(opsup::Host &host, std::function<void()> fields_changed);

  // At the module's start: `committed_cert_pem` is the client certificate of the settings in
  // force ("" when none). A key made for another instance UID, or none, is replaced.
  void start(std::string_view committed_cert_pem);

  // Every ServerToAgent the module receives: notices a new instance UID and the server's
  // capabilities, and sends a request when one is due.
  void on_server_message();

  // The request to send with the module's fields, or nullptr.
  const ::opamp::proto::v1::ConnectionSettingsRequest *pending_request() const {
    return pending_ ? &*pending_ : nullptr;
  }

  // When `offer` answers the request (certificate.cert for this module's key, no
  // private_key): fills in the private key, withdraws the request, returns true.
  bool complete_offer(::opamp::proto::v1::OpAMPConnectionSettings &offer);

 private:
  void renew_key(const std::string &uid);
  void maybe_request();

  opsup::Host &host_;
  std::function<void()> fields_changed_;
  std::string uid_;  // the instance UID the key was made for (UUID text)
  std::string key_pem_;
  bool needs_certificate_ = false;
  bool said_server_lacks_capability_ = false;
  std::optional<::opamp::proto::v1::ConnectionSettingsRequest> pending_;
};

// Whether the supervisor config (YAML text) switches capabilities.accepts_opamp_connection_settings
// on. Throws std::invalid_argument naming the key when it is not a boolean.
bool accepts_opamp_connection_settings(std::string_view supervisor_config_yaml);

// The 16 bytes as UUID text (8-4-4-4-12, lower case).
std::string uuid_text(const opsup::InstanceUid &uid);

}  // namespace opsup::connection_settings
