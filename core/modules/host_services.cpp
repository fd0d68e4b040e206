// The opsup_host_api table: what a module may ask of the supervisor. Every entry first
// finds the calling module's slot from its handle.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>

#include "modules/collector_services.hpp"
#include "modules/field_ownership.hpp"
#include "modules/module_settings.hpp"
#include "modules/module_slot.hpp"
#include "modules/module_state.hpp"
#include "modules/module_storage.hpp"
#include "modules/package_download.hpp"
#include "modules/wire_scan.hpp"
#include "opsup/opamp_constants.h"

namespace opsup::modules::detail {
namespace {

spdlog::level::level_enum spdlog_level(opsup_log_level level) {
  switch (level) {
    case OPSUP_LOG_TRACE:
      return spdlog::level::trace;
    case OPSUP_LOG_DEBUG:
      return spdlog::level::debug;
    case OPSUP_LOG_WARN:
      return spdlog::level::warn;
    case OPSUP_LOG_ERROR:
      return spdlog::level::err;
    default:
      return spdlog::level::info;
  }
}

const std::string &id_of(const ModuleSlot &slot) {
  return slot.candidate.info.id;
}

void log(opsup_host *host, opsup_log_level level, const char *message) {
  const ModuleSlot &slot = slot_of(host);
  spdlog::log(spdlog_level(level), "module {}: {}", id_of(slot), message ? message : "");
}

opsup_status set_agent_fields(opsup_host *host, opsup_bytes agent_to_server) {
  ModuleSlot &slot = slot_of(host);
  if (!slot.accepting->load())
    return OPSUP_ERR_FAILED;
  const std::string_view bytes(reinterpret_cast<const char *>(agent_to_server.data),
                               agent_to_server.data ? agent_to_server.size : 0);
  if (auto problem = agent_fields_problem(id_of(slot), slot.owned_agent_fields, bytes,
                                          &slot.candidate.info.custom_capabilities)) {
    spdlog::error("{}", *problem);
    return OPSUP_ERR_INVALID_ARGUMENT;
  }
  // custom_capabilities comes from the descriptor (ModuleRegistry::start): what the module
  // sends or leaves out here neither adds to nor clears it.
  std::vector<uint32_t> fields = slot.owned_agent_fields;
  std::erase(fields, uint32_t{OPSUP_A2S_CUSTOM_CAPABILITIES});
  slot.core->context.set_agent_fields(id_of(slot), fields, bytes);
  return OPSUP_OK;
}

void instance_uid(opsup_host *host, uint8_t out_uid[16]) {
  const InstanceUid uid = slot_of(host).core->context.instance_uid();
  std::memcpy(out_uid, uid.data(), uid.size());
}

uint64_t server_capabilities(opsup_host *host) {
  return slot_of(host).core->context.server_capabilities();
}

opsup_status post(opsup_host *host, opsup_callback fn, void *user_data) {
  ModuleSlot &slot = slot_of(host);
  if (fn == nullptr)
    return OPSUP_ERR_INVALID_ARGUMENT;
  if (!slot.accepting->load())
    return OPSUP_ERR_FAILED;
  boost::asio::post(slot.core->io, [accepting = slot.accepting, fn, user_data] {
    if (accepting->load())
      fn(user_data);
  });
  return OPSUP_OK;
}

uint64_t timer_start(opsup_host *host, uint64_t delay_ms, opsup_callback fn, void *user_data) {
  ModuleSlot &slot = slot_of(host);
  if (fn == nullptr || !slot.accepting->load())
    return 0;
  const uint64_t id = ++slot.core->last_timer_id;
  auto timer = std::make_unique<boost::asio::steady_timer>(slot.core->io);
  // Clamp absurd delays so the time point cannot overflow.
  timer->expires_after(std::chrono::milliseconds(std::min<uint64_t>(delay_ms, 1ull << 40)));
  timer->async_wait([accepting = slot.accepting, slot_ptr = &slot, id, fn,
                     user_data](const boost::system::error_code &ec) {
    // The slot is alive while `accepting` is set; once cleared nothing here touches it.
    if (ec || !accepting->load())
      return;
    slot_ptr->timers.erase(id);
    fn(user_data);
  });
  slot.timers.emplace(id, std::move(timer));
  return id;
}

void timer_cancel(opsup_host *host, uint64_t timer_id) {
  ModuleSlot &slot = slot_of(host);
  const auto it = slot.timers.find(timer_id);
  if (it == slot.timers.end())
    return;
  it->second->cancel();
  slot.timers.erase(it);
}

opsup_status run_blocking(opsup_host *host, opsup_callback work, opsup_callback done,
                          void *user_data) {
  ModuleSlot &slot = slot_of(host);
  if (work == nullptr)
    return OPSUP_ERR_INVALID_ARGUMENT;
  if (!slot.accepting->load() || slot.core->pool == nullptr)
    return OPSUP_ERR_FAILED;
  {
    std::lock_guard lock(slot.work->mutex);
    ++slot.work->running;
  }
  boost::asio::post(*slot.core->pool, [&io = slot.core->io, tracker = slot.work,
                                       accepting = slot.accepting, work, done, user_data] {
    work(user_data);
    if (done != nullptr) {
      boost::asio::post(io, [accepting, done, user_data] {
        if (accepting->load())
          done(user_data);
      });
    }
    std::lock_guard lock(tracker->mutex);
    --tracker->running;
    tracker->idle.notify_all();
  });
  return OPSUP_OK;
}

opsup_status storage_read(opsup_host *host, const char *file_name, opsup_bytes_sink sink,
                          void *user_data) {
  const ModuleSlot &slot = slot_of(host);
  if (file_name == nullptr || sink == nullptr)
    return OPSUP_ERR_INVALID_ARGUMENT;
  if (auto problem = storage_name_problem(file_name, /*for_write=*/false)) {
    spdlog::error("module {}: storage_read: {}", id_of(slot), *problem);
    return OPSUP_ERR_INVALID_ARGUMENT;
  }
  std::string content;
  std::string error;
  switch (read_storage_file(slot.core->context.storage_directory(), file_name, content, error)) {
    case StorageReadResult::kNotFound:
      return OPSUP_ERR_NOT_FOUND;
    case StorageReadResult::kFailed:
      spdlog::error("module {}: storage_read: {}", id_of(slot), error);
      return OPSUP_ERR_FAILED;
    case StorageReadResult::kOk:
      break;
  }
  sink(user_data, opsup_bytes{reinterpret_cast<const uint8_t *>(content.data()), content.size()});
  return OPSUP_OK;
}

opsup_status storage_write(opsup_host *host, const char *file_name, opsup_bytes content) {
  const ModuleSlot &slot = slot_of(host);
  if (file_name == nullptr || (content.data == nullptr && content.size != 0)) {
    return OPSUP_ERR_INVALID_ARGUMENT;
  }
  if (auto problem = storage_name_problem(file_name, /*for_write=*/true)) {
    spdlog::error("module {}: storage_write: {}", id_of(slot), *problem);
    return OPSUP_ERR_INVALID_ARGUMENT;
  }
  std::string error;
  const std::string_view bytes(reinterpret_cast<const char *>(content.data), content.size);
  if (!write_storage_file_atomically(slot.core->context.storage_directory(), file_name, bytes,
                                     error)) {
    spdlog::error("module {}: storage_write: {}", id_of(slot), error);
    return OPSUP_ERR_FAILED;
  }
  return OPSUP_OK;
}

const char *own_settings_yaml(opsup_host *host) {
  return slot_of(host).own_settings_yaml.c_str();
}

void write_error(opsup_error_buffer error, const std::string &text) {
  if (error.data == nullptr || error.capacity == 0)
    return;
  const size_t length = std::min(text.size(), error.capacity - 1);
  std::memcpy(error.data, text.data(), length);
  error.data[length] = '\0';
}

// Runs the lookup shared by the setting_* services; `store` takes the value when found.
template <class Store>
opsup_status setting(opsup_host *host, const char *key, bool has_out, SettingType type,
                     opsup_error_buffer error, Store &&store) {
  ModuleSlot &slot = slot_of(host);
  const std::string name = "plugins." + id_of(slot) + "." + (key != nullptr ? key : "");
  if (key == nullptr || !has_out) {
    write_error(error, name + ": setting: the key and the output must not be NULL");
    return OPSUP_ERR_INVALID_ARGUMENT;
  }
  SettingResult result = read_setting(slot.own_settings_yaml, key, type);
  switch (result.status) {
    case SettingResult::Status::kNotFound:
      return OPSUP_ERR_NOT_FOUND;
    case SettingResult::Status::kWrongType:
      write_error(error, name + ": " + result.problem);
      return OPSUP_ERR_INVALID_ARGUMENT;
    case SettingResult::Status::kOk:
      break;
  }
  store(slot, result);
  return OPSUP_OK;
}

opsup_status setting_string(opsup_host *host, const char *key, const char **out_value,
                            opsup_error_buffer error) {
  return setting(host, key, out_value != nullptr, SettingType::kString, error,
                 [&](ModuleSlot &slot, SettingResult &result) {
                   auto it = slot.setting_strings.try_emplace(key, std::move(result.text)).first;
                   *out_value = it->second.c_str();
                 });
}

opsup_status setting_int(opsup_host *host, const char *key, int64_t *out_value,
                         opsup_error_buffer error) {
  return setting(host, key, out_value != nullptr, SettingType::kInt, error,
                 [&](ModuleSlot &, SettingResult &result) { *out_value = result.integer; });
}

opsup_status setting_bool(opsup_host *host, const char *key, int32_t *out_value,
                          opsup_error_buffer error) {
  return setting(host, key, out_value != nullptr, SettingType::kBool, error,
                 [&](ModuleSlot &, SettingResult &result) { *out_value = result.boolean ? 1 : 0; });
}

opsup_status setting_duration_ms(opsup_host *host, const char *key, uint64_t *out_value,
                                 opsup_error_buffer error) {
  return setting(host, key, out_value != nullptr, SettingType::kDurationMs, error,
                 [&](ModuleSlot &, SettingResult &result) { *out_value = result.duration_ms; });
}

opsup_status setting_list(opsup_host *host, const char *key, const char *const **out_items,
                          size_t *out_count, opsup_error_buffer error) {
  return setting(host, key, out_items != nullptr && out_count != nullptr, SettingType::kList, error,
                 [&](ModuleSlot &slot, SettingResult &result) {
                   auto [it, inserted] = slot.setting_lists.try_emplace(key);
                   if (inserted) {
                     it->second.items = std::move(result.list);
                     for (const std::string &item : it->second.items)
                       it->second.pointers.push_back(item.c_str());
                   }
                   *out_items = it->second.pointers.data();
                   *out_count = it->second.items.size();
                 });
}

opsup_status send_custom_message(opsup_host *host, const char *capability, const char *type,
                                 opsup_bytes data) {
  ModuleSlot &slot = slot_of(host);
  if (capability == nullptr || type == nullptr || (data.data == nullptr && data.size != 0)) {
    spdlog::error("module {}: send_custom_message: capability, type and data must be set",
                  id_of(slot));
    return OPSUP_ERR_INVALID_ARGUMENT;
  }
  if (!slot.accepting->load())
    return OPSUP_ERR_FAILED;
  const auto &declared = slot.candidate.info.custom_capabilities;
  if (std::find(declared.begin(), declared.end(), capability) == declared.end()) {
    spdlog::error(
        "module {}: send_custom_message: custom capability \"{}\" is not in the module's "
        "descriptor",
        id_of(slot), capability);
    return OPSUP_ERR_INVALID_ARGUMENT;
  }
  static constexpr uint32_t kCustomMessageField[] = {OPSUP_A2S_CUSTOM_MESSAGE};
  const std::string_view bytes(reinterpret_cast<const char *>(data.data), data.size);
  slot.core->context.set_agent_fields(id_of(slot), kCustomMessageField,
                                      encode_custom_message(capability, type, bytes));
  return OPSUP_OK;
}

// ---- ABI minor 3: the Collector and persistent state ----

// Runs a minor-3 service body; an exception (out of memory, a CollectorAccess failing) is
// logged and answered with OPSUP_ERR_FAILED instead of crossing into the module.
template <class Body>
opsup_status guarded(const ModuleSlot &slot, const char *service, Body &&body) noexcept {
  try {
    return body();
  } catch (const std::exception &error) {
    spdlog::error("module {}: {}: {}", id_of(slot), service, error.what());
  } catch (...) {
    spdlog::error("module {}: {}: unknown failure", id_of(slot), service);
  }
  return OPSUP_ERR_FAILED;
}

opsup_status refuse_argument(const ModuleSlot &slot, const char *service,
                             const std::string &problem) {
  spdlog::error("module {}: {}: {}", id_of(slot), service, problem);
  return OPSUP_ERR_INVALID_ARGUMENT;
}

// Runs `deliver` on the loop thread, but never before the service call that queued it has
// returned (`returned`), and not at all once the module is stopped (`accepting`).
template <class Deliver>
void deliver_later(boost::asio::io_context &io, const std::shared_ptr<bool> &returned,
                   const std::shared_ptr<std::atomic<bool>> &accepting, Deliver deliver) {
  auto guarded_deliver = [accepting, deliver = std::move(deliver)]() mutable {
    if (accepting->load())
      deliver();
  };
  if (*returned) {
    guarded_deliver();
  } else {
    boost::asio::post(io, std::move(guarded_deliver));
  }
}

// The CollectorAccess callback of a config change, calling the module's `done`.
CollectorAccess::ChangeDone change_done(ModuleSlot &slot, const std::shared_ptr<bool> &returned,
                                        opsup_config_done done, void *user_data) {
  if (done == nullptr)
    return [](const ConfigChangeResult &) {};
  return [&io = slot.core->io, returned, accepting = slot.accepting, done,
          user_data](const ConfigChangeResult &result) {
    const opsup_status status = config_change_status(result.status);
    const uint64_t generation = status == OPSUP_OK ? result.generation : 0;
    deliver_later(io, returned, accepting,
                  [done, user_data, status, generation, error = result.error] {
                    done(user_data, status, generation, error.c_str());
                  });
  };
}

opsup_status set_config_layer(opsup_host *host, const char *layer_name, const char *yaml,
                              uint32_t flags, opsup_config_done done, void *user_data) {
  ModuleSlot &slot = slot_of(host);
  return guarded(slot, "set_config_layer", [&] {
    if (auto problem = service_name_problem(layer_name, "layer name"))
      return refuse_argument(slot, "set_config_layer", *problem);
    if (auto problem = flags_problem(flags, OPSUP_CONFIG_VALIDATE | OPSUP_CONFIG_OWN_TELEMETRY))
      return refuse_argument(slot, "set_config_layer", *problem);
    constexpr uint64_t kOwnTelemetryBits =
        OPSUP_CAP_REPORTS_OWN_METRICS | OPSUP_CAP_REPORTS_OWN_LOGS | OPSUP_CAP_REPORTS_OWN_TRACES;
    if ((flags & OPSUP_CONFIG_OWN_TELEMETRY) != 0 &&
        (slot.candidate.info.capabilities & kOwnTelemetryBits) == 0) {
      return refuse_argument(slot, "set_config_layer",
                             "OPSUP_CONFIG_OWN_TELEMETRY is only for the module owning "
                             "ReportsOwnMetrics, ReportsOwnLogs or ReportsOwnTraces");
    }
    CollectorAccess *collector = slot.core->collector;
    if (collector == nullptr)
      return OPSUP_ERR_UNSUPPORTED;
    if (!slot.accepting->load())
      return OPSUP_ERR_FAILED;
    ConfigChangeOptions options;
    options.validate_with_collector = (flags & OPSUP_CONFIG_VALIDATE) != 0;
    options.own_telemetry_slot = (flags & OPSUP_CONFIG_OWN_TELEMETRY) != 0;
    std::optional<std::string> text;
    if (yaml != nullptr)
      text = yaml;
    auto returned = std::make_shared<bool>(false);
    collector->set_config_layer(id_of(slot), layer_name, std::move(text), options,
                                change_done(slot, returned, done, user_data));
    *returned = true;
    return OPSUP_OK;
  });
}

opsup_status set_remote_config(opsup_host *host, const opsup_config_file *files, size_t count,
                               uint32_t flags, opsup_config_done done, void *user_data) {
  ModuleSlot &slot = slot_of(host);
  return guarded(slot, "set_remote_config", [&] {
    if ((slot.candidate.info.capabilities & OPSUP_CAP_ACCEPTS_REMOTE_CONFIG) == 0) {
      return refuse_argument(slot, "set_remote_config",
                             "only the module owning AcceptsRemoteConfig may set the remote "
                             "config");
    }
    if (auto problem = flags_problem(flags, OPSUP_CONFIG_VALIDATE | OPSUP_REMOTE_CONFIG_CLEAR))
      return refuse_argument(slot, "set_remote_config", *problem);
    std::optional<std::vector<RemoteConfigFile>> copies;
    if (auto problem = copy_remote_config_files(files, count, flags, copies))
      return refuse_argument(slot, "set_remote_config", *problem);
    CollectorAccess *collector = slot.core->collector;
    if (collector == nullptr)
      return OPSUP_ERR_UNSUPPORTED;
    if (!slot.accepting->load())
      return OPSUP_ERR_FAILED;
    ConfigChangeOptions options;
    options.validate_with_collector = (flags & OPSUP_CONFIG_VALIDATE) != 0;
    auto returned = std::make_shared<bool>(false);
    collector->set_remote_config(std::move(copies), options,
                                 change_done(slot, returned, done, user_data));
    *returned = true;
    return OPSUP_OK;
  });
}

opsup_status collector_state(opsup_host *host, opsup_collector_state *out) {
  ModuleSlot &slot = slot_of(host);
  return guarded(slot, "collector_state", [&] {
    if (out == nullptr || !OPSUP_HAS_FIELD(opsup_collector_state, out->struct_size, running)) {
      return refuse_argument(slot, "collector_state",
                             "out is NULL or its struct_size does not reach `running`");
    }
    CollectorAccess *collector = slot.core->collector;
    if (collector == nullptr)
      return OPSUP_ERR_UNSUPPORTED;
    const CollectorStateView view = collector->collector_state();
    slot.collector_last_error = view.last_error;
    fill_collector_state(view, slot.collector_last_error, out);
    return OPSUP_OK;
  });
}

opsup_status composed_config(opsup_host *host, opsup_bytes_sink sink, void *user_data) {
  ModuleSlot &slot = slot_of(host);
  return guarded(slot, "composed_config", [&] {
    if (sink == nullptr)
      return refuse_argument(slot, "composed_config", "sink is NULL");
    CollectorAccess *collector = slot.core->collector;
    if (collector == nullptr)
      return OPSUP_ERR_UNSUPPORTED;
    const std::optional<std::string> config = collector->composed_config();
    if (!config)
      return OPSUP_ERR_NOT_FOUND;
    sink(user_data, opsup_bytes{reinterpret_cast<const uint8_t *>(config->data()), config->size()});
    return OPSUP_OK;
  });
}

opsup_status restart_collector(opsup_host *host) {
  ModuleSlot &slot = slot_of(host);
  return guarded(slot, "restart_collector", [&] {
    CollectorAccess *collector = slot.core->collector;
    if (collector == nullptr)
      return OPSUP_ERR_UNSUPPORTED;
    if (!slot.accepting->load())
      return OPSUP_ERR_FAILED;
    if (!collector->restart_collector())
      return OPSUP_ERR_NOT_FOUND;
    spdlog::info("module {} restarted the Collector", id_of(slot));
    return OPSUP_OK;
  });
}

opsup_status validate_with_collector(opsup_host *host, const char *config_yaml,
                                     opsup_validate_done done, void *user_data) {
  ModuleSlot &slot = slot_of(host);
  return guarded(slot, "validate_collector_config", [&] {
    if (config_yaml == nullptr || done == nullptr)
      return refuse_argument(slot, "validate_collector_config", "config_yaml or done is NULL");
    CollectorAccess *collector = slot.core->collector;
    if (collector == nullptr)
      return OPSUP_ERR_UNSUPPORTED;
    if (!slot.accepting->load())
      return OPSUP_ERR_FAILED;
    auto returned = std::make_shared<bool>(false);
    collector->validate_collector_config(config_yaml, [&io = slot.core->io, returned,
                                                       accepting = slot.accepting, done, user_data](
                                                          const CollectorValidation &result) {
      deliver_later(io, returned, accepting,
                    [done, user_data, valid = result.valid ? 1 : 0,
                     exit_code = static_cast<int32_t>(result.exit_code), message = result.message] {
                      done(user_data, valid, exit_code, message.c_str());
                    });
    });
    *returned = true;
    return OPSUP_OK;
  });
}

StateCaller state_caller(const ModuleSlot &slot) {
  constexpr uint64_t kRemoteConfigBits =
      OPSUP_CAP_ACCEPTS_REMOTE_CONFIG | OPSUP_CAP_REPORTS_REMOTE_CONFIG;
  return StateCaller{id_of(slot), (slot.candidate.info.capabilities & kRemoteConfigBits) != 0};
}

opsup_status state_read(opsup_host *host, const char *key, opsup_bytes_sink sink, void *user_data) {
  ModuleSlot &slot = slot_of(host);
  return guarded(slot, "state_read", [&] {
    if (key == nullptr || sink == nullptr)
      return refuse_argument(slot, "state_read", "key or sink is NULL");
    storage::PersistentState *state = slot.core->context.persistent_state_for_modules();
    if (state == nullptr)
      return OPSUP_ERR_UNSUPPORTED;
    const StateOutcome outcome = read_module_state(*state, state_caller(slot), key);
    if (outcome.status == OPSUP_ERR_INVALID_ARGUMENT)
      return refuse_argument(slot, "state_read", outcome.problem);
    if (outcome.status != OPSUP_OK)
      return outcome.status;
    sink(user_data,
         opsup_bytes{reinterpret_cast<const uint8_t *>(outcome.yaml.data()), outcome.yaml.size()});
    return OPSUP_OK;
  });
}

opsup_status state_write(opsup_host *host, const char *key, const char *yaml_value) {
  ModuleSlot &slot = slot_of(host);
  return guarded(slot, "state_write", [&] {
    if (key == nullptr)
      return refuse_argument(slot, "state_write", "key is NULL");
    storage::PersistentState *state = slot.core->context.persistent_state_for_modules();
    if (state == nullptr)
      return OPSUP_ERR_UNSUPPORTED;
    std::optional<std::string_view> value;
    if (yaml_value != nullptr)
      value = yaml_value;
    const StateOutcome outcome = write_module_state(*state, state_caller(slot), key, value);
    if (outcome.status == OPSUP_ERR_INVALID_ARGUMENT)
      return refuse_argument(slot, "state_write", outcome.problem);
    if (outcome.status != OPSUP_OK) {
      spdlog::error("module {}: state_write {}: {}", id_of(slot), key, outcome.problem);
      return outcome.status;
    }
    return OPSUP_OK;
  });
}

opsup_status set_custom_capabilities(opsup_host *host, const char *const *names, size_t count) {
  constexpr size_t kMaxRuntimeCustomCapabilities = 64;
  ModuleSlot &slot = slot_of(host);
  return guarded(slot, "set_custom_capabilities", [&] {
    if (!slot.accepting->load())
      return OPSUP_ERR_FAILED;
    if (count > 0 && names == nullptr)
      return refuse_argument(slot, "set_custom_capabilities", "names is NULL");
    if (count > kMaxRuntimeCustomCapabilities)
      return refuse_argument(slot, "set_custom_capabilities",
                             std::to_string(count) + " names, more than " +
                                 std::to_string(kMaxRuntimeCustomCapabilities));
    std::vector<std::string> wanted = slot.descriptor_custom_capabilities;
    for (size_t i = 0; i < count; ++i) {
      if (names[i] == nullptr || names[i][0] == '\0')
        return refuse_argument(slot, "set_custom_capabilities", "a name is NULL or empty");
      const std::string name = names[i];
      for (const auto &other : *slot.core->slots) {
        if (other.get() == &slot)
          continue;
        const auto &theirs = other->candidate.info.custom_capabilities;
        if (std::find(theirs.begin(), theirs.end(), name) != theirs.end()) {
          return refuse_argument(slot, "set_custom_capabilities",
                                 "\"" + name + "\" belongs to module " + other->candidate.info.id);
        }
      }
      if (std::find(wanted.begin(), wanted.end(), name) == wanted.end())
        wanted.push_back(name);
    }
    static constexpr uint32_t kCustomCapabilitiesField[] = {OPSUP_A2S_CUSTOM_CAPABILITIES};
    slot.candidate.info.custom_capabilities = wanted;
    slot.owned_agent_fields =
        owned_agent_to_server_fields(slot.candidate.info.capabilities, !wanted.empty());
    slot.core->context.set_agent_fields(id_of(slot), kCustomCapabilitiesField,
                                        wanted.empty() ? "" : encode_custom_capabilities(wanted));
    return OPSUP_OK;
  });
}

opsup_status send_to_collector(opsup_host *host, opsup_bytes server_to_agent) {
  ModuleSlot &slot = slot_of(host);
  return guarded(slot, "send_to_collector", [&] {
    if (!slot.accepting->load())
      return OPSUP_ERR_FAILED;
    CollectorAccess *collector = slot.core->collector;
    if (collector == nullptr)
      return OPSUP_ERR_UNSUPPORTED;
    const std::string_view bytes(reinterpret_cast<const char *>(server_to_agent.data),
                                 server_to_agent.data ? server_to_agent.size : 0);
    const auto fields = top_level_field_numbers(bytes);
    if (!fields)
      return refuse_argument(slot, "send_to_collector", "the bytes are not a ServerToAgent");
    for (uint32_t field : *fields) {
      if (field != OPSUP_S2A_CUSTOM_CAPABILITIES && field != OPSUP_S2A_CUSTOM_MESSAGE &&
          field != OPSUP_S2A_INSTANCE_UID) {
        return refuse_argument(slot, "send_to_collector",
                               "ServerToAgent field " + std::to_string(field) +
                                   " may not be sent to the Collector (only custom_capabilities "
                                   "and custom_message)");
      }
    }
    return collector->send_to_collector(bytes) ? OPSUP_OK : OPSUP_ERR_NOT_FOUND;
  });
}

// A package or file name of download_start and package_files_remove; nullopt when fine.
std::optional<std::string> package_name_problem(const char *what, const char *name) {
  if (name == nullptr || name[0] == '\0')
    return std::string(what) + " is missing";
  const std::string_view text(name);
  if (text == "." || text == "..")
    return std::string(what) + " \"" + name + "\" is not a name";
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok)
      return std::string(what) + " \"" + name + "\" has a character outside [A-Za-z0-9_.-]";
  }
  return std::nullopt;
}

