#include "storage/persistent_state.hpp"

#include <ctime>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include "common/yaml_emit.hpp"
#include "storage/atomic_file.hpp"

namespace opsup::storage {

using common::format_uuid;
using common::from_hex;
using common::generate_uuid_v7;
using common::parse_instance_id;
using common::to_hex;
namespace {

constexpr const char *kInstanceIdKey = "instance_id";
constexpr const char *kRemoteConfigStatusKey = "last_remote_config_status";

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

// A scalar that stays a string when re-read (hex digits may look like numbers).
YAML::Node quoted_string(const std::string &value) {
  YAML::Node node(value);
  node.SetTag("!");
  return node;
}

// Moves a corrupt file aside so a person can inspect it; never throws.
void move_aside(const std::filesystem::path &file, const std::string &problem) {
  std::filesystem::path aside = file;
  aside += ".corrupt-" + utc_timestamp();
  std::error_code error;
  std::filesystem::rename(file, aside, error);
  if (error) {
    spdlog::error(
        "Persistent state file \"{}\" is corrupt ({}) and could not be moved aside "
        "to \"{}\": {}; starting with a fresh state",
        file.string(), problem, aside.string(), error.message());
  } else {
    spdlog::error(
        "Persistent state file \"{}\" is corrupt ({}); moved it to \"{}\" and "
        "started with a fresh state",
        file.string(), problem, aside.string());
  }
}

// The parsed document, or an empty map when the file is absent or corrupt.
YAML::Node load_document(const std::filesystem::path &file, bool &existed) {
  std::optional<std::string> text;
  try {
    text = read_file_if_exists(file);
  } catch (const std::exception &error) {
    move_aside(file, error.what());
    existed = false;
    return YAML::Node(YAML::NodeType::Map);
  }
  existed = text.has_value();
  if (!text)
    return YAML::Node(YAML::NodeType::Map);
  YAML::Node document;
  try {
    document = YAML::Load(*text);
  } catch (const YAML::Exception &error) {
    move_aside(file, "line " + std::to_string(error.mark.line + 1) + ": " + error.msg);
    existed = false;
    return YAML::Node(YAML::NodeType::Map);
  }
  if (document.IsNull())
    return YAML::Node(YAML::NodeType::Map);  // empty file
  if (!document.IsMap()) {
    move_aside(file, "the top level is not a mapping");
    existed = false;
    return YAML::Node(YAML::NodeType::Map);
  }
  return document;
}

}  // namespace

struct PersistentState::Impl {
  std::filesystem::path file;
  YAML::Node document;
  Uuid instance_id{};

  void save() const { write_file_atomically(file, common::emit_yaml(document)); }

