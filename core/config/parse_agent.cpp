// `agent:` — the Collector process and how the supervisor drives it.
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "common/uuid.hpp"
#include "config/internal/sections.hpp"

namespace opsup::config::internal {
namespace {

constexpr std::size_t kMaxUnixSocketPathBytes = 107;  // sun_path is 108 bytes with the NUL

struct ListItem {
  std::string text;
  std::string path;
  int line = 0;
};

// A list of strings with each item's own path and line (for per-item errors).
std::optional<std::vector<ListItem>> read_list_items(MapReader &section, std::string_view key) {
  auto entry = section.take(key);
  if (!entry)
    return std::nullopt;
  auto texts = read_scalar_list(entry->value, entry->path, entry->value_line, section.sink());
  if (!texts)
    return std::nullopt;
  std::vector<ListItem> items;
  for (std::size_t i = 0; i < texts->size(); ++i) {
    ListItem item{(*texts)[i], entry->path, entry->value_line};
    if (entry->value.IsSequence()) {
      item.path = index_path(item.path, i);
      const int line = line_of_node(entry->value[i]);
      if (line > 0)
        item.line = line;
    }
    items.push_back(std::move(item));
  }
  return items;
}

void read_config_files(MapReader &section, AgentConfig &agent) {
  auto items = read_list_items(section, "config_files");
  if (!items)
    return;
  for (auto &item : *items) {
    if (item.text.empty()) {
      section.sink().error(item.line, item.path, "must not be empty");
      continue;
    }
    if (item.text.starts_with('$') && item.text != kOwnTelemetryConfigToken &&
        item.text != kOpampExtensionConfigToken && item.text != kRemoteConfigToken) {
      section.sink().error(item.line, item.path,
                           quote_for_message(item.text) +
                               " is not a special config file; use $OWN_TELEMETRY_CONFIG, "
                               "$OPAMP_EXTENSION_CONFIG or $REMOTE_CONFIG");
    }
    agent.config_files.push_back(std::move(item.text));
  }
}

void read_fallback_configs(MapReader &section, AgentConfig &agent) {
  auto items = read_list_items(section, "startup_fallback_configs");
  if (!items)
    return;
  for (auto &item : *items) {
    if (item.text.empty()) {
      section.sink().error(item.line, item.path, "must not be empty");
      continue;
    }
    std::error_code error;
    (void)std::filesystem::status(item.text, error);
    if (error) {
      section.sink().error(
          item.line, item.path,
          "could not stat " + quote_for_message(item.text) + ": " + error.message());
    }
    agent.startup_fallback_configs.emplace_back(item.text);
  }
}

void read_env(MapReader &section, AgentConfig &agent) {
  std::map<std::string, std::string> env;
  if (section.read_string_map("env", env))
    agent.env = std::move(env);
}

void read_description(MapReader section, AgentDescriptionConfig &description) {
  section.read_string_map("identifying_attributes", description.identifying_attributes);
  section.read_string_map("non_identifying_attributes", description.non_identifying_attributes);
  section.read_bool("include_resource_attributes", description.include_resource_attributes);
  section.finish();
}

// Problems with a socket path written at `key` of `section`.
void check_socket_path(MapReader &section, std::string_view key, const std::string &socket) {
  if (!socket.starts_with('/')) {
    section.error(key, "must be an absolute path, got " + quote_for_message(socket));
  } else if (socket.size() > kMaxUnixSocketPathBytes) {
    section.error(key, "the path is " + std::to_string(socket.size()) +
                           " bytes, over the platform limit of " +
                           std::to_string(kMaxUnixSocketPathBytes) + " bytes");
  }
}

// An octal permission mode written at `key`; reports it unless it is "0".."0777".
void check_socket_mode(MapReader &section, std::string_view key, const std::string &mode) {
  uint64_t value = 0;
  bool octal = mode.size() <= 11;
  for (char c : mode) {
    if (c < '0' || c > '7')
      octal = false;
    if (octal)
      value = value * 8 + static_cast<uint64_t>(c - '0');
  }
  if (!octal || value > 0777) {
    section.error(key, "must be an octal permission mode between \"0\" and \"0777\", got " +
                           quote_for_message(mode));
  }
}

void check_not_with_port(MapReader &section, std::string_view key, const AgentConfig &agent) {
  if (agent.opamp_server_port != 0) {
    section.error(key, "cannot be used together with agent.opamp_server_port (" +
                           std::to_string(agent.opamp_server_port) + "); set only one");
  }
}

// The older keys: opamp_server_unix_socket and opamp_server_unix_socket_mode.
void read_legacy_unix_socket(MapReader &section, AgentConfig &agent) {
  std::string socket;
  if (section.read_string("opamp_server_unix_socket", socket) && !socket.empty()) {
    check_socket_path(section, "opamp_server_unix_socket", socket);
    check_not_with_port(section, "opamp_server_unix_socket", agent);
    agent.opamp_server_unix_socket = socket;
  }
  std::string mode;
  if (section.read_string("opamp_server_unix_socket_mode", mode) && !mode.empty()) {
    if (socket.empty()) {
      section.error("opamp_server_unix_socket_mode", "requires agent.opamp_server_unix_socket");
    }
    check_socket_mode(section, "opamp_server_unix_socket_mode", mode);
    agent.opamp_server_unix_socket_mode = mode;
  }
}

// The newest keys: opamp_server_socket {endpoint, transport} and opamp_server_socket_mode.
// They fill the same fields as the older ones, which they exclude.
void read_socket(MapReader &section, AgentConfig &agent) {
  const bool legacy = !agent.opamp_server_unix_socket.empty();
  bool socket_set = false;
  if (section.has("opamp_server_socket")) {
    MapReader socket_section = section.section("opamp_server_socket");
    if (socket_section.is_mapping()) {
      std::string endpoint;
      std::string transport = "unix";
      socket_section.read_string("transport", transport);
      if (transport == "npipe") {
        socket_section.error("transport",
                             "\"npipe\" (a Windows named pipe) is not supported on this "
                             "platform; use \"unix\"");
      } else if (transport != "unix") {
        socket_section.error("transport",
                             "must be \"unix\" or \"npipe\", got " + quote_for_message(transport));
      }
      if (socket_section.read_string("endpoint", endpoint) && !endpoint.empty()) {
        check_socket_path(socket_section, "endpoint", endpoint);
        socket_set = true;
      } else {
        socket_section.sink().error(socket_section.line_of_key("endpoint"),
                                    socket_section.key_path("endpoint"),
                                    "must be specified (the socket's absolute path)");
      }
      socket_section.finish();
      if (socket_set) {
        check_not_with_port(section, "opamp_server_socket", agent);
        if (legacy) {
          section.error("opamp_server_socket",
                        "cannot be used together with agent.opamp_server_unix_socket (its "
                        "older name); set only one");
        }
        agent.opamp_server_unix_socket = endpoint;
      }
    }
  }
  std::string mode;
  if (section.read_string("opamp_server_socket_mode", mode) && !mode.empty()) {
    if (!socket_set) {
      section.error("opamp_server_socket_mode", "requires agent.opamp_server_socket");
    }
    if (!agent.opamp_server_unix_socket_mode.empty()) {
      section.error("opamp_server_socket_mode",
                    "cannot be used together with agent.opamp_server_unix_socket_mode (its "
                    "older name); set only one");
    }
    check_socket_mode(section, "opamp_server_socket_mode", mode);
    agent.opamp_server_unix_socket_mode = mode;
  }
}

void read_unix_socket(MapReader &section, AgentConfig &agent) {
  read_legacy_unix_socket(section, agent);
  read_socket(section, agent);
}

// A uid or gid written as a number ("998"); nullopt for anything else. (uid_t)-1 is not an
// id: it means "unchanged" to setuid/chown.
std::optional<uint32_t> numeric_id(const std::string &text) {
  if (text.empty() ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  uint32_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == UINT32_MAX)
    return std::nullopt;
  return value;
}

// The passwd/group lookups: found, not found, or the database could not be read.
struct UserEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
};
struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
};
template <typename T>
struct Lookup {
  std::optional<T> entry;
  int error = 0;  // errno when the database could not be read
};

