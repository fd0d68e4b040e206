#include "web_page.hpp"

#include <map>
#include <stdexcept>

#include "agent_page.hpp"
#include "encoding.hpp"
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

// One pass over the template: each {{NAME}} with a value is replaced, and inserted text
// (agent data, the inlined CSS and JS) is never scanned for placeholders again.
std::string fill(std::string_view template_name, std::map<std::string, std::string> values) {
  values.emplace("STYLE", asset("style.css"));
  values.emplace("SCRIPT", asset("app.js"));
  const std::string page = asset(template_name);
  std::string out;
  out.reserve(page.size() * 2);
  std::size_t done = 0;
  for (std::size_t open = page.find("{{"); open != std::string::npos;
       open = page.find("{{", done)) {
    std::size_t close = page.find("}}", open + 2);
    if (close == std::string::npos)
      break;
    auto value = values.find(page.substr(open + 2, close - open - 2));
    if (value == values.end()) {
      out.append(page, done, open + 2 - done);
      done = open + 2;
      continue;
    }
    out.append(page, done, open - done);
    out += value->second;
    done = close + 2;
  }
  out.append(page, done, std::string::npos);
  return out;
}

std::string attribute(const AgentState &state, const std::string &key) {
  if (!state.description)
    return "";
  for (const auto *list : {&state.description->identifying_attributes(),
                           &state.description->non_identifying_attributes()}) {
    for (const auto &entry : *list) {
      if (entry.key() == key && entry.value().has_string_value()) {
        return clip_utf8(entry.value().string_value(), 256);
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
  return fill(
      "index.html",
      {{"AGENT_ROWS", rows}, {"AGENT_SUMMARY", summary}, {"OPAMP_URL", html_escape(opamp_url)}});
}

std::string render_agent_page(const AgentRecord &agent, const AgentRegistry &registry) {
  auto values = render_agent_sections(agent_json(agent, registry, true));
  values["UID"] = html_escape(agent.uid_key);
  return fill("agent.html", std::move(values));
}

}  // namespace opsup::opamp_server