  std::optional<Uuid> stored_instance_id() const {
    const YAML::Node node = document[kInstanceIdKey];
    if (!node)
      return std::nullopt;
    if (!node.IsScalar()) {
      spdlog::warn("Persistent state file \"{}\": key \"{}\" is not a string", file.string(),
                   kInstanceIdKey);
      return std::nullopt;
    }
    auto id = parse_instance_id(node.Scalar());
    if (!id) {
      spdlog::warn(
          "Persistent state file \"{}\": key \"{}\" (line {}) is not a valid UUID: "
          "\"{}\"",
          file.string(), kInstanceIdKey, node.Mark().line + 1, node.Scalar());
    }
    return id;
  }
};

PersistentState::PersistentState(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PersistentState::~PersistentState() = default;

std::unique_ptr<PersistentState> PersistentState::load_or_create(
    const std::filesystem::path &storage_directory, std::optional<Uuid> configured_instance_id) {
  ensure_private_directory(storage_directory);
  auto impl = std::make_unique<Impl>();
  impl->file = storage_directory / kPersistentStateFileName;
  bool existed = false;
  impl->document = load_document(impl->file, existed);

  const std::optional<Uuid> stored = impl->stored_instance_id();
  bool dirty = !existed;
  if (configured_instance_id) {
    impl->instance_id = *configured_instance_id;
    if (stored != configured_instance_id) {
      if (stored) {
        spdlog::info("Replacing the stored instance ID {} with the configured one {}",
                     format_uuid(*stored), format_uuid(*configured_instance_id));
      }
      dirty = true;
    }
  } else if (stored) {
    impl->instance_id = *stored;
  } else {
    impl->instance_id = generate_uuid_v7();
    dirty = true;
  }
  if (dirty) {
    impl->document[kInstanceIdKey] = format_uuid(impl->instance_id);
    impl->save();
  }
  return std::unique_ptr<PersistentState>(new PersistentState(std::move(impl)));
}

const std::filesystem::path &PersistentState::file_path() const {
  return impl_->file;
}

const Uuid &PersistentState::instance_id() const {
  return impl_->instance_id;
}

void PersistentState::set_instance_id(const Uuid &id) {
  impl_->instance_id = id;
  impl_->document[kInstanceIdKey] = format_uuid(id);
  impl_->save();
}

std::optional<StoredRemoteConfigStatus> PersistentState::last_remote_config_status() const {
  const YAML::Node &document = impl_->document;
  const YAML::Node node = document[kRemoteConfigStatusKey];
  if (!node || node.IsNull())
    return std::nullopt;
  const std::string where = "Persistent state file \"" + impl_->file.string() + "\", key \"" +
                            kRemoteConfigStatusKey + "\" (line " +
                            std::to_string(node.Mark().line + 1) + ")";
  if (!node.IsMap()) {
    spdlog::error("{} is not a mapping; ignoring it", where);
    return std::nullopt;
  }
  StoredRemoteConfigStatus status;
  try {
    if (node["status"])
      status.status = node["status"].as<int>();
    if (node["error_message"] && !node["error_message"].IsNull()) {
      status.error_message = node["error_message"].as<std::string>();
    }
    if (node["last_remote_config_hash"] && !node["last_remote_config_hash"].IsNull()) {
      const std::string hex = node["last_remote_config_hash"].as<std::string>();
      std::optional<std::string> hash = from_hex(hex);
      if (!hash) {
        spdlog::error("{}: last_remote_config_hash is not hex: \"{}\"; ignoring the status", where,
                      hex);
        return std::nullopt;
      }
      status.last_remote_config_hash = std::move(*hash);
    }
  } catch (const YAML::Exception &error) {
    spdlog::error("{}: {}; ignoring it", where, error.msg);
    return std::nullopt;
  }
  return status;
}

void PersistentState::set_last_remote_config_status(const StoredRemoteConfigStatus &status) {
  YAML::Node node(YAML::NodeType::Map);
  node["status"] = status.status;
  node["last_remote_config_hash"] = quoted_string(to_hex(status.last_remote_config_hash));
  node["error_message"] = quoted_string(status.error_message);
  impl_->document[kRemoteConfigStatusKey] = node;
  impl_->save();
}

std::optional<std::string> PersistentState::value_yaml(std::string_view key) const {
  const YAML::Node &document = impl_->document;
  const YAML::Node node = document[std::string(key)];
  if (!node)
    return std::nullopt;
  return common::emit_yaml(node);
}

void PersistentState::set_value_yaml(std::string_view key, std::string_view yaml_text) {
  if (key == kInstanceIdKey || key == kRemoteConfigStatusKey) {
    throw std::invalid_argument("persistent state key \"" + std::string(key) +
                                "\" is owned by the supervisor core");
  }
  YAML::Node value;
  try {
    value = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception &error) {
    throw std::invalid_argument("invalid YAML for persistent state key \"" + std::string(key) +
                                "\" at line " + std::to_string(error.mark.line + 1) + ": " +
                                error.msg);
  }
  impl_->document[std::string(key)] = value;
  impl_->save();
}

void PersistentState::remove_value(std::string_view key) {
  if (impl_->document.remove(std::string(key)))
    impl_->save();
}

}  // namespace opsup::storage