std::optional<std::string> download_problem(const opsup_download_request *request) {
  if (request == nullptr ||
      request->struct_size < offsetof(opsup_download_request, reserved0) + sizeof(uint32_t))
    return "the request is missing or too small";
  if (request->url == nullptr)
    return "the url is missing";
  const std::string_view url(request->url);
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    return "the url is not http:// or https://";
  if (auto problem = package_name_problem("the package name", request->package_name))
    return problem;
  if (auto problem = package_name_problem("the file name", request->file_name))
    return problem;
  if (request->sha256.data == nullptr || request->sha256.size != 32)
    return "sha256 must be 32 bytes";
  if ((request->flags & ~uint32_t{OPSUP_DOWNLOAD_CHECK_SIGNATURE}) != 0)
    return "unknown flags " + std::to_string(request->flags);
  if (request->signature.data == nullptr && request->signature.size != 0)
    return "the signature is NULL with a size";
  if (request->header_count > 0) {
    if (request->headers == nullptr ||
        request->headers[0].struct_size < offsetof(opsup_http_header, value) + sizeof(char *))
      return "the headers are missing or their struct_size is too small";
  }
  return std::nullopt;
}

uint64_t download_start(opsup_host *host, const opsup_download_request *request,
                        opsup_download_progress_fn progress, opsup_download_done done,
                        void *user_data) {
  ModuleSlot &slot = slot_of(host);
  if (!slot.accepting->load() || slot.core->pool == nullptr)
    return 0;
  std::optional<std::string> problem =
      done == nullptr ? std::optional<std::string>("the done callback is missing")
                      : download_problem(request);
  if (problem) {
    spdlog::error("module {}: download_start: {}", id_of(slot), *problem);
    return 0;
  }
  PackageDownloadSpec spec;
  spec.url = request->url;
  const auto *bytes = reinterpret_cast<const uint8_t *>(request->headers);
  for (uint32_t i = 0; i < request->header_count; ++i) {
    const auto &header = *reinterpret_cast<const opsup_http_header *>(
        bytes + static_cast<size_t>(i) * request->headers[0].struct_size);
    if (header.name == nullptr || header.name[0] == '\0' || header.value == nullptr) {
      spdlog::error("module {}: download_start: header {} has no name or value", id_of(slot), i);
      return 0;
    }
    spec.headers.emplace_back(header.name, header.value);
  }
  spec.directory = slot.core->context.storage_directory() / "packages" / request->package_name;
  spec.file_name = request->file_name;
  spec.sha256.assign(reinterpret_cast<const char *>(request->sha256.data), 32);
  spec.max_bytes = request->max_bytes == 0 ? kDefaultMaxDownloadBytes : request->max_bytes;
  if ((request->flags & OPSUP_DOWNLOAD_CHECK_SIGNATURE) != 0) {
    spec.check_signature = true;
    if (request->signature.data != nullptr)
      spec.signature.assign(reinterpret_cast<const char *>(request->signature.data),
                            request->signature.size);
  }
  // The signature policy and the download's TLS settings (plugins.<id>.tls) come from here.
  spec.own_settings_yaml = slot.own_settings_yaml;

  const uint64_t id = ++slot.core->last_download_id;
  ModuleSlot *slot_ptr = &slot;
  auto accepting = slot.accepting;
  auto on_progress = [accepting, slot_ptr, id, progress,
                      user_data](const PackageDownloadProgress &now) {
    // The slot is alive while `accepting` is set.
    if (progress == nullptr || !accepting->load() || !slot_ptr->downloads.contains(id))
      return;
    const opsup_download_progress raw{sizeof(opsup_download_progress), 0, now.received, now.total,
                                      now.per_second};
    progress(user_data, &raw);
  };
  auto on_done = [accepting, slot_ptr, id, done, user_data](const PackageDownloadOutcome &outcome) {
    if (!accepting->load())
      return;
    auto node = slot_ptr->downloads.extract(id);
    if (node.empty())
      return;
    const std::string path = outcome.path.string();
    done(user_data, outcome.ok ? OPSUP_OK : OPSUP_ERR_FAILED, outcome.resumable ? 1 : 0,
         path.c_str(), outcome.error.c_str());
  };
  slot.downloads.emplace(id,
                         PackageDownload::start(slot.core->io, *slot.core->pool, std::move(spec),
                                                std::move(on_progress), std::move(on_done)));
  return id;
}

