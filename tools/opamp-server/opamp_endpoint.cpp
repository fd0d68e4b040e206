#include "opamp_endpoint.hpp"

#include <spdlog/spdlog.h>

#include "common/log_throttle.hpp"
#include "encoding.hpp"
#include "outgoing.hpp"
#include "protocol_names.hpp"
#include "tls_selfsigned.hpp"

namespace opsup::opamp_server {

namespace {
// Agents can send bad messages as fast as they like: logged at info, rate-limited.
common::LogThrottle bad_message_log;

void log_bad_message(const transport::ServerConnection &connection, const std::string &what) {
  uint64_t suppressed = 0;
  if (!bad_message_log.admit(suppressed))
    return;
  spdlog::info("opamp: {} sent {}{}", connection.request().peer, what,
               suppressed == 0 ? std::string()
                               : " (" + std::to_string(suppressed) + " similar lines held back)");
}

const char *transport_name(const transport::ServerConnection &connection) {
  return connection.is_websocket() ? "ws" : "http";
}
}  // namespace

OpampEndpoint::OpampEndpoint(AgentRegistry &registry, const CertificateAuthority *authority)
    : registry_(registry), authority_(authority) {}

void OpampEndpoint::set_own_urls(std::string websocket_url, std::string http_url) {
  own_websocket_url_ = std::move(websocket_url);
  own_http_url_ = std::move(http_url);
}

void OpampEndpoint::set_required_headers(std::vector<std::pair<std::string, std::string>> headers) {
  required_headers_ = std::move(headers);
}

std::optional<transport::Rejection> OpampEndpoint::admit(const transport::RequestInfo &request) {
  for (const auto &[name, value] : required_headers_) {
    if (request.header(name) != value) {
      // The value is a credential: never logged.
      spdlog::info("opamp: refused a request from {}: header {} missing or wrong", request.peer,
                   name);
      return transport::Rejection{401, "header " + name + " missing or wrong\n", std::nullopt};
    }
  }
  return std::nullopt;
}

void OpampEndpoint::on_connected(const std::shared_ptr<transport::ServerConnection> &connection) {
  spdlog::debug("opamp: {} connection {} from {}", transport_name(*connection), connection->id(),
                connection->request().peer);
}

void OpampEndpoint::on_message(const std::shared_ptr<transport::ServerConnection> &connection,
                               std::string_view agent_to_server) {
  proto::AgentToServer message;
  if (!message.ParseFromArray(agent_to_server.data(), static_cast<int>(agent_to_server.size()))) {
    log_bad_message(*connection, std::to_string(agent_to_server.size()) +
                                     " bytes that are not an AgentToServer message");
    send_error(*connection, "", "the message is not a valid AgentToServer protobuf");
    return;
  }

  std::string uid = message.instance_uid();
  std::optional<std::string> assigned_uid;
  if (message.flags() & proto::AgentToServerFlags_RequestInstanceUid) {
    assigned_uid = new_uuid_v7();
    uid = *assigned_uid;
  } else if (uid.empty()) {
    log_bad_message(*connection, "an AgentToServer without instance_uid");
    send_error(*connection, "", "instance_uid is empty (16 bytes expected)");
    return;
  }

  bool created = false;
  AgentRecord &agent = registry_.find_or_create(uid, created);
  const auto previous_sequence = agent.reported.sequence_num;
  const bool fresh = registry_.attach(agent, connection);

  OutgoingContext context;
  context.websocket = connection->is_websocket();
  context.incoming = &message;
  // A gap in sequence numbers, or an agent we know nothing about sending a partial report:
  // we lost track of its state. The first message on a fresh connection normally is a full
  // report (agent_description included), which makes any jump harmless; a fresh connection
  // that continues with a jump and without a description lost messages in between.
  const bool jump = previous_sequence && message.sequence_num() != *previous_sequence + 1;
  const bool gap = jump && (!fresh || !message.has_agent_description());
  const bool unknown_and_partial = created && !message.has_agent_description();
  if (gap || unknown_and_partial) {
    context.flags |= proto::ServerToAgentFlags_ReportFullState;
    spdlog::info("opamp: asking agent {} for its full state ({})", agent.uid_key,
                 gap ? "sequence_num " + std::to_string(message.sequence_num()) + " after " +
                           std::to_string(*previous_sequence) +
                           (fresh ? " on a new connection" : "")
                     : std::string("first message from an unknown agent is partial"));
  }

  agent.reported.apply(message, std::chrono::system_clock::now());
  agent.received.add(summarize(message, transport_name(*connection), agent_to_server.size()));
  if (fresh) {
    spdlog::info("opamp: agent {} connected over {} from {}", agent.uid_key,
                 transport_name(*connection), connection->request().peer);
    agent.desired.on_fresh_connection(message);
  }
  if (message.has_agent_disconnect()) {
    agent.connection.disconnect_seen = true;
    ++agent.connection.disconnect_count;
    agent.connection.disconnected_at = std::chrono::system_clock::now();
    spdlog::info("opamp: agent {} said goodbye (agent_disconnect)", agent.uid_key);
  }
  if (message.has_available_components() && agent.reported.lacks_full_available_components()) {
    context.flags |= proto::ServerToAgentFlags_ReportAvailableComponents;
  }

  if (message.connection_settings_request().opamp().has_certificate_request()) {
    if (auto error = handle_certificate_request(agent)) {
      send_error(*connection, message.instance_uid(), *error);
      return;
    }
  }

  std::vector<proto::ServerToAgent> outgoing = compose_outgoing(agent, context);
  if (assigned_uid) {
    // Addressed to the UID the agent used; it switches to the new one.
    outgoing.front().set_instance_uid(message.instance_uid());
    outgoing.front().mutable_agent_identification()->set_new_instance_uid(*assigned_uid);
    spdlog::info("opamp: assigned instance UID {} to {}", agent.uid_key,
                 connection->request().peer);
  }
  for (std::size_t i = 0; i < outgoing.size(); ++i)
    send(&agent, *connection, outgoing[i], i == 0);
}

void OpampEndpoint::on_closed(const std::shared_ptr<transport::ServerConnection> &connection,
                              std::string_view reason) {
  AgentRecord *agent = registry_.detach(connection->id());
  if (agent != nullptr && connection->is_websocket()) {
    spdlog::info("opamp: agent {} disconnected ({})", agent->uid_key,
                 reason.empty() ? "closed" : std::string(reason));
  }
}

bool OpampEndpoint::push(AgentRecord &agent) {
  if (!agent.connection.websocket || !registry_.is_connected(agent))
    return false;
  auto connection = agent.connection.connection.lock();
  if (!connection)
    return false;
  OutgoingContext context;
  context.websocket = true;
  std::vector<proto::ServerToAgent> outgoing = compose_outgoing(agent, context);
  for (const auto &message : outgoing)
    send(&agent, *connection, message, false);
  return !outgoing.empty();
}

void OpampEndpoint::send(AgentRecord *agent, transport::ServerConnection &connection,
                         const proto::ServerToAgent &message, bool reply) {
  std::string bytes = message.SerializeAsString();
  if (agent != nullptr) {
    agent->sent.add(summarize(message, reply, transport_name(connection), bytes.size()));
  }
  connection.send(std::move(bytes));
}

void OpampEndpoint::send_error(transport::ServerConnection &connection,
                               const std::string &instance_uid, const std::string &error_message) {
  proto::ServerToAgent message;
  message.set_instance_uid(instance_uid);
  message.set_capabilities(server_capabilities());
  auto *error = message.mutable_error_response();
  error->set_type(proto::ServerErrorResponseType_BadRequest);
  error->set_error_message(error_message);
  AgentRecord *agent = registry_.find(uid_to_string(instance_uid));
  send(instance_uid.empty() ? nullptr : agent, connection, message, true);
}

std::optional<std::string> OpampEndpoint::handle_certificate_request(AgentRecord &agent) {
  auto &request = agent.reported.certificate_request;
  if (authority_ == nullptr) {
    request->error = "this server has no certificate authority";
    return request->error;
  }
  try {
    std::string cert_pem = authority_->sign_certificate_request(request->csr_pem, agent.uid_key);
    proto::OpAMPConnectionSettings settings = agent.desired.offers().opamp();
    if (settings.destination_endpoint().empty()) {
      settings.set_destination_endpoint(agent.connection.websocket ? own_websocket_url_
                                                                   : own_http_url_);
    }
    auto *certificate = settings.mutable_certificate();
    certificate->set_cert(cert_pem);
    certificate->set_ca_cert(authority_->ca_cert_pem());
    certificate->clear_private_key();  // the agent keeps its own key
    agent.desired.set_opamp_settings(std::move(settings));
    request->signed_ok = true;
    spdlog::info("opamp: signed a client certificate for agent {}", agent.uid_key);
    return std::nullopt;
  } catch (const std::exception &error) {
    request->error = error.what();
    spdlog::warn("opamp: refused the CSR of agent {}: {}", agent.uid_key, error.what());
    return "certificate request refused: " + request->error;
  }
}

}  // namespace opsup::opamp_server
