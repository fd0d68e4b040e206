#include "app/collector_options_mapping.hpp"

#include "config/capability_bits.hpp"
#include "config/config_loader.hpp"

namespace opsup::app {

collector::CollectorControllerOptions make_collector_options(const config::SupervisorConfig &config,
                                                             const std::string &instance_uid) {
  const config::AgentConfig &agent = config.agent;
  collector::CollectorControllerOptions options;
  options.executable = agent.executable;
  options.args = agent.args;
  options.env = agent.env;
  options.storage_directory = config.storage.directory;
  options.config_files = agent.config_files;
  options.startup_fallback_configs.assign(agent.startup_fallback_configs.begin(),
                                          agent.startup_fallback_configs.end());
  if (const int line = config::line_of(config.document.node(), "agent.startup_fallback_configs");
      line > 0) {
    std::string origin = config.source_name;  // piece by piece, as below (GCC 12 -Wrestrict)
    origin.append(":").append(std::to_string(line));
    options.fallback_configs_origin = origin.append(": agent.startup_fallback_configs");
  }
  options.instance_uid = instance_uid;
  options.bootstrap_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(agent.bootstrap_timeout);
  options.local_server_port = static_cast<std::uint16_t>(agent.opamp_server_port);
  options.local_server_socket = agent.opamp_server_unix_socket;
  options.local_server_socket_mode = agent.unix_socket_file_mode();
  options.passthrough_logs = agent.passthrough_logs;
  options.use_hup_config_reload = agent.use_hup_config_reload;
  options.crash_log_snippet_bytes =
      static_cast<std::size_t>(agent.collector_crash_log_snippet_kib) * 1024;
  options.include_resource_attributes = agent.description.include_resource_attributes;
  options.identifying_overrides = agent.description.identifying_attributes;
  options.non_identifying_overrides = agent.description.non_identifying_attributes;
  if (agent.run_as) {
    const config::RunAsConfig &run_as = *agent.run_as;
    collector::CollectorCredentials credentials;
    credentials.uid = static_cast<uid_t>(run_as.uid);
    credentials.gid = static_cast<gid_t>(run_as.gid);
    credentials.groups.assign(run_as.groups.begin(), run_as.groups.end());
    credentials.description = run_as.describe();
    options.credentials = std::move(credentials);
    // Built piece by piece: GCC 12 misreads `":" + std::to_string(...)` (-Wrestrict).
    std::string origin = config.source_name;
    if (const int line = config::line_of(config.document.node(), "agent.run_as"); line > 0)
      origin.append(":").append(std::to_string(line));
    options.credentials_origin = origin.append(": agent.run_as");
  }
  return options;
}

}  // namespace opsup::app
