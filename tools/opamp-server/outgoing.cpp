#include "outgoing.hpp"

#include "protocol_names.hpp"

namespace opsup::opamp_server {

proto::ServerToAgent message_header(const AgentRecord &agent) {
  proto::ServerToAgent message;
  message.set_instance_uid(agent.uid_bytes);
  message.set_capabilities(server_capabilities());
  return message;
}

namespace {
proto::ServerToAgent restart_command(const AgentRecord &agent) {
  proto::ServerToAgent message = message_header(agent);
  message.mutable_command()->set_type(proto::CommandType_Restart);
  return message;
}

proto::ServerToAgent custom_message(const AgentRecord &agent, proto::CustomMessage custom) {
  proto::ServerToAgent message = message_header(agent);
  *message.mutable_custom_message() = std::move(custom);
  return message;
}
}  // namespace

std::vector<proto::ServerToAgent> compose_outgoing(AgentRecord &agent,
                                                   const OutgoingContext &context) {
  const bool reply = context.incoming != nullptr;
  std::vector<proto::ServerToAgent> messages;
  if (!reply && !context.websocket)
    return messages;  // plain HTTP only ever answers

  proto::ServerToAgent main = message_header(agent);
  bool has_content = false;

  uint64_t flags = context.flags;
  if (agent.pending.report_full_state) {
    flags |= proto::ServerToAgentFlags_ReportFullState;
    agent.pending.report_full_state = false;
  }
  if (flags != 0) {
    main.set_flags(flags);
    has_content = true;
  }
  if (agent.desired.remote_config_due(agent.reported, context.incoming)) {
    *main.mutable_remote_config() = *agent.desired.remote_config();
    agent.desired.mark_remote_config_sent();
    has_content = true;
  }
  if (auto offers = agent.desired.take_due_offers(agent.reported)) {
    *main.mutable_connection_settings() = std::move(*offers);
    has_content = true;
  }
  if (auto packages = agent.desired.take_due_packages(agent.reported)) {
    *main.mutable_packages_available() = std::move(*packages);
    has_content = true;
  }
  auto &custom_queue = agent.pending.custom_messages;
  if (!custom_queue.empty()) {
    *main.mutable_custom_message() = std::move(custom_queue.front());
    custom_queue.pop_front();
    has_content = true;
  }

  if (!context.websocket) {
    // One response per request: a command goes alone, so it waits for a reply with
    // nothing else in it.
    if (!has_content && agent.pending.restart) {
      main = restart_command(agent);
      agent.pending.restart = false;
    }
    messages.push_back(std::move(main));
    return messages;
  }

  if (has_content || reply)
    messages.push_back(std::move(main));
  if (agent.pending.restart) {
    messages.push_back(restart_command(agent));
    agent.pending.restart = false;
  }
  while (!custom_queue.empty()) {
    messages.push_back(custom_message(agent, std::move(custom_queue.front())));
    custom_queue.pop_front();
  }
  return messages;
}

}  // namespace opsup::opamp_server
