#include "shared/collector_group.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace opsup::plugins {
namespace {

std::optional<uint32_t> numeric_id(const std::string &text) {
  uint32_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
      value == UINT32_MAX)
    return std::nullopt;
  return value;
}

std::optional<gid_t> group_named(const std::string &name) {
  std::vector<char> buffer(16384);
  group entry{};
  group *found = nullptr;
  if (::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) == 0 && found)
    return found->gr_gid;
  return std::nullopt;
}

// The user's primary group, by name or else by numeric uid.
std::optional<gid_t> primary_group(const std::string &user) {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd *found = nullptr;
  if (::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found) == 0 && found)
    return found->pw_gid;
  if (const auto uid = numeric_id(user)) {
    if (::getpwuid_r(*uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found)
      return found->pw_gid;
  }
  return std::nullopt;
}

}  // namespace

std::optional<gid_t> collector_group(std::string_view supervisor_config_yaml) {
  YAML::Node run_as;
  try {
    const YAML::Node root = YAML::Load(std::string(supervisor_config_yaml));
    if (!root.IsMap() || !root["agent"] || !root["agent"].IsMap())
      return std::nullopt;
    run_as = root["agent"]["run_as"];
  } catch (const YAML::Exception &) {
    return std::nullopt;  // the core reports a config that does not parse
  }
  if (!run_as || !run_as.IsMap())
    return std::nullopt;
  const std::string user = run_as["user"] ? run_as["user"].as<std::string>("") : "";
  const std::string group = run_as["group"] ? run_as["group"].as<std::string>("") : "";
  if (!group.empty()) {
    if (const auto gid = group_named(group))
      return gid;
    if (const auto gid = numeric_id(group))
      return static_cast<gid_t>(*gid);
    throw std::invalid_argument("agent.run_as.group: no such group \"" + group + "\"");
  }
  if (const auto gid = primary_group(user))
    return gid;
  throw std::invalid_argument("agent.run_as.user: no primary group for \"" + user + "\"");
}

std::string share_with_collector(const std::string &path, gid_t gid) {
  // 0600 until the group is right, as the core does for effective.yaml.
  if (::chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0)
    return std::string("cannot give it the run_as group: ") + std::strerror(errno);
  if (::chmod(path.c_str(), 0640) != 0)
    return std::string("cannot set mode 0640: ") + std::strerror(errno);
  return {};
}

}  // namespace opsup::plugins
