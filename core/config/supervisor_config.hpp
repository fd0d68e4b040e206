// The supervisor config file, typed. Keys and defaults are the Go supervisor's
// (cmd/opampsupervisor/supervisor/config), plus the keys below that it lacks.
//
// Keys the Go supervisor lacks (snake_case, under the section they configure):
//
// clang-format off
// | key                                             | default | meaning                                         |
// |-------------------------------------------------|---------|-------------------------------------------------|
// | capabilities.accepts_other_connection_settings  | false   | AcceptsOtherConnectionSettings (0x200)          |
// | capabilities.reports_connection_settings_status | false   | ReportsConnectionSettingsStatus (0x8000)        |
// | server.max_message_size_bytes                   | 64 MiB  | largest OpAMP message sent or accepted          |
// | server.connect_timeout                          | 30s     | TCP + TLS + WebSocket upgrade                   |
// | server.reconnect.initial_interval               | 1s      | first reconnect delay (exponential backoff      |
// | server.reconnect.max_interval                   | 60s     |   with full jitter, capped here)                |
// | server.reconnect.max_server_delay               | 1h      | longest wait a server can impose (up to 720h)   |
// | server.shutdown_timeout                         | 5s      | bound on agent_disconnect + close at exit       |
// | server.heartbeat_interval                       | 30s     | heartbeat (HTTP: poll) interval used until the  |
// |                                                 |         |   server offers one                             |
// | server.tls.include_system_ca_certs_pool         | false   | also trust the system CAs with ca_file          |
// | server.tls.max_version                          | ""      | newest TLS version allowed ("1.0".."1.3")       |
// | agent.run_as.user, agent.run_as.group           | —       | the Collector's user and group (upstream spec   |
// |                                                 |         |   names; the Go supervisor does not build them) |
// | telemetry.logs.rotation.max_megabytes           | 0       | rotate log files at this size (0 = never)       |
// | telemetry.logs.rotation.max_backups             | 3       | rotated log files kept                          |
// | plugins.directory                               | ""      | module directory ("" = next to the binary)      |
// | plugins.disable                                 | []      | module ids not to load                          |
// | plugins.<module id>                             | —       | that module's own settings, untouched           |
// clang-format on
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "config/duration.hpp"
#include "config/yaml_value.hpp"

namespace opsup::config {

inline constexpr const char *kExtensionsFeatureGate = "opampsupervisor.Extensions";
inline constexpr const char *kOwnTelemetryConfigToken = "$OWN_TELEMETRY_CONFIG";
inline constexpr const char *kOpampExtensionConfigToken = "$OPAMP_EXTENSION_CONFIG";
inline constexpr const char *kRemoteConfigToken = "$REMOTE_CONFIG";

struct Header {
  std::string name;
  std::string value;
};

// configtls.ClientConfig keys.
struct TlsClientConfig {
  bool insecure = false;
  bool insecure_skip_verify = false;
  std::string ca_file;
  std::string ca_pem;
  bool include_system_ca_certs_pool = false;
  std::string cert_file;
  std::string cert_pem;
  std::string key_file;
  std::string key_pem;
  std::string min_version;  // "1.0".."1.3"; "" means 1.2
  std::string max_version;  // "" means the newest
  std::string server_name_override;
  std::vector<std::string> cipher_suites;
  std::vector<std::string> curve_preferences;
  Duration reload_interval{0};
};

// configtls.ServerConfig keys (the healthcheck endpoint).
struct TlsServerConfig {
  std::string ca_file;
  std::string ca_pem;
  bool include_system_ca_certs_pool = false;
  std::string cert_file;
  std::string cert_pem;
  std::string key_file;
  std::string key_pem;
  std::string min_version;
  std::string max_version;
  std::vector<std::string> cipher_suites;
  std::vector<std::string> curve_preferences;
  Duration reload_interval{0};
  std::string client_ca_file;
  bool client_ca_file_reload = false;
};

struct ReconnectConfig {
  Duration initial_interval = std::chrono::seconds{1};
  Duration max_interval = std::chrono::seconds{60};
  // The longest wait a server can impose (Retry-After, retry_after_nanoseconds); longer
  // requests are clamped to it, so a buggy server cannot silence the supervisor.
  Duration max_server_delay = std::chrono::hours{1};
};

// The largest server.reconnect.max_server_delay accepted (30 days).
inline constexpr Duration kMaxServerDelayLimit = std::chrono::hours{24 * 30};

// server.proxy (NEW; the keys of the offer's ProxyConnectionSettings): an HTTP proxy the
// OpAMP connection tunnels through with CONNECT. Without a url, HTTPS_PROXY / HTTP_PROXY /
// NO_PROXY decide.
struct ProxyConfig {
  std::string url;                      // http://[user:password@]host[:port]; "" = none
  std::vector<Header> connect_headers;  // sent with CONNECT
};

struct ServerConfig {
  std::string endpoint;         // ws://, wss://, http:// or https:// (required)
  std::vector<Header> headers;  // file order; a header written as a list gives one entry per value
  TlsClientConfig tls;          // used only for wss/https
  ProxyConfig proxy;
  std::string auth;  // component id of an entry under `extensions`; "" = none
  uint64_t max_message_size_bytes = 64 * 1024 * 1024;
  Duration connect_timeout = std::chrono::seconds{30};
  ReconnectConfig reconnect;
  Duration shutdown_timeout = std::chrono::seconds{5};
  Duration heartbeat_interval = std::chrono::seconds{30};

