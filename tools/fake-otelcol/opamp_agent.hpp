// The opamp extension's client side: one OpAMP connection (WebSocket or HTTP polling) over
// opsup_transport, reconnecting with backoff, sending full state on connect and only
// changes afterwards, answering ReportFullState and ReportAvailableComponents.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "opamp_settings.hpp"
#include "uuid.hpp"

namespace boost::asio {
class io_context;
}
namespace opamp::proto::v1 {
class ComponentHealth;
}

namespace opsup::fakeotelcol {

class OpampAgent {
 public:
  // `resource` is service.telemetry.resource. `on_restart` runs for a Restart command when
  // accepts_restart_command is set. Throws std::invalid_argument for unusable settings.
  OpampAgent(boost::asio::io_context &io, const OpampSettings &settings, const Uid &uid,
             const std::map<std::string, std::string> &resource, std::function<void()> on_restart);
  ~OpampAgent();
  OpampAgent(const OpampAgent &) = delete;
  OpampAgent &operator=(const OpampAgent &) = delete;

  void start();
  // Reported only when the capability is enabled and the value changed.
  void set_health(const opamp::proto::v1::ComponentHealth &health);
  void set_effective_config(const std::string &yaml);
  // Sends agent_disconnect, closes, then calls done (bounded by `timeout`).
  void shutdown(std::chrono::milliseconds timeout, std::function<void()> done);

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace opsup::fakeotelcol
