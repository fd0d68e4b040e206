// One parser per config section. Each reads its mapping strictly (unknown keys are
// errors), keeps the defaults for absent keys and checks the rules that concern that
// section alone; cross-section rules live in config_loader.cpp.
#pragma once

#include "config/internal/map_reader.hpp"
#include "config/supervisor_config.hpp"

namespace opsup::config::internal {

void parse_server(MapReader section, ServerConfig &server);
void parse_capabilities(MapReader section, CapabilitiesConfig &capabilities);
void parse_storage(MapReader section, StorageConfig &storage);
void parse_agent(MapReader section, AgentConfig &agent);
void parse_telemetry(MapReader section, TelemetryConfig &telemetry);
void parse_healthcheck(MapReader section, HealthCheckConfig &healthcheck);
void parse_extensions(MapReader section, std::vector<ExtensionConfig> &extensions);
void parse_plugins(MapReader section, PluginsConfig &plugins);

// Port of a host:port endpoint as Go's net.SplitHostPort sees it: nullopt when there is
// no port part, 0 for an empty port, -1 when the port is not a number.
std::optional<int64_t> endpoint_port(std::string_view endpoint);

void parse_client_tls(MapReader section, TlsClientConfig &tls);
void parse_server_tls(MapReader section, TlsServerConfig &tls);

}  // namespace opsup::config::internal
