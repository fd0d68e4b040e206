#include "package_state.hpp"

#include <yaml-cpp/yaml.h>

#include <array>
#include <utility>

namespace opsup::packages {
namespace {

constexpr std::array<std::pair<Status, std::string_view>, 5> kNames = {{
    {Status::kInstalled, "Installed"},
    {Status::kInstallPending, "InstallPending"},
    {Status::kInstalling, "Installing"},
    {Status::kInstallFailed, "InstallFailed"},
    {Status::kDownloading, "Downloading"},
}};

std::string text_at(const YAML::Node &node, const char *key) {
  const YAML::Node value = node[key];
  if (!value || value.IsNull())
    return {};
  if (!value.IsScalar())
    throw std::runtime_error(std::string(key) + ": not a scalar");
  return value.as<std::string>();
}

std::string hash_at(const YAML::Node &node, const char *key) {
  auto bytes = from_hex(text_at(node, key));
  if (!bytes)
    throw std::runtime_error(std::string(key) + ": not hex");
  return *bytes;
}

}  // namespace

std::string_view status_name(Status status) {
  for (const auto &[value, name] : kNames) {
    if (value == status)
      return name;
  }
  return "Unknown";
}

std::optional<Status> parse_status(std::string_view name) {
  for (const auto &[value, known] : kNames) {
    if (known == name)
      return value;
  }
  return std::nullopt;
}

std::string state_yaml(const PackagesState &state) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "server_provided_all_packages_hash" << YAML::Value << YAML::DoubleQuoted
      << to_hex(state.server_provided_all_packages_hash);
  out << YAML::Key << "packages" << YAML::Value << YAML::BeginMap;
  for (const auto &[name, package] : state.packages) {
    out << YAML::Key << YAML::DoubleQuoted << name << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "status" << YAML::Value << std::string(status_name(package.status));
    out << YAML::Key << "agent_has_version" << YAML::Value << YAML::DoubleQuoted
        << package.agent_has_version;
    out << YAML::Key << "agent_has_hash" << YAML::Value << YAML::DoubleQuoted
        << to_hex(package.agent_has_hash);
    out << YAML::Key << "server_offered_version" << YAML::Value << YAML::DoubleQuoted
        << package.server_offered_version;
    out << YAML::Key << "server_offered_hash" << YAML::Value << YAML::DoubleQuoted
        << to_hex(package.server_offered_hash);
    out << YAML::Key << "error_message" << YAML::Value << YAML::DoubleQuoted
        << package.error_message;
    out << YAML::Key << "retry" << YAML::Value << package.retry;
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  out << YAML::EndMap;
  return out.c_str();
}

std::optional<PackagesState> parse_state(std::string_view yaml, std::string &error) {
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    if (!root.IsMap()) {
      error = "not a map";
      return std::nullopt;
    }
    PackagesState state;
    state.server_provided_all_packages_hash = hash_at(root, "server_provided_all_packages_hash");
    const YAML::Node packages = root["packages"];
    if (packages && !packages.IsNull()) {
      if (!packages.IsMap()) {
        error = "packages: not a map";
        return std::nullopt;
      }
      for (const auto &entry : packages) {
        const std::string name = entry.first.as<std::string>();
        const YAML::Node &node = entry.second;
        if (!node.IsMap()) {
          error = "packages." + name + ": not a map";
          return std::nullopt;
        }
        PackageState package;
        const auto status = parse_status(text_at(node, "status"));
        if (!status) {
          error = "packages." + name + ".status: unknown status '" + text_at(node, "status") + "'";
          return std::nullopt;
        }
        package.status = *status;
        package.agent_has_version = text_at(node, "agent_has_version");
        package.agent_has_hash = hash_at(node, "agent_has_hash");
        package.server_offered_version = text_at(node, "server_offered_version");
        package.server_offered_hash = hash_at(node, "server_offered_hash");
        package.error_message = text_at(node, "error_message");
        package.retry = node["retry"] && node["retry"].as<bool>();
        state.packages.emplace(name, std::move(package));
      }
    }
    return state;
  } catch (const std::exception &failure) {
    error = failure.what();
    return std::nullopt;
  }
}

}  // namespace opsup::packages
