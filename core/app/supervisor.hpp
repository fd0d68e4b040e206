// The running supervisor: one object that wires the OpAMP session, the capability modules
// and the Collector together, so `run` is a few lines.
//
//   start-up   session (persistent state, instance UID) → modules loaded and created →
//              Collector checks (local config files, feature gates, bootstrap cache) →
//              modules started → the Collector's description learned (bootstrap or cache)
//              → the session connects, the local OpAMP server serves the Collector, which
//              runs on the composed config without waiting for the server
//   running    server messages go to modules (and ReportFullState down to the Collector);
//              the Collector's messages go to modules, its description to the session, its
//              process and health changes to every module as events
//   SIGHUP     the config file is read again with start-up's checks (config_reload.hpp):
//              the log outputs are reopened (logrotate), then the changes a running
//              supervisor can apply are applied (config_diff.hpp: log level and outputs,
//              agent.config_files → the Collector's config recomposed through the change
//              queue, description overrides → AgentDescription sent again, heartbeat
//              interval); the others are logged as taking effect after a restart. A file
//              that does not load changes nothing but the reopened logs.
//   SIGTERM    the Collector stops gracefully, then agent_disconnect, then modules stop
//
// Threading: construct and run() on one thread, which runs the io_context.
#pragma once

#include <memory>

#include "app/cli.hpp"
#include "config/supervisor_config.hpp"

namespace opsup::app {

class Supervisor {
 public:
  Supervisor(const CommandLine &command, const config::SupervisorConfig &config);
  ~Supervisor();
  Supervisor(const Supervisor &) = delete;
  Supervisor &operator=(const Supervisor &) = delete;

  // Runs until SIGTERM/SIGINT has been handled. Returns the process exit code: 1 when
  // start-up fails (the reason is logged), else 0.
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace opsup::app