void download_cancel(opsup_host *host, uint64_t download_id) {
  ModuleSlot &slot = slot_of(host);
  slot.downloads.erase(download_id);  // the destructor cancels
}

opsup_status package_files_remove(opsup_host *host, const char *package_name) {
  const ModuleSlot &slot = slot_of(host);
  if (auto problem = package_name_problem("the package name", package_name)) {
    spdlog::error("module {}: package_files_remove: {}", id_of(slot), *problem);
    return OPSUP_ERR_INVALID_ARGUMENT;
  }
  const auto directory = slot.core->context.storage_directory() / "packages" / package_name;
  std::error_code ec;
  std::filesystem::remove_all(directory, ec);
  if (ec) {
    spdlog::error("module {}: package_files_remove: cannot remove {}: {}", id_of(slot),
                  directory.string(), ec.message());
    return OPSUP_ERR_FAILED;
  }
  return OPSUP_OK;
}

// ---- ABI minor 5: the OpAMP connection ----

opsup_status try_opamp_connection_settings(opsup_host *host, opsup_bytes settings,
                                           uint64_t timeout_ms, uint32_t flags,
                                           opsup_connection_done done, void *user_data) {
  constexpr uint64_t kDefaultTimeoutMs = 30000;
  constexpr uint64_t kMaxTimeoutMs = 24ull * 3600 * 1000;
  ModuleSlot &slot = slot_of(host);
  return guarded(slot, "try_opamp_connection_settings", [&] {
    if ((slot.candidate.info.capabilities & OPSUP_CAP_ACCEPTS_OPAMP_CONNECTION_SETTINGS) == 0) {
      return refuse_argument(slot, "try_opamp_connection_settings",
                             "only the module owning AcceptsOpAMPConnectionSettings may change "
                             "the OpAMP connection");
    }
    if (done == nullptr)
      return refuse_argument(slot, "try_opamp_connection_settings", "done is NULL");
    if (auto problem = flags_problem(flags, OPSUP_CONNECTION_COMMITTED))
      return refuse_argument(slot, "try_opamp_connection_settings", *problem);
    if (!slot.accepting->load())
      return OPSUP_ERR_FAILED;
    const std::string_view bytes(reinterpret_cast<const char *>(settings.data),
                                 settings.data ? settings.size : 0);
    const std::chrono::milliseconds timeout(
        std::min(timeout_ms == 0 ? kDefaultTimeoutMs : timeout_ms, kMaxTimeoutMs));
    auto returned = std::make_shared<bool>(false);
    const bool started = slot.core->context.try_connection_settings(
        bytes, timeout, (flags & OPSUP_CONNECTION_COMMITTED) != 0,
        [&io = slot.core->io, returned, accepting = slot.accepting, done,
         user_data](const ConnectionTrialResult &result) {
          const opsup_status status = result.status == ConnectionTrialResult::Status::kApplied
                                          ? OPSUP_OK
                                      : result.status == ConnectionTrialResult::Status::kInvalid
                                          ? OPSUP_ERR_INVALID_ARGUMENT
                                          : OPSUP_ERR_FAILED;
          deliver_later(io, returned, accepting, [done, user_data, status, error = result.error] {
            done(user_data, status, error.c_str());
          });
        });
    *returned = true;
    return started ? OPSUP_OK : OPSUP_ERR_UNSUPPORTED;
  });
}

