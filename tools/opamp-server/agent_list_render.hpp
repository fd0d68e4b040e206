// GET /api/agents rendered in slices: a few agents at a time, yielding to the event loop
// between slices, so that OpAMP traffic keeps flowing while a long list is rendered.
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <string>

namespace opsup::opamp_server {

class AgentRegistry;

struct AgentListQuery {
  std::string after;  // list agents whose UID sorts after this one ("": from the start)
  std::size_t limit = std::numeric_limits<std::size_t>::max();
};

// Runs `task` later on the event loop thread.
using Defer = std::function<void(std::function<void()> task)>;

// Renders {"agents": [...], "count", "connected_count"[, "next_after"]} and hands the JSON
// text to `done`. Agents that come or go while rendering are listed or not by where the
// render stands; count and connected_count describe the agents listed.
void render_agent_list(AgentRegistry &registry, const Defer &defer, AgentListQuery query,
                       std::function<void(std::string json)> done);

}  // namespace opsup::opamp_server
