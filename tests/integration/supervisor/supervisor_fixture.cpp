#include "supervisor_fixture.hpp"

#include <fstream>

#include "support/collector.hpp"

namespace opsup::testing {

std::string supervisor_yaml(const SupervisorRun &run) {
  return "server:\n"
         "  endpoint: " +
         run.endpoint +
         "\n"
         "  reconnect:\n    initial_interval: 200ms\n    max_interval: 2s\n"
         "  shutdown_timeout: 5s\n" +
         run.server_yaml +
         "agent:\n"
         "  executable: " +
         (run.collector.empty() ? collector_executable(CollectorKind::kStandIn) : run.collector)
             .string() +
         "\n  bootstrap_timeout: 30s\n" + run.agent_yaml +
         "storage:\n"
         "  directory: " +
         run.storage.string() + "\n" +
         (run.telemetry_yaml.empty()
              ? std::string("telemetry:\n  logs:\n    level: debug\n    encoding: console\n")
              : run.telemetry_yaml) +
         run.extra_yaml;
}

std::unique_ptr<ChildProcess> start_supervisor(const SupervisorRun &run,
                                               const std::filesystem::path &config_dir) {
  const auto config_path = config_dir / "supervisor.yaml";
  std::ofstream(config_path) << supervisor_yaml(run);
  ProcessOptions options;
  options.executable = binary("opampsupervisor");
  options.args = {"--config", config_path.string(), "--modules-dir", run.modules_dir.string()};
  options.args.insert(options.args.end(), run.extra_args.begin(), run.extra_args.end());
  options.extra_env = run.env;
  return std::make_unique<ChildProcess>(options);
}

std::string wait_for_connected_agent(const OpampServerProcess &server,
                                     std::chrono::milliseconds timeout) {
  std::string uid;
  eventually(
      [&] {
        boost::json::value agents = server.get_json("/api/agents");
        const auto &list = at(agents, {"agents"});
        if (!list.is_array())
          return false;
        for (const auto &agent : list.as_array()) {
          if (at(agent, {"connection", "connected"}) == boost::json::value(true)) {
            uid = string_at(agent, {"instance_uid"});
            return true;
          }
        }
        return false;
      },
      timeout);
  return uid;
}

CommandResult run_supervisor_command(const std::vector<std::string> &args) {
  ProcessOptions options;
  options.executable = binary("opampsupervisor");
  options.args = args;
  ChildProcess process(options);
  CommandResult result;
  result.exit_code = process.wait_exit(std::chrono::seconds(60)).value_or(-1);
  // The exit can come before the reader thread has drained the pipes.
  process.wait_output_closed(std::chrono::seconds(10));
  for (const auto &line : process.lines())
    result.output += line + "\n";
  return result;
}

}  // namespace opsup::testing
