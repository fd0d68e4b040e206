// JSON views of the server's state for the API and the web page (shapes documented in
// README.md; tests assert on them, so keep them stable).
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <string>

#include "agent_registry.hpp"
#include "package_store.hpp"

namespace opsup::opamp_server {

// RFC 3339 UTC with milliseconds: "2024-05-01T12:00:00.123Z".
std::string format_time(std::chrono::system_clock::time_point time);

// `detailed` adds effective config bodies, the full available components map, recent custom
// messages, desired state and pending actions; the list view leaves them out.
boost::json::object agent_json(const AgentRecord &agent, const AgentRegistry &registry,
                               bool detailed);
// The newest `limit` entries, oldest first.
boost::json::array received_messages_json(const AgentRecord &agent, std::size_t limit);
boost::json::array sent_messages_json(const AgentRecord &agent, std::size_t limit);
boost::json::object package_json(const StoredPackage &package);

}  // namespace opsup::opamp_server