  std::string scheme() const;   // lowercase scheme of `endpoint`
  bool uses_websocket() const;  // ws or wss
  bool uses_tls() const;        // wss or https
};

// One `capabilities:` key: its value and whether the file wrote it (a default-true key
// whose module is missing is only reported at info; a written one is an error).
struct CapabilitySetting {
  bool enabled = false;
  bool written = false;
};

struct CapabilitiesConfig {
  CapabilitySetting accepts_remote_config;
  CapabilitySetting accepts_restart_command;
  CapabilitySetting accepts_opamp_connection_settings;
  CapabilitySetting accepts_other_connection_settings;
  CapabilitySetting reports_effective_config{true};
  CapabilitySetting reports_own_metrics{true};
  CapabilitySetting reports_own_logs;
  CapabilitySetting reports_own_traces;
  CapabilitySetting reports_health{true};
  CapabilitySetting reports_remote_config;
  CapabilitySetting reports_available_components;
  CapabilitySetting reports_heartbeat{true};
  CapabilitySetting reports_connection_settings_status;
  CapabilitySetting accepts_packages;  // AcceptsPackages and ReportsPackageStatuses
};

struct StorageConfig {
  std::filesystem::path directory = "/var/lib/otelcol/supervisor";
};

struct AgentDescriptionConfig {
  std::map<std::string, std::string> identifying_attributes;
  std::map<std::string, std::string> non_identifying_attributes;
  bool include_resource_attributes = false;
};

struct CosignIdentity {
  std::string issuer;
  std::string subject;
  std::string issuer_regex;
  std::string subject_regex;
};

struct CosignConfig {
  std::string github_workflow_repository;
  std::vector<CosignIdentity> identities;
};

struct VerifierConfig {
  std::string type;  // "" (none) or "cosign"
  CosignConfig cosign;
};

struct AgentPackageConfig {
  std::string agent_binary = "otelcol-contrib";
  std::string archive;  // "" or "tar.gz"
  VerifierConfig verifier;
};

// agent.run_as: the user (and group) every Collector process runs as. Names are resolved
// when the file is loaded, so an unknown one is an error with its line.
struct RunAsConfig {
  std::string user;   // as written: a user name or a numeric uid
  std::string group;  // as written: a group name or a numeric gid; "" = the user's primary
  // Resolved at load:
  uint32_t uid = 0;
  uint32_t gid = 0;
  // The supplementary groups the Collector gets (initgroups: gid and every group that lists
  // the user); only gid for a numeric uid without a passwd entry.
  std::vector<uint32_t> groups;
  std::string user_name;   // from the passwd database; "" when the uid has no entry
  std::string group_name;  // from the group database; "" when the gid has no entry