// getpw*_r/getgr*_r with a buffer that grows on ERANGE; `buffer` holds the strings the
// entry points to. Returns 0 (found or not) or the errno of a failed lookup.
template <typename Struct, typename Call>
int lookup_entry(Struct &result, std::vector<char> &buffer, bool &found, Call call) {
  buffer.resize(4096);
  while (true) {
    Struct *pointer = nullptr;
    const int error = call(&result, buffer.data(), buffer.size(), &pointer);
    if (error == ERANGE && buffer.size() < (1u << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    found = error == 0 && pointer != nullptr;
    // "Not found" is 0 or, depending on the NSS module, ENOENT/ESRCH/EBADF/EPERM.
    return found || error == ENOENT || error == ESRCH || error == EBADF || error == EPERM ? 0
                                                                                          : error;
  }
}

Lookup<UserEntry> find_user(const std::string &name, std::optional<uint32_t> uid) {
  passwd entry{};
  std::vector<char> buffer;
  bool found = false;
  Lookup<UserEntry> lookup;
  lookup.error = lookup_entry(entry, buffer, found,
                              [&](passwd *out, char *buf, size_t size, passwd **pointer) {
                                return uid ? ::getpwuid_r(*uid, out, buf, size, pointer)
                                           : ::getpwnam_r(name.c_str(), out, buf, size, pointer);
                              });
  if (found)
    lookup.entry = UserEntry{entry.pw_name, entry.pw_uid, entry.pw_gid};
  return lookup;
}

Lookup<GroupEntry> find_group(const std::string &name, std::optional<uint32_t> gid) {
  group entry{};
  std::vector<char> buffer;
  bool found = false;
  Lookup<GroupEntry> lookup;
  lookup.error =
      lookup_entry(entry, buffer, found, [&](group *out, char *buf, size_t size, group **pointer) {
        return gid ? ::getgrgid_r(*gid, out, buf, size, pointer)
                   : ::getgrnam_r(name.c_str(), out, buf, size, pointer);
      });
  if (found)
    lookup.entry = GroupEntry{entry.gr_name, entry.gr_gid};
  return lookup;
}

// The groups initgroups(user, gid) would give.
std::vector<uint32_t> supplementary_groups(const std::string &user, uint32_t gid) {
  int count = 32;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  while (::getgrouplist(user.c_str(), gid, groups.data(), &count) < 0) {
    if (count <= static_cast<int>(groups.size()))
      count = static_cast<int>(groups.size()) * 2;
    groups.resize(static_cast<std::size_t>(count));
  }
  groups.resize(static_cast<std::size_t>(count));
  std::vector<uint32_t> result(groups.begin(), groups.end());
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

// agent.run_as {user, group}: names or numeric ids, resolved now. A numeric uid without a
// passwd entry is taken as is (containers), but then the group must be given.
void read_run_as(MapReader section, AgentConfig &agent) {
  if (!section.is_mapping())
    return;
  RunAsConfig run_as;
  const bool user_read = section.read_string("user", run_as.user);
  const bool group_read = section.read_string("group", run_as.group);
  section.finish();
  if (!user_read || run_as.user.empty()) {
    if (!section.has("user") || user_read) {
      section.sink().error(section.line_of_key("user"), section.key_path("user"),
                           "must be specified (the user the Collector runs as)");
    }
    return;
  }
  bool ok = true;
  // As chown(1): a name first, then a number.
  const std::optional<uint32_t> uid = numeric_id(run_as.user);
  Lookup<UserEntry> user = find_user(run_as.user, std::nullopt);
  if (user.error == 0 && !user.entry && uid)
    user = find_user("", uid);
  if (user.error != 0) {
    section.error("user", "cannot look up " + quote_for_message(run_as.user) +
                              " in the user database: " + std::strerror(user.error));
    ok = false;
  } else if (user.entry) {
    run_as.uid = user.entry->uid;
    run_as.gid = user.entry->gid;
    run_as.user_name = user.entry->name;
  } else if (uid) {
    run_as.uid = *uid;
  } else {
    section.error("user", "no such user " + quote_for_message(run_as.user));
    ok = false;
  }
  if (ok && run_as.uid == 0) {
    section.error("user", quote_for_message(run_as.user) +
                              " is root (uid 0); run_as is for a less privileged user");
    ok = false;
  }

  if (group_read && !run_as.group.empty()) {
    const std::optional<uint32_t> gid = numeric_id(run_as.group);
    Lookup<GroupEntry> found = find_group(run_as.group, std::nullopt);
    if (found.error == 0 && !found.entry && gid)
      found = find_group("", gid);
    if (found.error != 0) {
      section.error("group", "cannot look up " + quote_for_message(run_as.group) +
                                 " in the group database: " + std::strerror(found.error));
      ok = false;
    } else if (found.entry) {
      run_as.gid = found.entry->gid;
      run_as.group_name = found.entry->name;
    } else if (gid) {
      run_as.gid = *gid;
    } else {
      section.error("group", "no such group " + quote_for_message(run_as.group));
      ok = false;
    }
  } else if (ok && !user.entry) {
    section.error("user", "uid " + run_as.user +
                              " has no entry in the user database, so it has no primary "
                              "group: set agent.run_as.group too");
    ok = false;
  } else if (ok) {
    const Lookup<GroupEntry> primary = find_group("", run_as.gid);
    if (primary.entry)
      run_as.group_name = primary.entry->name;
  }
  if (!ok)
    return;
  run_as.groups = run_as.user_name.empty() ? std::vector<uint32_t>{run_as.gid}
                                           : supplementary_groups(run_as.user_name, run_as.gid);
  if (std::find(run_as.groups.begin(), run_as.groups.end(), 0u) != run_as.groups.end()) {
    const std::string why = run_as.gid != 0        ? " is a member of group root (gid 0)"
                            : run_as.group.empty() ? "'s primary group is root (gid 0)"
                                                   : "";
    if (why.empty()) {
      section.error("group", "the group is root (gid 0); run_as is for a less privileged user");
    } else {
      section.error(
          "user", quote_for_message(run_as.user) + why + "; run_as is for a less privileged user");
    }
    return;
  }
  agent.run_as = std::move(run_as);
}

void read_identity(const Entry &item, CosignIdentity &identity, DiagnosticSink &sink) {
  MapReader reader(item.value, item.path, item.key_line, sink);
  reader.read_string("issuer", identity.issuer);
  reader.read_string("subject", identity.subject);
  reader.read_string("issuer_regex", identity.issuer_regex);
  reader.read_string("subject_regex", identity.subject_regex);
  reader.finish();
}

void read_package(MapReader section, AgentPackageConfig &package) {
  section.read_string("agent_binary", package.agent_binary);
  if (section.read_string("archive", package.archive)) {
    if (package.archive != "" && package.archive != "tar.gz") {
      section.error("archive", "unsupported archive format " + quote_for_message(package.archive) +
                                   "; use \"tar.gz\" or leave it empty");
    } else if (package.archive == "tar.gz" && package.agent_binary.empty()) {
      section.error("agent_binary", "must be specified for archive \"tar.gz\"");
    }
  }

  MapReader verifier = section.section("verifier");
  if (verifier.read_string("type", package.verifier.type) && package.verifier.type != "" &&
      package.verifier.type != "cosign") {
    verifier.error("type", "invalid verifier type " + quote_for_message(package.verifier.type) +
                               "; use \"cosign\" or leave it empty");
  }
  MapReader cosign = verifier.section("cosign");
  CosignConfig &cosign_config = package.verifier.cosign;
  cosign.read_string("github_workflow_repository", cosign_config.github_workflow_repository);
  if (auto identities = cosign.take("identities")) {
    if (!identities->value.IsSequence()) {
      cosign.error("identities", "must be a list, got " + node_kind(identities->value));
    } else {
      for (std::size_t i = 0; i < identities->value.size(); ++i) {
        Entry item;
        item.path = index_path(identities->path, i);
        item.value.reset(identities->value[i]);
        item.key_line =
            line_of_node(item.value) > 0 ? line_of_node(item.value) : identities->key_line;
        CosignIdentity identity;
        read_identity(item, identity, section.sink());
        if (package.verifier.type == "cosign") {
          auto fail = [&](const std::string &message) {
            section.sink().error(item.key_line, item.path, message);
          };
          if (!identity.issuer.empty() && !identity.issuer_regex.empty()) {
            fail("cannot specify both issuer and issuer_regex");
          }
          if (!identity.subject.empty() && !identity.subject_regex.empty()) {
            fail("cannot specify both subject and subject_regex");
          }
          if (identity.issuer.empty() && identity.issuer_regex.empty()) {
            fail("must specify one of issuer or issuer_regex");
          }
          if (identity.subject.empty() && identity.subject_regex.empty()) {
            fail("must specify one of subject or subject_regex");
          }
        }
        cosign_config.identities.push_back(std::move(identity));
      }
    }
  }
  cosign.finish();
  verifier.finish();
  section.finish();
}

}  // namespace

void parse_agent(MapReader section, AgentConfig &agent) {
  if (!section.is_mapping())
    return;  // already reported; one error is enough
  std::string executable;
  const bool executable_written = section.has("executable");
  const bool executable_read = section.read_string("executable", executable);
  if (executable_read && !executable.empty()) {
    agent.executable = executable;
  } else if (!executable_written || executable_read) {
    section.sink().error(section.line_of_key("executable"), section.key_path("executable"),
                         "must be specified (the path of the Collector executable)");
  }

  if (section.read_string("instance_id", agent.instance_id) && !agent.instance_id.empty() &&
      !common::parse_uuid(agent.instance_id)) {
    section.error("instance_id", "must be a valid UUID string when set, got " +
                                     quote_for_message(agent.instance_id));
  }
  section.read_duration("orphan_detection_interval", DurationRule::kPositive,
                        agent.orphan_detection_interval);
  read_description(section.section("description"), agent.description);
  section.read_duration("config_apply_timeout", DurationRule::kPositive,
                        agent.config_apply_timeout);
  section.read_duration("bootstrap_timeout", DurationRule::kPositive, agent.bootstrap_timeout);
  section.read_int("opamp_server_port", 0, 65535, agent.opamp_server_port);
  read_unix_socket(section, agent);
  section.read_bool("passthrough_logs", agent.passthrough_logs);
  section.read_int("collector_crash_log_snippet_kib", 0, 1024,
                   agent.collector_crash_log_snippet_kib);
  section.read_bool("automatic_config_rollback", agent.automatic_config_rollback);
  section.read_bool("use_hup_config_reload", agent.use_hup_config_reload);
  section.read_bool("validate_config", agent.validate_config);
  read_config_files(section, agent);
  section.read_string_list("args", agent.args);
  read_env(section, agent);
  read_fallback_configs(section, agent);
  read_package(section.section("package"), agent.package);
  if (section.has("run_as"))
    read_run_as(section.section("run_as"), agent);
  else
    section.accept("run_as");
  section.finish();
}

}  // namespace opsup::config::internal
