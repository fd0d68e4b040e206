// The OpAMP side of the server: receives AgentToServer messages from the transport,
// updates the registry and answers every message; pushes actions to WebSocket agents.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent_registry.hpp"
#include "transport/server_transport.hpp"

namespace opsup::opamp_server {

class CertificateAuthority;

class OpampEndpoint : public transport::ServerHandler {
 public:
  // `authority` signs agents' CSRs; may be null (CSRs are then refused).
  OpampEndpoint(AgentRegistry &registry, const CertificateAuthority *authority);

  // The server's own OpAMP URLs, used as the endpoint of connection settings that carry a
  // freshly signed client certificate.
  void set_own_urls(std::string websocket_url, std::string http_url);

  // Headers every OpAMP request must carry with exactly these values (names compared
  // case-insensitively); a request without them is refused with 401 before any message.
  void set_required_headers(std::vector<std::pair<std::string, std::string>> headers);
  std::optional<transport::Rejection> admit(const transport::RequestInfo &request) override;

  // Sends whatever is due to a connected WebSocket agent now. Returns true if something was
  // sent; false for plain-HTTP or offline agents (they get it with their next message).
  bool push(AgentRecord &agent);

  void on_connected(const std::shared_ptr<transport::ServerConnection> &connection) override;
  void on_message(const std::shared_ptr<transport::ServerConnection> &connection,
                  std::string_view agent_to_server) override;
  void on_closed(const std::shared_ptr<transport::ServerConnection> &connection,
                 std::string_view reason) override;

 private:
  void send(AgentRecord *agent, transport::ServerConnection &connection,
            const proto::ServerToAgent &message, bool reply);
  void send_error(transport::ServerConnection &connection, const std::string &instance_uid,
                  const std::string &error_message);
  // Signs the CSR the agent just sent; returns an error message when it cannot.
  std::optional<std::string> handle_certificate_request(AgentRecord &agent);

  AgentRegistry &registry_;
  const CertificateAuthority *authority_;
  std::vector<std::pair<std::string, std::string>> required_headers_;
  std::string own_websocket_url_;
  std::string own_http_url_;
};

}  // namespace opsup::opamp_server
