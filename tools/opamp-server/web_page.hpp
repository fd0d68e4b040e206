// The web page: server-rendered HTML from the embedded templates, with the stylesheet and
// script inlined (no external assets). The script refreshes the state from the JSON API.
#pragma once

#include <string>
#include <string_view>

#include "agent_registry.hpp"

namespace opsup::opamp_server {

std::string html_escape(std::string_view text);

// The agent list.
std::string render_index_page(const AgentRegistry &registry, const std::string &opamp_url);
// One agent: its current state rendered here (the script then refreshes it), and forms for
// every action.
std::string render_agent_page(const AgentRecord &agent, const AgentRegistry &registry);

}  // namespace opsup::opamp_server
