// Composes the ServerToAgent messages due to one agent now: flags, desired state that it
// does not have yet, and queued one-shot actions, within the protocol's rules (a command
// travels alone; one custom message per ServerToAgent; plain HTTP gets one response).
#pragma once

#include <cstdint>
#include <vector>

#include "agent_registry.hpp"
#include "opamp.pb.h"

namespace opsup::opamp_server {

struct OutgoingContext {
  bool websocket = false;
  // The message being answered; nullptr when an action pushes to a WebSocket agent.
  const proto::AgentToServer *incoming = nullptr;
  uint64_t flags = 0;  // decided while processing `incoming` (ReportFullState, ...)
};

// A reply always yields at least one message (the server answers every message, with only
// instance_uid and capabilities when it has nothing else). A push yields only messages with
// content. Marks what it includes as delivered and pops the one-shot actions it includes.
std::vector<proto::ServerToAgent> compose_outgoing(AgentRecord &agent,
                                                   const OutgoingContext &context);

// instance_uid and capabilities: the part of every ServerToAgent.
proto::ServerToAgent message_header(const AgentRecord &agent);

}  // namespace opsup::opamp_server
