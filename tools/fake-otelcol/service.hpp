// One running "service" built from a validated config: its extensions (opamp, fault,
// health_check), its pipelines' lifecycle and health. A reload replaces the whole service,
// as in the Collector.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "service_model.hpp"
#include "uuid.hpp"

namespace boost::asio {
class io_context;
}

namespace opsup::fakeotelcol {

struct ServiceCallbacks {
  // The process must end: `exit_code` after a graceful shutdown (orphaned), or a crash.
  std::function<void(int exit_code, const std::string &reason)> fatal_error;
  std::function<void()> restart_requested;  // the OpAMP server sent a Restart command
};

class Service {
 public:
  Service(boost::asio::io_context &io, ServiceModel model, Uid uid, ServiceCallbacks callbacks);
  ~Service();
  Service(const Service &) = delete;
  Service &operator=(const Service &) = delete;

  // Starts extensions, then pipelines (after the fault's start_delay). Throws
  // std::runtime_error ("failed to start extensions: ...") when an extension cannot start.
  void start();
  // Stops extensions (the opamp one sends agent_disconnect), then calls done.
  void shutdown(std::function<void()> done);
  const ServiceModel &model() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace opsup::fakeotelcol