// ---- ABI minor 6: the Collector executable update ----

// Why `path` is not a file the download service produced, or nullopt.
std::optional<std::string> package_path_problem(const std::filesystem::path &storage,
                                                const char *path) {
  if (path == nullptr || path[0] == '\0')
    return "no package path";
  const std::filesystem::path file(path);
  if (!file.is_absolute())
    return "\"" + file.string() + "\" is not an absolute path";
  const std::filesystem::path relative =
      file.lexically_normal().lexically_relative((storage / "packages").lexically_normal());
  if (relative.empty() || *relative.begin() == ".." || relative == ".")
    return "\"" + file.string() + "\" is not under " + (storage / "packages").string();
  std::error_code error;
  if (!std::filesystem::is_regular_file(std::filesystem::symlink_status(file, error)))
    return "\"" + file.string() + "\" is not a regular file";
  return std::nullopt;
}

opsup_status update_collector_executable(opsup_host *host, const char *package_path,
                                         uint64_t health_timeout_ms, opsup_update_done done,
                                         void *user_data) {
  constexpr uint64_t kDefaultTimeoutMs = 60000;
  constexpr uint64_t kMaxTimeoutMs = 24ull * 3600 * 1000;
  ModuleSlot &slot = slot_of(host);
  return guarded(slot, "update_collector_executable", [&] {
    if ((slot.candidate.info.capabilities & OPSUP_CAP_ACCEPTS_PACKAGES) == 0) {
      return refuse_argument(slot, "update_collector_executable",
                             "only the module owning AcceptsPackages may replace the Collector "
                             "executable");
    }
    if (done == nullptr)
      return refuse_argument(slot, "update_collector_executable", "done is NULL");
    if (auto problem = package_path_problem(slot.core->context.storage_directory(), package_path))
      return refuse_argument(slot, "update_collector_executable", *problem);
    if (!slot.accepting->load())
      return OPSUP_ERR_FAILED;
    CollectorAccess *collector = slot.core->collector;
    if (collector == nullptr)
      return OPSUP_ERR_UNSUPPORTED;
    const std::chrono::milliseconds timeout(
        std::min(health_timeout_ms == 0 ? kDefaultTimeoutMs : health_timeout_ms, kMaxTimeoutMs));
    auto returned = std::make_shared<bool>(false);
    const bool started = collector->update_executable(
        package_path, timeout,
        [&io = slot.core->io, returned, accepting = slot.accepting, done,
         user_data](const ExecutableUpdateOutcome &outcome) {
          using Status = ExecutableUpdateOutcome::Status;
          const opsup_status status =
              outcome.status == Status::kInstalled    ? OPSUP_OK
              : outcome.status == Status::kRefused    ? OPSUP_ERR_INVALID_ARGUMENT
              : outcome.status == Status::kRolledBack ? OPSUP_ERR_FAILED
                                                      : OPSUP_ERR_UNSUPPORTED;
          deliver_later(io, returned, accepting, [done, user_data, status, error = outcome.error] {
            done(user_data, status, error.c_str());
          });
        });
    *returned = true;
    return started ? OPSUP_OK : OPSUP_ERR_UNSUPPORTED;
  });
}

