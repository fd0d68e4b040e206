// agent.run_as on the Collector side: the user and groups every Collector process (the
// `featuregate` probe, the bootstrap run, `validate` runs and the running Collector) is
// started with, and what the supervisor does so that this user can read the files it needs
// in the storage directory, and nothing else there.
//
// Files the Collector reads (effective.yaml, bootstrap.yaml, validate-config-N.yaml) stay
// owned by the supervisor, get the run_as group and mode 0640; the storage directory gets
// the run_as group and mode 0710 (search, no listing). Everything else in it
// (persistent_state.yaml, agent.log, bootstrap_cache.yaml, ...) stays 0600, unreadable to
// the Collector. Why group read rather than handing the files to the run_as user: the owner
// of a file may chmod it, so a Collector owning effective.yaml could rewrite its own config
// in place, and the next restart (a crash, the backoff) would run that instead of what the
// supervisor and its policy checked. As a member of the group it can read the file and
// nothing more. The cost: other members of the run_as group can read these files too, so
// the group should be the Collector's own (the default: the user's primary group).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace opsup::collector {

struct CollectorCredentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // the supplementary groups (setgroups)
  std::string description;    // "user otelcol (uid 998), group otelcol (gid 998)"
};

// "" when this process can start Collectors with `credentials`: it needs CAP_SETUID and
// CAP_SETGID (root has them), and CAP_CHOWN unless it is a member of the run_as group
// itself (to give the files their group). Otherwise what it lacks, e.g. "the supervisor
// runs as uid 1000 without CAP_SETUID, CAP_SETGID and CAP_CHOWN".
std::string missing_privileges(const CollectorCredentials &credentials);

// Gives the storage directory the run_as group and mode 0710, so the Collector can open
// the files named below in it, but neither list it nor open the others. Throws
// std::runtime_error naming the directory.
void open_storage_directory(const std::filesystem::path &directory,
                            const CollectorCredentials &credentials);

// Writes (atomically) a file a Collector process reads. Without credentials: mode 0600, as
// every file of the supervisor. With them: the supervisor's, the run_as group, mode 0640.
// Throws std::runtime_error naming the file.
void write_collector_file(const std::filesystem::path &path, std::string_view contents,
                          const std::optional<CollectorCredentials> &credentials);

// Why the run_as user cannot reach `path` by the mode bits (ACLs are not read): the first
// directory on the way it may not search, or, with `execute`, the file itself when it may
// not execute it. "" when nothing is in the way (or `path` does not exist).
std::string unreachable_reason(const std::filesystem::path &path,
                               const CollectorCredentials &credentials, bool execute);

}  // namespace opsup::collector
