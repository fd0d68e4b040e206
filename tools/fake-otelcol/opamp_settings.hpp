// The `opamp` extension's configuration, with the keys of the contrib extension and the
// ones the supervisor injects (section 3 of upstream-supervisor.md).
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "transport/transport_types.hpp"

namespace opsup::fakeotelcol {

class FeatureGates;

struct OpampSettings {
  bool websocket = true;  // server.ws (else server.http)
  std::string endpoint;
  opsup::transport::HeaderList headers;
  opsup::transport::ClientTlsSettings tls;
  bool tls_insecure = false;  // plain ws/http even if the scheme asked for TLS is absent
  std::string unix_socket;
  std::chrono::milliseconds polling_interval{30000};

  std::string instance_uid;  // as configured; may be empty
  bool reports_effective_config = true;
  bool reports_health = true;
  bool reports_available_components = true;
  bool accepts_restart_command = false;

  std::map<std::string, std::string> non_identifying_attributes;
  bool include_resource_attributes = false;

  int64_t ppid = 0;
  std::chrono::milliseconds ppid_poll_interval{5000};

  // From the fault extension (faults.hpp), not an opamp extension key.
  std::string echo_custom_capability;
};

// Throws DecodeError for unknown keys or wrong types.
OpampSettings decode_opamp_settings(const YAML::Node &node);
// Throws InvalidError like the extension's Config.Validate.
void validate_opamp_settings(const OpampSettings &settings, const FeatureGates &gates);

}  // namespace opsup::fakeotelcol
