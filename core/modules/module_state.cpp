#include "modules/module_state.hpp"

#include <yaml-cpp/yaml.h>

#include <exception>
#include <stdexcept>

#include "common/uuid.hpp"
#include "common/yaml_emit.hpp"
#include "modules/collector_services.hpp"
#include "storage/persistent_state.hpp"

namespace opsup::modules {
namespace {

StateOutcome refused(opsup_status status, std::string problem) {
  StateOutcome outcome;
  outcome.status = status;
  outcome.problem = std::move(problem);
  return outcome;
}

StateOutcome found(std::string yaml) {
  StateOutcome outcome;
  outcome.yaml = std::move(yaml);
  return outcome;
}

std::optional<std::string> key_problem(std::string_view key, const StateCaller &caller) {
  if (!valid_service_name(key)) {
    return "state key \"" + std::string(key) + "\" is empty or has a character outside " +
           "[A-Za-z0-9_.-]";
  }
  if (key == kRemoteConfigStatusStateKey && !caller.owns_remote_config_status) {
    return "state key last_remote_config_status belongs to the module owning "
           "AcceptsRemoteConfig or ReportsRemoteConfig";
  }
  return std::nullopt;
}

// The `modules` map as stored; an empty map when absent or not a map.
YAML::Node modules_map(const storage::PersistentState &state) {
  const std::optional<std::string> text = state.value_yaml(kModulesStateKey);
  if (!text)
    return YAML::Node(YAML::NodeType::Map);
  try {
    YAML::Node node = YAML::Load(*text);
    if (node.IsMap())
      return node;
  } catch (const YAML::Exception &) {
  }
  return YAML::Node(YAML::NodeType::Map);
}

StateOutcome read_remote_config_status(const storage::PersistentState &state) {
  const std::optional<storage::StoredRemoteConfigStatus> status = state.last_remote_config_status();
  if (!status)
    return refused(OPSUP_ERR_NOT_FOUND, "");
  YAML::Node node(YAML::NodeType::Map);
  node["status"] = status->status;
  node["last_remote_config_hash"] =
      common::yaml_string(common::to_hex(status->last_remote_config_hash));
  node["error_message"] = common::yaml_string(status->error_message);
  return found(common::emit_yaml(node));
}

// Parses an upstream-format last_remote_config_status; a problem when it is not one.
std::optional<std::string> parse_remote_config_status(const YAML::Node &node,
                                                      storage::StoredRemoteConfigStatus &out) {
  if (!node.IsMap()) {
    return "last_remote_config_status must be a map {status, last_remote_config_hash, "
           "error_message}";
  }
  for (const auto &entry : node) {
    const std::string name = entry.first.Scalar();
    const YAML::Node &value = entry.second;
    if (name != "status" && name != "last_remote_config_hash" && name != "error_message") {
      return "last_remote_config_status has an unknown key \"" + name + "\"";
    }
    if (common::is_yaml_null(value))
      continue;
    if (!value.IsScalar())
      return "last_remote_config_status." + name + " must be a scalar";
    if (name == "status") {
      int status = -1;
      if (!YAML::convert<int>::decode(value, status) || status < 0 || status > 3) {
        return "last_remote_config_status.status must be 0..3 (RemoteConfigStatuses), not \"" +
               value.Scalar() + "\"";
      }
      out.status = status;
    } else if (name == "last_remote_config_hash") {
      std::optional<std::string> hash = common::from_hex(value.Scalar());
      if (!hash) {
        return "last_remote_config_status.last_remote_config_hash is not hex: \"" + value.Scalar() +
               "\"";
      }
      out.last_remote_config_hash = std::move(*hash);
    } else {
      out.error_message = value.Scalar();
    }
  }
  return std::nullopt;
}

}  // namespace

StateOutcome read_module_state(const storage::PersistentState &state, const StateCaller &caller,
                               std::string_view key) {
  if (auto problem = key_problem(key, caller))
    return refused(OPSUP_ERR_INVALID_ARGUMENT, *problem);
  if (key == kInstanceIdStateKey)
    return found(common::emit_yaml(common::yaml_string(common::format_uuid(state.instance_id()))));
  if (key == kRemoteConfigStatusStateKey)
    return read_remote_config_status(state);
  const YAML::Node modules = modules_map(state);
  // (A missing key of a const node is invalid: IsDefined() first, IsMap() would throw.)
  const YAML::Node own = modules[std::string(caller.module_id)];
  if (!own.IsDefined() || !own.IsMap())
    return refused(OPSUP_ERR_NOT_FOUND, "");
  const YAML::Node value = own[std::string(key)];
  if (!value.IsDefined())
    return refused(OPSUP_ERR_NOT_FOUND, "");
  return found(common::emit_yaml(value));
}

StateOutcome write_module_state(storage::PersistentState &state, const StateCaller &caller,
                                std::string_view key, std::optional<std::string_view> yaml_value) {
  if (auto problem = key_problem(key, caller))
    return refused(OPSUP_ERR_INVALID_ARGUMENT, *problem);
  if (key == kInstanceIdStateKey)
    return refused(OPSUP_ERR_INVALID_ARGUMENT, "state key instance_id is not writable");
  YAML::Node value;
  if (yaml_value) {
    try {
      value = YAML::Load(std::string(*yaml_value));
    } catch (const YAML::Exception &error) {
      return refused(OPSUP_ERR_INVALID_ARGUMENT,
                     "the value of state key " + std::string(key) + " is not valid YAML (line " +
                         std::to_string(error.mark.line + 1) + "): " + error.msg);
    }
  }
  try {
    if (key == kRemoteConfigStatusStateKey) {
      if (!yaml_value) {
        state.remove_value(kRemoteConfigStatusStateKey);
        return {};
      }
      storage::StoredRemoteConfigStatus status;
      if (auto problem = parse_remote_config_status(value, status))
        return refused(OPSUP_ERR_INVALID_ARGUMENT, *problem);
      state.set_last_remote_config_status(status);
      return {};
    }
    YAML::Node modules = modules_map(state);
    const std::string id(caller.module_id);
    YAML::Node own = modules[id];
    if (!own.IsMap())
      own = YAML::Node(YAML::NodeType::Map);
    if (yaml_value) {
      own[std::string(key)] = value;
    } else if (!own.remove(std::string(key))) {
      return {};  // nothing to remove
    }
    if (own.size() == 0) {
      modules.remove(id);
    } else {
      modules[id] = own;
    }
    if (modules.size() == 0) {
      state.remove_value(kModulesStateKey);
    } else {
      state.set_value_yaml(kModulesStateKey, common::emit_yaml(modules));
    }
  } catch (const std::exception &error) {
    return refused(OPSUP_ERR_FAILED, error.what());
  }
  return {};
}

}  // namespace opsup::modules
