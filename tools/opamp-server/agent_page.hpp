// The agent page's state sections rendered on the server, from the agent's JSON view (the
// same view the page's script refreshes them from), so the first HTML already shows the
// agent: description, capabilities, health tree, remote config, effective config,
// connection settings, custom capabilities and messages; and the config form's file rows,
// which start as the desired remote config.
#pragma once

#include <boost/json/object.hpp>

#include <map>
#include <string>

namespace opsup::opamp_server {

// Placeholder name (as in web/agent.html, without braces) → HTML, every value escaped.
std::map<std::string, std::string> render_agent_sections(const boost::json::object &view);

}  // namespace opsup::opamp_server
