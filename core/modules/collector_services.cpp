#include "modules/collector_services.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>

namespace opsup::modules {

bool valid_service_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

std::optional<std::string> service_name_problem(const char *name, std::string_view what) {
  if (name == nullptr)
    return std::string(what) + " is NULL";
  if (valid_service_name(name))
    return std::nullopt;
  if (name[0] == '\0')
    return std::string(what) + " is empty";
  return std::string(what) + " \"" + name + "\" has a character outside [A-Za-z0-9_.-]";
}

std::optional<std::string> flags_problem(uint32_t flags, uint32_t allowed) {
  if ((flags & ~allowed) == 0)
    return std::nullopt;
  char text[64];
  std::snprintf(text, sizeof text, "unknown flags 0x%x", static_cast<unsigned>(flags & ~allowed));
  return std::string(text);
}

std::optional<std::string> copy_remote_config_files(
    const opsup_config_file *files, size_t count, uint32_t flags,
    std::optional<std::vector<RemoteConfigFile>> &out) {
  if ((flags & OPSUP_REMOTE_CONFIG_CLEAR) != 0) {
    out.reset();
    return std::nullopt;
  }
  std::vector<RemoteConfigFile> copies;
  if (count > 0) {
    if (files == nullptr)
      return "files is NULL with count " + std::to_string(count);
    // Every element has the module's struct_size; step by it (append-only structs).
    const uint32_t stride = files[0].struct_size;
    if (stride < sizeof(opsup_config_file)) {
      return "files[0].struct_size " + std::to_string(stride) + " is smaller than " +
             std::to_string(sizeof(opsup_config_file));
    }
    const auto *base = reinterpret_cast<const unsigned char *>(files);
    for (size_t i = 0; i < count; ++i) {
      const auto *file = reinterpret_cast<const opsup_config_file *>(base + i * stride);
      if (file->struct_size != stride) {
        return "files[" + std::to_string(i) + "].struct_size " + std::to_string(file->struct_size) +
               " differs from files[0]'s " + std::to_string(stride);
      }
      if (file->body.data == nullptr && file->body.size != 0)
        return "files[" + std::to_string(i) + "].body is NULL with a size";
      RemoteConfigFile copy;
      copy.name = file->name != nullptr ? file->name : "";
      if (file->body.size != 0) {
        copy.body.assign(reinterpret_cast<const char *>(file->body.data), file->body.size);
      }
      copy.content_type = file->content_type != nullptr ? file->content_type : "";
      copies.push_back(std::move(copy));
    }
  }
  out = std::move(copies);
  return std::nullopt;
}

opsup_status config_change_status(ConfigChangeResult::Status status) {
  switch (status) {
    case ConfigChangeResult::Status::kOk:
      return OPSUP_OK;
    case ConfigChangeResult::Status::kVeto:
      return OPSUP_ERR_VETO;
    case ConfigChangeResult::Status::kInvalid:
      return OPSUP_ERR_INVALID_ARGUMENT;
    case ConfigChangeResult::Status::kFailed:
      break;
  }
  return OPSUP_ERR_FAILED;
}

int32_t collector_health_code(CollectorHealth health) {
  switch (health) {
    case CollectorHealth::kHealthy:
      return OPSUP_COLLECTOR_HEALTH_HEALTHY;
    case CollectorHealth::kUnhealthy:
      return OPSUP_COLLECTOR_HEALTH_UNHEALTHY;
    case CollectorHealth::kUnknown:
      break;
  }
  return OPSUP_COLLECTOR_HEALTH_UNKNOWN;
}

bool fill_collector_state(const CollectorStateView &view, const std::string &last_error,
                          opsup_collector_state *out) {
  if (out == nullptr || !OPSUP_HAS_FIELD(opsup_collector_state, out->struct_size, running))
    return false;
  opsup_collector_state full{};
  full.running = view.running ? 1 : 0;
  full.pid = view.running ? static_cast<int64_t>(view.pid) : 0;
  full.health = collector_health_code(view.health);
  full.generation = view.generation;
  full.latest_generation = view.latest_generation;
  full.restart_count = view.restart_count;
  full.start_time_unix_nano = view.start_time_unix_nano;
  full.last_error = last_error.c_str();
  const uint32_t size = std::min<uint32_t>(out->struct_size, sizeof full);
  std::memcpy(out, &full, size);
  out->struct_size = size;
  return true;
}

}  // namespace opsup::modules
