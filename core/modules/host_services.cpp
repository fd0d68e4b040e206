// The opsup_host_api table: what a module may ask of the supervisor. Every entry first
// finds the calling module's slot from its handle.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstring>

#include "modules/field_ownership.hpp"
#include "modules/module_settings.hpp"
#include "modules/module_slot.hpp"
#include "modules/module_storage.hpp"
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
    return api;
  }();
  return table;
}

void cancel_timers(ModuleSlot &slot) {
  for (auto &[id, timer] : slot.timers)
    timer->cancel();
  slot.timers.clear();
}

}  // namespace opsup::modules::detail
