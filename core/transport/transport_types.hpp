// Plain value types shared by the OpAMP client and server transports. No Asio here:
// this header is included widely.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace opsup::transport {

inline constexpr std::size_t kDefaultMaxMessageBytes = 64 * 1024 * 1024;
inline constexpr const char *kDefaultOpampPath = "/v1/opamp";

struct Header {
  std::string name;
  std::string value;
  bool operator==(const Header &) const = default;
};
using HeaderList = std::vector<Header>;

// Case-insensitive lookup of the first header called `name`; nullopt when absent.
std::optional<std::string> find_header(const HeaderList &headers, std::string_view name);

// Client-side TLS, with the Go supervisor's `server.tls` keys. Used only for wss/https.
struct ClientTlsSettings {
  std::string ca_file;
  std::string ca_pem;
  bool include_system_ca_certs_pool = false;  // with a CA given, also trust the system pool
  std::string cert_file;                      // client certificate (mTLS)
  std::string cert_pem;
  std::string key_file;
  std::string key_pem;
  bool insecure_skip_verify = false;  // verification is on unless this is set
  std::string server_name_override;   // SNI and the name checked in the server certificate
  std::string min_version;            // "1.0".."1.3"; empty means 1.2
  std::string max_version;            // empty means the newest
};

// An HTTP proxy for OpAMP connections (the keys of the offer's ProxyConnectionSettings):
// every connection is a CONNECT tunnel through it, TLS to the server inside the tunnel.
struct ProxySettings {
  std::string url;             // http://[user[:password]@]host[:port]; "" = connect directly
  HeaderList connect_headers;  // sent with CONNECT; the userinfo adds Proxy-Authorization
  bool operator==(const ProxySettings &) const = default;
};

// Server-side TLS. Client certificates are verified against client_ca_* when set.
struct ServerTlsSettings {
  std::string cert_file;
  std::string cert_pem;
  std::string key_file;
  std::string key_pem;
  std::string client_ca_file;
  std::string client_ca_pem;
  bool require_client_certificate = false;
};

// Why a client connection ended or could not be made.
struct DisconnectInfo {
  std::string reason;   // human-readable, names the peer
  int http_status = 0;  // status of a refused upgrade or failed POST, else 0
  std::optional<std::chrono::milliseconds> retry_after;  // from a Retry-After header
  bool message_too_large = false;                        // close 1009 / HTTP 413
};

// The peer of a Unix-socket connection (SO_PEERCRED).
struct PeerCredentials {
  int64_t pid = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// The certificate a TLS client presented and the server verified (mTLS). Public facts only.
struct PeerCertificate {
  std::string subject;    // RFC 2253, e.g. "O=opamp-supervisor,CN=0191..."
  std::string issuer;     // RFC 2253
  std::string serial;     // upper-case hex
  std::string not_after;  // RFC 3339, UTC
  bool operator==(const PeerCertificate &) const = default;
};

// What a server knows about a request before it accepts a connection or a POST.
struct RequestInfo {
  std::string peer;  // "127.0.0.1:5555" or "unix:/path (pid 12)"
  std::string target;
  HeaderList headers;
  bool websocket_upgrade = false;
  std::optional<PeerCredentials> peer_credentials;
  // The client certificate of a TLS connection, when the client presented one.
  std::optional<PeerCertificate> peer_certificate;

  // Case-insensitive header lookup; nullopt when absent.
  std::optional<std::string> header(std::string_view name) const;
};

// A server's refusal of a request, before any OpAMP message is exchanged.
struct Rejection {
  int http_status = 401;
  std::string body;
  std::optional<std::chrono::seconds> retry_after;  // sent as Retry-After
};

}  // namespace opsup::transport
