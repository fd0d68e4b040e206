// restart_command: restarts the Collector on the server's Restart command
// (AcceptsRestartCommand, issue 10 item 4; section 2.17 of the reference).
//
// The host routes ServerToAgent.command here only while AcceptsRestartCommand is advertised
// (capabilities.accepts_restart_command), and a message carrying a command carries nothing
// else that counts (the spec). CommandType_Restart → the restart_collector service: the core
// stops the Collector and starts it again on the config it runs, and does not count that as
// a crash (no restart backoff). No status is sent: the new Collector's health is reported as
// usual. When there is nothing to restart (no config to run), the module says so in the log.
#include <opsup/module.hpp>

#include <string>

#include "opamp.pb.h"

namespace {

namespace proto = ::opamp::proto::v1;

class RestartCommandModule : public opsup::Module {
 public:
  explicit RestartCommandModule(opsup::Host &host) : opsup::Module(host) {}

  void on_server_message(std::string_view server_to_agent) override {
    proto::ServerToAgent message;
    if (!message.ParseFromArray(server_to_agent.data(), static_cast<int>(server_to_agent.size()))) {
      host().warn("restart_command: ignoring a ServerToAgent that does not parse");
      return;
    }
    if (!message.has_command())
      return;
    if (message.command().type() != proto::CommandType_Restart) {
      host().warn("restart_command: ignoring a command of unknown type " +
                  std::to_string(static_cast<int>(message.command().type())));
      return;
    }
    restart();
  }

 private:
  void restart() {
    switch (const opsup_status status = host().restart_collector()) {
      case OPSUP_OK:
        host().info("restart_command: restarting the Collector on the server's command");
        return;
      case OPSUP_ERR_NOT_FOUND:
        host().info(
            "restart_command: the server asked for a restart, but there is nothing to restart: "
            "the Collector has no config to run");
        return;
      case OPSUP_ERR_UNSUPPORTED:
        host().warn(
            "restart_command: the server asked for a restart, but this supervisor cannot "
            "restart the Collector for a module (module ABI 1.3 needed)");
        return;
      default:
        host().warn("restart_command: could not restart the Collector (status " +
                    std::to_string(status) + "; the supervisor is stopping)");
        return;
    }
  }
};

}  // namespace

OPSUP_DEFINE_MODULE(RestartCommandModule,
                    {.id = "restart_command",
                     .version = "0.1.0",
                     .description = "Restarts the Collector when the server sends a Restart "
                                    "command",
                     .capabilities = OPSUP_CAP_ACCEPTS_RESTART_COMMAND,
                     .server_to_agent_fields = {OPSUP_S2A_COMMAND}})
