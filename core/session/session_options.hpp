// What the OpAMP client session needs to know, decided by the caller (main maps the
// supervisor config onto it). Plain values only: this header is included widely.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "transport/transport_types.hpp"

namespace opsup::session {

using InstanceUid = std::array<uint8_t, 16>;

// `server.auth` through a bearer-token extension. The token file, when set, is read again
// before every connect (token rotation).
struct BearerTokenAuth {
  std::string token;
  std::filesystem::path token_file;
  std::string header = "Authorization";
  std::string scheme = "Bearer";  // the value is "<scheme> <token>", or the token alone
};

struct BasicAuth {
  std::string username;
  std::string password;
};

// OAuth2 client credentials (RFC 6749 §4.4), like Go's clientcredentials package. A token
// is fetched before connecting, refreshed ahead of its expiry and again on a reconnect
// after it expired.
struct OAuth2ClientCredentialsAuth {
  std::string client_id;
  std::string client_secret;
  std::filesystem::path client_id_file;      // when set, read before each token request
  std::filesystem::path client_secret_file;  // when set, read before each token request
  std::string token_url;
  std::vector<std::string> scopes;
  std::vector<std::pair<std::string, std::string>> endpoint_params;  // extra form fields
  std::chrono::milliseconds timeout{30000};
  transport::ClientTlsSettings tls;  // for an https token_url
  // false: client_id/client_secret as form fields; true: HTTP Basic (URL-encoded parts).
  bool credentials_in_header = false;
};

using AuthSettings =
    std::variant<std::monostate, BearerTokenAuth, BasicAuth, OAuth2ClientCredentialsAuth>;

// `agent.description`: these values win over the reported ones.
struct DescriptionOverrides {
  std::map<std::string, std::string> identifying_attributes;
  std::map<std::string, std::string> non_identifying_attributes;
};

struct SessionOptions {
  std::string endpoint;  // ws://, wss://, http:// or https://
  transport::HeaderList headers;
  transport::ClientTlsSettings tls;
  std::string unix_socket_path;  // connect here instead of the endpoint's host
  // server.proxy; an empty url means HTTPS_PROXY / HTTP_PROXY / NO_PROXY decide
  // (transport/proxy_environment.hpp), for OpAMP connections only.
  transport::ProxySettings proxy;
  AuthSettings auth;
  bool gzip_http_requests = false;
  std::size_t max_message_bytes = transport::kDefaultMaxMessageBytes;
  std::chrono::milliseconds connect_timeout{30000};
  // With heartbeats off, WebSocket pings after this much silence; no answer within twice
  // it ends the connection, so a half-open connection is still noticed. 0 disables.
  std::chrono::milliseconds websocket_ping_interval{30000};

  std::filesystem::path storage_directory;
  std::optional<InstanceUid> instance_id;  // agent.instance_id; overrides the stored one

  // AgentCapabilities bits to advertise. Heartbeats are sent when ReportsHeartbeat
  // (0x2000) is among them.
  uint64_t capabilities = 0x1;
  // Until the server offers one; 0 disables heartbeats. Plain HTTP polls at this interval
  // (30 s when heartbeats are off).
  std::chrono::seconds heartbeat_interval{30};

  // Reconnect backoff: the cap doubles from initial to max; the delay is drawn from the
  // top `reconnect_jitter` fraction of the cap (1.0 = full jitter, 0 = none).
  std::chrono::milliseconds reconnect_initial_interval{500};
  std::chrono::milliseconds reconnect_max_interval{60000};
  double reconnect_jitter = 1.0;
  // The longest wait a server can ask for (Retry-After, retry_after_nanoseconds); longer
  // requests are clamped to it and logged.
  std::chrono::milliseconds reconnect_max_server_delay{3600000};

  // At most one full report per window: a ReportFullState arriving sooner after the last
  // full report is answered when the window ends.
  std::chrono::milliseconds full_state_coalescing_window{1000};
  std::chrono::milliseconds shutdown_timeout{5000};

  DescriptionOverrides description_overrides;
  // The identifying service.name of the description built from host facts, used until
  // the Collector describes itself.
  std::string default_service_name = "io.opentelemetry.collector";
};

// Supervisor-side events, always on the io_context thread.
struct SessionCallbacks {
  // Every ServerToAgent without error_response, after the session handled its own parts
  // (server capabilities, flags, instance UID, heartbeat offer). A message with `command`
  // is passed re-serialized holding only `command`. `advertised_capabilities` is the
  // AgentCapabilities bitmask this session advertises.
  std::function<void(std::string_view server_to_agent, uint64_t advertised_capabilities)>
      route_server_message;
  std::function<void()> on_connected;
  std::function<void(std::string_view reason)> on_disconnected;    // a live connection ended
  std::function<void(std::string_view reason)> on_connect_failed;  // an attempt failed
  std::function<void(const InstanceUid &new_uid)> on_instance_uid_changed;
  // Every AgentToServer handed to the transport, and every ServerToAgent that decoded
  // (error responses included); for the supervisor's own metrics.
  std::function<void()> on_message_sent;
  std::function<void()> on_message_received;
};

}  // namespace opsup::session