  // "user otelcol (uid 998), group otelcol (gid 998)", for messages.
  std::string describe() const;
};

struct AgentConfig {
  std::filesystem::path executable;  // required; check_agent_executable() stats it
  std::string instance_id;           // "" or a UUID (see uuid.hpp)
  Duration orphan_detection_interval = std::chrono::seconds{5};
  AgentDescriptionConfig description;
  Duration config_apply_timeout = std::chrono::seconds{5};
  Duration bootstrap_timeout = std::chrono::seconds{3};
  int opamp_server_port = 0;  // 0 = a free loopback port
  std::filesystem::path opamp_server_unix_socket;
  std::string opamp_server_unix_socket_mode;  // octal text; "" = 0600
  bool passthrough_logs = false;
  int collector_crash_log_snippet_kib = 0;
  bool automatic_config_rollback = false;
  bool use_hup_config_reload = false;
  bool validate_config = false;
  std::vector<std::string> config_files;  // paths, file:/env: URIs or the $... tokens
  std::vector<std::string> args;
  // nullopt: the Collector inherits the environment; otherwise the supervisor's
  // environment plus these pairs.
  std::optional<std::map<std::string, std::string>> env;
  std::vector<std::filesystem::path> startup_fallback_configs;
  AgentPackageConfig package;
  std::optional<RunAsConfig> run_as;  // nullopt: the Collector runs as the supervisor

  uint32_t unix_socket_file_mode() const;  // opamp_server_unix_socket_mode, or 0600
};

// telemetry.logs.rotation (not upstream): size rotation of the log files in output_paths.
struct LogRotationConfig {
  int max_megabytes = 0;  // 0: no size rotation (leave it to logrotate and SIGHUP)
  int max_backups = 3;    // rotated files kept: <path>.1 ... <path>.<max_backups>
};

// The otelconf subtrees (processors, readers, resource) are kept as YAML, shape-checked.
struct LogsConfig {
  std::string level = "info";  // debug, info, warn, error, dpanic, panic, fatal
  std::string encoding = "json";
  std::vector<std::string> output_paths{"stdout"};
  std::vector<std::string> error_output_paths{"stderr"};
  LogRotationConfig rotation;
  YamlValue processors;  // null or a list of mappings
};

struct MetricsConfig {
  std::string level = "basic";  // none, basic, normal, detailed
  YamlValue readers;            // null or a list of mappings
};

struct TracesConfig {
  std::string level = "basic";
  std::vector<std::string> propagators;
  YamlValue processors;  // null or a list of mappings
};

struct TelemetryConfig {
  LogsConfig logs;
  MetricsConfig metrics;
  TracesConfig traces;
  YamlValue resource;  // null or a mapping
};

struct HealthCheckConfig {
  std::string endpoint;  // host:port; no port or port 0 = disabled
  std::string transport = "tcp";
  std::optional<TlsServerConfig> tls;

  int port() const;  // 0 when the endpoint has none
  bool enabled() const { return port() > 0; }
};

struct BearerTokenAuthConfig {
  std::string token;
  std::vector<std::string> tokens;
  std::string filename;  // file holding the token, re-read on change
  std::string header = "Authorization";
  std::string scheme = "Bearer";
};

struct BasicAuthConfig {  // basicauth client_auth
  std::string username;
  std::string username_file;
  std::string password;
  std::string password_file;
};

struct OAuth2ClientConfig {  // oauth2client, client-credentials grant
  std::string client_id;
  std::string client_id_file;
  std::string client_secret;
  std::string client_secret_file;
  std::string token_url;
  std::vector<std::string> scopes;
  std::map<std::string, std::vector<std::string>> endpoint_params;
  std::string grant_type = "client_credentials";
  Duration timeout{0};        // 0 = no timeout
  Duration expiry_buffer{0};  // 0 = library default
  TlsClientConfig tls;
};

using AuthExtensionSettings =
    std::variant<BearerTokenAuthConfig, BasicAuthConfig, OAuth2ClientConfig>;

struct ExtensionConfig {
  std::string id;    // "type" or "type/name"
  std::string type;  // bearertokenauth, basicauth or oauth2client
  std::string name;  // part after '/', may be empty
  AuthExtensionSettings settings;
};

struct PluginsConfig {
  std::filesystem::path directory;   // "" = the default module directory
  std::vector<std::string> disable;  // module ids
  // plugins.<module id>: passed to that module untouched (it validates them itself).
  std::map<std::string, YamlValue> module_sections;
};

struct SupervisorConfig {
  ServerConfig server;
  CapabilitiesConfig capabilities;
  StorageConfig storage;
  AgentConfig agent;
  TelemetryConfig telemetry;
  HealthCheckConfig healthcheck;
  std::vector<ExtensionConfig> extensions;  // file order
  PluginsConfig plugins;

  std::string source_name;  // the file as named by the user, for messages
  // The file as parsed, after ${...} expansion, marks intact (no defaults filled in).
  YamlValue document;

  const ExtensionConfig *find_extension(std::string_view id) const;
};

}  // namespace opsup::config