opsup_status collector_update_recovery(opsup_host *host,
                                       opsup_collector_update_recovery *recovery) {
  ModuleSlot &slot = slot_of(host);
  return guarded(slot, "collector_update_recovery", [&] {
    if (recovery == nullptr ||
        recovery->struct_size < offsetof(opsup_collector_update_recovery, message)) {
      return refuse_argument(slot, "collector_update_recovery", "no or too small struct");
    }
    CollectorAccess *collector = slot.core->collector;
    if (collector == nullptr)
      return OPSUP_ERR_UNSUPPORTED;
    const UpdateRecoveryView view = collector->update_recovery();
    slot.update_recovery_message = view.message;
    opsup_collector_update_recovery filled{};
    filled.struct_size = static_cast<uint32_t>(
        std::min<size_t>(recovery->struct_size, sizeof(opsup_collector_update_recovery)));
    filled.outcome =
        view.outcome == UpdateRecoveryView::Outcome::kInstalled    ? OPSUP_UPDATE_INSTALLED
        : view.outcome == UpdateRecoveryView::Outcome::kRolledBack ? OPSUP_UPDATE_ROLLED_BACK
                                                                   : OPSUP_UPDATE_NONE;
    filled.message = slot.update_recovery_message.c_str();
    std::memcpy(recovery, &filled, filled.struct_size);
    return OPSUP_OK;
  });
}

}  // namespace

