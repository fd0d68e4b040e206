#include "web_page.hpp"

#include <stdexcept>

#include "json_views.hpp"
#include "web_assets.hpp"

namespace opsup::opamp_server {

namespace {
std::string asset(std::string_view name) {
  auto text = web_asset(name);
  if (!text)
    throw std::logic_error("web asset missing from the build: " + std::string(name));
  return std::string(*text);
}

void substitute(std::string &page, std::string_view placeholder, const std::string &value) {
  for (std::size_t at = page.find(placeholder); at != std::string::npos;
       at = page.find(placeholder, at + value.size())) {
    page.replace(at, placeholder.size(), value);
  }
}

// The template's own placeholders first: inlined CSS/JS may contain "{{" themselves.
std::string fill(std::string_view template_name,
                 const std::vector<std::pair<std::string_view, std::string>> &values) {
  std::string page = asset(template_name);
  for (const auto &[placeholder, value] : values)
    substitute(page, placeholder, value);
  substitute(page, "{{STYLE}}", asset("style.css"));
  substitute(page, "{{SCRIPT}}", asset("app.js"));
  return page;
}

std::string attribute(const AgentState &state, const std::string &key) {
  if (!state.description)
    return "";
  for (const auto *list : {&state.description->identifying_attributes(),
                           &state.description->non_identifying_attributes()}) {
    for (const auto &entry : *list) {
      if (entry.key() == key && entry.value().has_string_value()) {
        return entry.value().string_value();
      }
    }
  }
  return "";
}

std::string agent_row(const AgentRecord &agent, const AgentRegistry &registry) {
  const AgentState &state = agent.reported;
  bool connected = registry.is_connected(agent);
  std::string name = attribute(state, "service.name");
  if (name.empty())
    name = attribute(state, "host.name");
  std::string health;
  if (state.health)
    health = state.health->healthy() ? "healthy" : "unhealthy";
  std::string remote_config;
  if (state.remote_config_status) {
    static const char *kNames[] = {"UNSET", "APPLIED", "APPLYING", "FAILED"};
    int status = state.remote_config_status->status();
    remote_config = status >= 0 && status <= 3 ? kNames[status] : std::to_string(status);
  }
  std::string uid = html_escape(agent.uid_key);
  return "<tr data-uid=\"" + uid + "\"><td><a href=\"/agents/" + uid + "\"><code>" + uid +
         "</code></a></td><td>" + html_escape(name) + "</td><td class=\"" +
         (connected ? "ok\">connected" : "bad\">disconnected") + "</td><td>" +
         (agent.connection.websocket ? "ws" : "http") + "</td><td class=\"" +
         (health == "healthy" ? "ok" : "bad") + "\">" + health + "</td><td>" + remote_config +
         "</td><td>" + format_time(state.last_seen) + "</td><td>" +
         std::to_string(state.message_count) + "</td></tr>\n";
}
}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string render_index_page(const AgentRegistry &registry, const std::string &opamp_url) {
  std::string rows;
  for (const auto &[key, agent] : registry.agents())
    rows += agent_row(*agent, registry);
  std::string summary = std::to_string(registry.agents().size()) + " agents, " +
                        std::to_string(registry.connected_count()) + " connected";
  return fill("index.html", {{"{{AGENT_ROWS}}", rows},
                             {"{{AGENT_SUMMARY}}", summary},
                             {"{{OPAMP_URL}}", html_escape(opamp_url)}});
}

std::string render_agent_page(const AgentRecord &agent) {
  return fill("agent.html", {{"{{UID}}", html_escape(agent.uid_key)}});
}

}  // namespace opsup::opamp_server
