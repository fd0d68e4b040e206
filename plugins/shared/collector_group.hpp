// Letting the Collector read the module's certificate files under agent.run_as. The
// supervisor writes module files 0600 as itself; a Collector running as the run_as user
// could not read them and would not start ("failed to load TLS config"). As the core does
// for effective.yaml, such a file gets the run_as group and mode 0640 (group read, never
// handed over: a Collector owning it could rewrite it).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace opsup::plugins {

// The gid the Collector runs with, from the supervisor config's agent.run_as ({user,
// group}: names or numeric ids, a name first as chown(1) reads them; no group: the user's
// primary group); nullopt without run_as. Throws std::invalid_argument naming the key when
// it cannot be resolved (the core has already checked it, so only a changed user database
// gets there).
std::optional<gid_t> collector_group(std::string_view supervisor_config_yaml);

// Gives `path` the group `gid` and mode 0640; "" on success, else why not (errno text).
std::string share_with_collector(const std::string &path, gid_t gid);

}  // namespace opsup::plugins