const opsup_host_api &host_api_table() {
  static const opsup_host_api table = [] {
    opsup_host_api api{};
    api.struct_size = sizeof api;
    api.abi_minor = OPSUP_HEADER_ABI_MINOR;
    api.log = &log;
    api.set_agent_fields = &set_agent_fields;
    api.instance_uid = &instance_uid;
    api.server_capabilities = &server_capabilities;
    api.post = &post;
    api.timer_start = &timer_start;
    api.timer_cancel = &timer_cancel;
    api.run_blocking = &run_blocking;
    api.storage_read = &storage_read;
    api.storage_write = &storage_write;
    api.own_settings_yaml = &own_settings_yaml;
    api.setting_string = &setting_string;
    api.setting_int = &setting_int;
    api.setting_bool = &setting_bool;
    api.setting_duration_ms = &setting_duration_ms;
    api.setting_list = &setting_list;
    api.send_custom_message = &send_custom_message;
    api.set_config_layer = &set_config_layer;
    api.set_remote_config = &set_remote_config;
    api.collector_state = &collector_state;
    api.composed_config = &composed_config;
    api.restart_collector = &restart_collector;
    api.validate_collector_config = &validate_with_collector;
    api.state_read = &state_read;
    api.state_write = &state_write;
    api.set_custom_capabilities = &set_custom_capabilities;
    api.send_to_collector = &send_to_collector;
    api.download_start = &download_start;
    api.download_cancel = &download_cancel;
    api.package_files_remove = &package_files_remove;
    api.try_opamp_connection_settings = &try_opamp_connection_settings;
    api.update_collector_executable = &update_collector_executable;
    api.collector_update_recovery = &collector_update_recovery;
    return api;
  }();
  return table;
}

void cancel_timers(ModuleSlot &slot) {
  for (auto &[id, timer] : slot.timers)
    timer->cancel();
  slot.timers.clear();
  slot.downloads.clear();  // each one's destructor cancels it
}

}  // namespace opsup::modules::detail
