#include "agent_list_render.hpp"

#include <boost/json/serialize.hpp>

#include <memory>

#include "agent_registry.hpp"
#include "json_views.hpp"

namespace opsup::opamp_server {

namespace {

// Summaries are bounded (see json_views), so one slice stays a short stretch of work.
constexpr std::size_t kAgentsPerSlice = 16;

struct ListRender : std::enable_shared_from_this<ListRender> {
  AgentRegistry &registry;
  Defer defer;
  AgentListQuery query;
  std::function<void(std::string)> done;
  std::string body = "{\"agents\":[";
  std::string last_uid;
  bool started = false;
  std::size_t count = 0;
  std::size_t connected = 0;

  ListRender(AgentRegistry &registry, Defer defer, AgentListQuery query,
             std::function<void(std::string)> done)
      : registry(registry),
        defer(std::move(defer)),
        query(std::move(query)),
        done(std::move(done)) {}

  void slice() {
    const auto &agents = registry.agents();
    auto it = started ? agents.upper_bound(last_uid)
                      : (query.after.empty() ? agents.begin() : agents.upper_bound(query.after));
    started = true;
    for (std::size_t n = 0; n < kAgentsPerSlice && it != agents.end() && count < query.limit;
         ++n, ++it) {
      if (count > 0)
        body.push_back(',');
      body += boost::json::serialize(agent_json(*it->second, registry, false));
      if (registry.is_connected(*it->second))
        ++connected;
      ++count;
      last_uid = it->first;
    }
    if (it == agents.end() || count >= query.limit)
      return finish(it != agents.end());
    defer([self = shared_from_this()] { self->slice(); });
  }

  void finish(bool more) {
    body += "],\"count\":" + std::to_string(count) +
            ",\"connected_count\":" + std::to_string(connected);
    if (more)
      body += ",\"next_after\":" + boost::json::serialize(boost::json::value(last_uid));
    body += "}\n";
    done(std::move(body));
  }
};

}  // namespace

void render_agent_list(AgentRegistry &registry, const Defer &defer, AgentListQuery query,
                       std::function<void(std::string json)> done) {
  std::make_shared<ListRender>(registry, defer, std::move(query), std::move(done))->slice();
}

}  // namespace opsup::opamp_server
