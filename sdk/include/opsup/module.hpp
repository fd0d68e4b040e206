// opsup/module.hpp: header-only C++ helper over the C ABI in opsup/module.h.
//
// A module is one class and one macro:
//
//   class MyModule : public opsup::Module {
//    public:
//     MyModule(opsup::Host &host, std::string_view supervisor_config_yaml)
//         : opsup::Module(host) { parse(host.own_settings_yaml()); }  // plugins.<id>
//     void start() override { host().info("started"); }
//     void on_server_message(std::string_view server_to_agent) override { ... }
//   };
//   OPSUP_DEFINE_MODULE(MyModule, {.id = "com.example.my", .version = "1.0.0",
//                                  .description = "One line for `opampsupervisor modules`",
//                                  .custom_capabilities = {"com.example.my"},
//                                  .server_to_agent_fields = {OPSUP_S2A_CUSTOM_MESSAGE}})
//
// What the helper guarantees
//   - No exception crosses the ABI: every hook and every callback catches everything.
//     A constructor that throws opsup::ConfigError makes create return
//     OPSUP_ERR_INVALID_ARGUMENT with the message (name the bad key in it); any other
//     exception makes a hook return OPSUP_ERR_FAILED with its what(), or, for hooks that
//     return nothing, is logged at error level through the host.
//   - Callbacks given to Host (post, timers, run_blocking) are owned by the Host object;
//     the ones that never run (cancelled timers, work dropped at shutdown) are freed when
//     the module instance is destroyed.
//   - Services newer than the host's table are reported as OPSUP_ERR_UNSUPPORTED instead
//     of being called (OPSUP_HOST_HAS).
//   - Done callbacks of the Collector services (ABI 1.3) are owned by the Host like timers:
//     the ones the host drops once the module is stopped are freed with the instance.
//   - OPSUP_TARGET_ABI_MINOR (see module.h), defined before including this header, is
//     honoured: Host methods of newer services are hidden and the descriptor declares that
//     minor, so the module loads into supervisors down to that minor.
//
// Threading (see module.h): the host calls every hook, and runs every callback except
// run_blocking's `work`, on its one loop thread, so a module needs no locks for state
// touched only there. Host methods are "loop thread" unless documented "any thread".
//
// Link model: the entry function keeps the host's service table in a variable private to
// this shared object (hidden visibility), so one loaded copy of a module talks to the one
// host that loaded it.
#pragma once

#include <opsup/module.h>
#include <opsup/opamp_constants.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace opsup {

enum class LogLevel : opsup_log_level {
  kTrace = OPSUP_LOG_TRACE,
  kDebug = OPSUP_LOG_DEBUG,
  kInfo = OPSUP_LOG_INFO,
  kWarn = OPSUP_LOG_WARN,
  kError = OPSUP_LOG_ERROR,
};

// Thrown by a module's constructor when its configuration is wrong. The message should
// name the key (for example "plugins.com.example.my.interval: must be positive").
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown from a hook to return a specific status code with a message.
class StatusError : public std::runtime_error {
 public:
  StatusError(opsup_status status, const std::string &message)
      : std::runtime_error(message), status_(status) {}
  opsup_status status() const noexcept { return status_; }

 private:
  opsup_status status_;
};

using InstanceUid = std::array<uint8_t, 16>;

// A supervisor event, copied out of opsup_event. `message` views the host's text and is
// valid only during on_event; copy it to keep it.
struct Event {
  opsup_event_kind kind = 0;
  int64_t pid = 0;
  int32_t exit_code = 0;
  uint64_t time_unix_nano = 0;
  std::string_view message;
#if OPSUP_ABI_MINOR >= 3
  // COLLECTOR_* events: the generation of the config the Collector runs (ABI 1.3; 0 from an
  // older host).
  uint64_t generation = 0;
#endif

  // Reads only the fields the sender's struct_size covers; missing ones stay 0 / "".
  static Event from(const opsup_event &raw) noexcept {
    Event event;
    const uint32_t size = raw.struct_size;
    if (OPSUP_HAS_FIELD(opsup_event, size, kind))
      event.kind = raw.kind;
    if (OPSUP_HAS_FIELD(opsup_event, size, pid))
      event.pid = raw.pid;
    if (OPSUP_HAS_FIELD(opsup_event, size, exit_code))
      event.exit_code = raw.exit_code;
    if (OPSUP_HAS_FIELD(opsup_event, size, time_unix_nano)) {
      event.time_unix_nano = raw.time_unix_nano;
    }
    if (OPSUP_HAS_FIELD(opsup_event, size, message) && raw.message != nullptr) {
      event.message = raw.message;
    }
#if OPSUP_ABI_MINOR >= 3
    if (OPSUP_HAS_FIELD(opsup_event, size, generation))
      event.generation = raw.generation;
#endif
    return event;
  }
};

#if OPSUP_ABI_MINOR >= 3
// ---- ABI 1.3: the Collector services' types --------------------------------------------

enum class CollectorHealth : int32_t {
  kUnknown = OPSUP_COLLECTOR_HEALTH_UNKNOWN,
  kHealthy = OPSUP_COLLECTOR_HEALTH_HEALTHY,
  kUnhealthy = OPSUP_COLLECTOR_HEALTH_UNHEALTHY,
};

// The Collector's state, copied out of opsup_collector_state. Fields an older host does not
// fill stay at their defaults.
struct CollectorState {
  bool running = false;
  int64_t pid = 0;  // 0 when not running
  CollectorHealth health = CollectorHealth::kUnknown;
  uint64_t generation = 0;         // of the config the Collector runs; 0: none yet
  uint64_t latest_generation = 0;  // of the newest composed config
  uint64_t restart_count = 0;      // unexpected exits since the supervisor started
  uint64_t start_time_unix_nano = 0;
  std::string last_error;  // the Collector's last_error, or why it is not running
};

// The outcome of a config change (Host::set_config_layer, Host::set_remote_config):
// status OPSUP_OK, OPSUP_ERR_VETO, OPSUP_ERR_INVALID_ARGUMENT (a layer is not a YAML map)
// or OPSUP_ERR_FAILED; generation of the composed config in force when OPSUP_OK, else 0.
struct ConfigChangeResult {
  opsup_status status = OPSUP_OK;
  uint64_t generation = 0;
  std::string error;  // why, when not OPSUP_OK
  bool ok() const noexcept { return status == OPSUP_OK; }
};

// One remote config file for Host::set_remote_config; the views are copied by the call.
struct ConfigFile {
  std::string_view name;  // AgentConfigMap key; "" is the unnamed file, merged last
  std::string_view body;  // YAML text
  std::string_view content_type;
};

// What the Collector's `validate` said (Host::validate_collector_config).
struct CollectorValidation {
  bool valid = false;
  int32_t exit_code = 0;  // -1 when it could not be run
  std::string message;    // its output tail, or why it could not be run
};
#endif  // OPSUP_ABI_MINOR >= 3

#if OPSUP_ABI_MINOR >= 4
// What Host::start_download fetches (ABI 1.4; see opsup_download_request in module.h).
struct DownloadRequest {
  std::string url;  // http:// or https://
  std::vector<std::pair<std::string, std::string>> headers;
  std::string package_name;  // <storage>/packages/<package_name>/
  std::string file_name;     // the file in that directory
  std::string sha256;        // the expected SHA-256, 32 raw bytes
  uint64_t max_bytes = 0;    // 0: the host's limit
  std::string signature;     // checked against the module's policy when check_signature
  bool check_signature = false;
};

struct DownloadProgress {
  uint64_t bytes_received = 0;  // a resumed prefix included
  uint64_t bytes_total = 0;     // 0 while unknown
  double bytes_per_second = 0;
};

// status OPSUP_OK: the checked file is at `path`. Otherwise `error` says why, and
// `resumable` tells whether the bytes so far were kept for a later attempt.
struct DownloadResult {
  opsup_status status = OPSUP_OK;
  bool resumable = false;
  std::string path;
  std::string error;
  bool ok() const noexcept { return status == OPSUP_OK; }
};
#endif  // OPSUP_ABI_MINOR >= 4

class Host;

// True when the host's table has `member` and it is set (api_ is a Host member).
#define OPSUP_DETAIL_HAS(member) \
  (api_ != nullptr && OPSUP_HOST_HAS(api_, member) && api_->member != nullptr)

namespace detail {

// Writes `text` NUL-terminated and truncated into a caller-owned error buffer.
inline void write_error(opsup_error_buffer buffer, std::string_view text) noexcept {
  if (buffer.data == nullptr || buffer.capacity == 0)
    return;
  const size_t length = std::min(text.size(), buffer.capacity - 1);
  std::memcpy(buffer.data, text.data(), length);
  buffer.data[length] = '\0';
}

// A callback handed to the host. The Host that created it owns it.
struct Callback {
  Host *owner = nullptr;
  uint64_t timer_id = 0;
  std::function<void()> fn;    // post, timer, or run_blocking's done
  std::function<void()> work;  // run_blocking only
#if OPSUP_ABI_MINOR >= 3
  std::function<void(const ConfigChangeResult &)> config_done;       // config changes
  std::function<void(const CollectorValidation &)> validation_done;  // validate_collector_config
#endif
#if OPSUP_ABI_MINOR >= 4
  uint64_t download_id = 0;
  std::function<void(const DownloadProgress &)> download_progress;
  std::function<void(const DownloadResult &)> download_done;
#endif
#if OPSUP_ABI_MINOR >= 5
  std::function<void(opsup_status, const std::string &)> connection_done;  // connection trials
#endif
#if OPSUP_ABI_MINOR >= 6
  std::function<void(opsup_status, const std::string &)> update_done;  // executable updates
#endif
};

}  // namespace detail

// The module's view of the host services of one module instance. Created by the helper
// before the module's constructor and destroyed after its destructor, so it outlives the
// module object. Not copyable; reach it through Module::host().
class Host {
 public:
  using TimerId = uint64_t;

  Host(opsup_host *handle, const opsup_host_api *api) noexcept : handle_(handle), api_(api) {}
  Host(const Host &) = delete;
  Host &operator=(const Host &) = delete;
  // Frees the callbacks that never ran. The host guarantees that none runs after the
  // module's destroy hook, which is where this destructor runs. THREADING: loop thread.
  ~Host() = default;

  // The raw C handle and service table, for services this class does not wrap yet.
  opsup_host *handle() const noexcept { return handle_; }
  const opsup_host_api *api() const noexcept { return api_; }
  // The ABI minor the host implements (0 when it does not say).
  uint32_t abi_minor() const noexcept {
    return api_ != nullptr && OPSUP_HOST_HAS(api_, abi_minor) ? api_->abi_minor : 0;
  }

  // Writes one log line attributed to this module. The text is copied. Never throws.
  // THREADING: any thread.
  void log(LogLevel level, std::string_view message) const noexcept {
    if (!OPSUP_DETAIL_HAS(log))
      return;
    try {
      const std::string text(message);
      api_->log(handle_, static_cast<opsup_log_level>(level), text.c_str());
    } catch (...) {
      // Out of memory while logging: nothing sensible left to do.
    }
  }
  void trace(std::string_view message) const noexcept { log(LogLevel::kTrace, message); }
  void debug(std::string_view message) const noexcept { log(LogLevel::kDebug, message); }
  void info(std::string_view message) const noexcept { log(LogLevel::kInfo, message); }
  void warn(std::string_view message) const noexcept { log(LogLevel::kWarn, message); }
  void error(std::string_view message) const noexcept { log(LogLevel::kError, message); }

  // Replaces the AgentToServer fields this module owns with the ones in
  // `serialized_agent_to_server` (a serialized AgentToServer; owned fields left out are
  // cleared) and schedules a send. The bytes are copied. Returns OPSUP_OK, or
  // OPSUP_ERR_INVALID_ARGUMENT when they do not parse or set a field the module does not
  // own. THREADING: loop thread.
  opsup_status set_agent_fields(std::string_view serialized_agent_to_server) const {
    if (!OPSUP_DETAIL_HAS(set_agent_fields)) {
      return OPSUP_ERR_UNSUPPORTED;
    }
    const opsup_bytes bytes{reinterpret_cast<const uint8_t *>(serialized_agent_to_server.data()),
                            serialized_agent_to_server.size()};
    return api_->set_agent_fields(handle_, bytes);
  }

  // The agent's 16-byte instance UID (all zero if the host does not offer it).
  // THREADING: loop thread.
  InstanceUid instance_uid() const {
    InstanceUid uid{};
    if (OPSUP_DETAIL_HAS(instance_uid)) {
      api_->instance_uid(handle_, uid.data());
    }
    return uid;
  }

  // ServerCapabilities bits from the server's latest message; 0 before the first.
  // THREADING: loop thread.
  uint64_t server_capabilities() const {
    if (!OPSUP_DETAIL_HAS(server_capabilities)) {
      return 0;
    }
    return api_->server_capabilities(handle_);
  }

  // Runs `fn` on the loop thread soon. Returns false when the host refuses (shutting
  // down); `fn` is then never called. An exception escaping `fn` is logged.
  // OWNERSHIP: `fn` is kept by this Host until it runs or the module is destroyed.
  // THREADING: any thread.
  bool post(std::function<void()> fn) {
    if (!OPSUP_DETAIL_HAS(post))
      return false;
    auto callback = std::make_unique<detail::Callback>();
    callback->owner = this;
    callback->fn = std::move(fn);
    detail::Callback *raw = callback.get();
    {
      std::lock_guard lock(posted_mutex_);
      posted_.emplace(raw, std::move(callback));
    }
    if (api_->post(handle_, &Host::run_posted, raw) == OPSUP_OK)
      return true;
    std::lock_guard lock(posted_mutex_);
    posted_.erase(raw);
    return false;
  }

  // Runs `fn` once on the loop thread after `delay`. Returns the timer id, or 0 when the
  // host refuses. An exception escaping `fn` is logged.
  // OWNERSHIP: `fn` is kept until it runs, the timer is cancelled, or the module is
  // destroyed. THREADING: loop thread.
  TimerId start_timer(std::chrono::milliseconds delay, std::function<void()> fn) {
    if (!OPSUP_DETAIL_HAS(timer_start))
      return 0;
    auto callback = std::make_unique<detail::Callback>();
    callback->owner = this;
    callback->fn = std::move(fn);
    detail::Callback *raw = callback.get();
    pending_.emplace(raw, std::move(callback));
    const uint64_t delay_ms = delay.count() < 0 ? 0 : static_cast<uint64_t>(delay.count());
    const TimerId id = api_->timer_start(handle_, delay_ms, &Host::run_timer, raw);
    if (id == 0) {
      pending_.erase(raw);
      return 0;
    }
    raw->timer_id = id;
    return id;
  }

  // Cancels a pending timer: its callback will not run and is freed now. Unknown or
  // already fired ids are ignored. THREADING: loop thread.
  void cancel_timer(TimerId id) {
    if (id == 0)
      return;
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->first->timer_id == id) {
        if (OPSUP_DETAIL_HAS(timer_cancel)) {
          api_->timer_cancel(handle_, id);
        }
        pending_.erase(it);
        return;
      }
    }
  }

  // Runs `work` on a worker thread, then `done` on the loop thread. `work` may only call
  // log(). Returns false when the host refuses (neither runs). An exception escaping
  // `work` is logged and `done` still runs; one escaping `done` is logged.
  // OWNERSHIP: both are kept until `done` has run or the module is destroyed.
  // THREADING: loop thread.
  bool run_blocking(std::function<void()> work, std::function<void()> done) {
    if (!OPSUP_DETAIL_HAS(run_blocking))
      return false;
    auto callback = std::make_unique<detail::Callback>();
    callback->owner = this;
    callback->work = std::move(work);
    callback->fn = std::move(done);
    detail::Callback *raw = callback.get();
    pending_.emplace(raw, std::move(callback));
    if (api_->run_blocking(handle_, &Host::run_work, &Host::run_timer, raw) == OPSUP_OK) {
      return true;
    }
    pending_.erase(raw);
    return false;
  }

  // Reads `file_name` (a plain name, no '/') from the storage directory into `content`.
  // Returns OPSUP_OK, OPSUP_ERR_NOT_FOUND, OPSUP_ERR_INVALID_ARGUMENT (bad name) or
  // OPSUP_ERR_FAILED. THREADING: loop thread (small files).
  opsup_status storage_read(std::string_view file_name, std::string &content) const {
    if (!OPSUP_DETAIL_HAS(storage_read)) {
      return OPSUP_ERR_UNSUPPORTED;
    }
    const std::string name(file_name);
    std::string result;
    const opsup_status status = api_->storage_read(
        handle_, name.c_str(),
        [](void *user_data, opsup_bytes bytes) {
          auto *out = static_cast<std::string *>(user_data);
          try {
            out->assign(reinterpret_cast<const char *>(bytes.data), bytes.size);
          } catch (...) {
            out->clear();
          }
        },
        &result);
    if (status == OPSUP_OK)
      content = std::move(result);
    return status;
  }

  // Atomically replaces `file_name` in the storage directory with `content` (mode 0600).
  // The bytes are copied. THREADING: loop thread.
  opsup_status storage_write(std::string_view file_name, std::string_view content) const {
    if (!OPSUP_DETAIL_HAS(storage_write)) {
      return OPSUP_ERR_UNSUPPORTED;
    }
    const std::string name(file_name);
    const opsup_bytes bytes{reinterpret_cast<const uint8_t *>(content.data()), content.size()};
    return api_->storage_write(handle_, name.c_str(), bytes);
  }

#if OPSUP_ABI_MINOR >= 1
  // This module's own config section, plugins.<module id>, as YAML text; empty when the
  // config has none, or when the host predates the service (abi_minor() < 1; the whole
  // config given to the constructor still holds the section then). The view stays valid
  // until the module is destroyed. THREADING: loop thread (the constructor included).
  std::string_view own_settings_yaml() const noexcept {
    if (!OPSUP_DETAIL_HAS(own_settings_yaml))
      return {};
    const char *text = api_->own_settings_yaml(handle_);
    return text != nullptr ? std::string_view(text) : std::string_view();
  }
#endif  // OPSUP_ABI_MINOR >= 1

#if OPSUP_ABI_MINOR >= 2
  // Sends AgentToServer.custom_message {capability, type, data} once; `capability` must be
  // one of the descriptor's custom capabilities. Nothing else the module owns changes.
  // The bytes are copied. Returns OPSUP_OK, OPSUP_ERR_INVALID_ARGUMENT (undeclared
  // capability), OPSUP_ERR_FAILED (stopped) or OPSUP_ERR_UNSUPPORTED (host older than
  // ABI 1.2). THREADING: loop thread.
  opsup_status send_custom_message(std::string_view capability, std::string_view type,
                                   std::string_view data) const {
    if (!OPSUP_DETAIL_HAS(send_custom_message))
      return OPSUP_ERR_UNSUPPORTED;
    const std::string capability_text(capability);
    const std::string type_text(type);
    const opsup_bytes bytes{reinterpret_cast<const uint8_t *>(data.data()), data.size()};
    return api_->send_custom_message(handle_, capability_text.c_str(), type_text.c_str(), bytes);
  }

  // One setting of plugins.<module id> by dotted key ("limits.max"); nullopt when absent or
  // null. Throws ConfigError("plugins.<id>.<key>: ...") when the value has another type
  // (let it escape the constructor: create then fails naming the key, and the supervisor
  // adds the file and line), and StatusError(OPSUP_ERR_UNSUPPORTED) when the host is older
  // than ABI 1.2. THREADING: loop thread (the constructor included).
  std::optional<std::string> setting_string(std::string_view key) const {
    const char *value = nullptr;
    if (!read_setting(OPSUP_DETAIL_HAS(setting_string), key, [&](const char *k, auto error) {
          return api_->setting_string(handle_, k, &value, error);
        })) {
      return std::nullopt;
    }
    return std::string(value != nullptr ? value : "");
  }
  std::optional<int64_t> setting_int(std::string_view key) const {
    int64_t value = 0;
    if (!read_setting(OPSUP_DETAIL_HAS(setting_int), key, [&](const char *k, auto error) {
          return api_->setting_int(handle_, k, &value, error);
        })) {
      return std::nullopt;
    }
    return value;
  }
  std::optional<bool> setting_bool(std::string_view key) const {
    int32_t value = 0;
    if (!read_setting(OPSUP_DETAIL_HAS(setting_bool), key, [&](const char *k, auto error) {
          return api_->setting_bool(handle_, k, &value, error);
        })) {
      return std::nullopt;
    }
    return value != 0;
  }
  std::optional<std::chrono::milliseconds> setting_duration(std::string_view key) const {
    uint64_t value = 0;
    if (!read_setting(OPSUP_DETAIL_HAS(setting_duration_ms), key, [&](const char *k, auto error) {
          return api_->setting_duration_ms(handle_, k, &value, error);
        })) {
      return std::nullopt;
    }
    return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(value));
  }
  std::optional<std::vector<std::string>> setting_list(std::string_view key) const {
    const char *const *items = nullptr;
    size_t count = 0;
    if (!read_setting(OPSUP_DETAIL_HAS(setting_list), key, [&](const char *k, auto error) {
          return api_->setting_list(handle_, k, &items, &count, error);
        })) {
      return std::nullopt;
    }
    return std::vector<std::string>(items, items + count);
  }
#endif  // OPSUP_ABI_MINOR >= 2

#if OPSUP_ABI_MINOR >= 3
  // ---- ABI 1.3: the Collector and persistent state (see module.h for the rules) --------
  // Every method returns OPSUP_ERR_UNSUPPORTED when the host is older than ABI 1.3 or has
  // no Collector (or no persistent state, for state_*). THREADING: loop thread.

  using ConfigDone = std::function<void(const ConfigChangeResult &)>;

  // Contributes or replaces this module's Collector config layer `layer_name` (a YAML map;
  // names are [A-Za-z0-9_.-] and per module). `done` (optional) runs once on the loop
  // thread after the call returned, unless the module is stopped first; an exception
  // escaping it is logged. `flags`: 0 or OPSUP_CONFIG_VALIDATE. Returns OPSUP_OK when
  // queued, OPSUP_ERR_INVALID_ARGUMENT (bad name or flag; `done` never runs),
  // OPSUP_ERR_UNSUPPORTED or OPSUP_ERR_FAILED (stopped).
  // OWNERSHIP: `done` is kept until it runs or the module is destroyed.
  opsup_status set_config_layer(std::string_view layer_name, std::string_view yaml,
                                ConfigDone done = {}, uint32_t flags = 0) {
    const std::string name(layer_name);
    const std::string text(yaml);
    return queue_config_change(OPSUP_DETAIL_HAS(set_config_layer), std::move(done),
                               [&](opsup_config_done callback, void *user_data) {
                                 return api_->set_config_layer(handle_, name.c_str(), text.c_str(),
                                                               flags, callback, user_data);
                               });
  }
  // Removes this module's layer `layer_name` (OPSUP_OK when it did not exist), as above.
  opsup_status remove_config_layer(std::string_view layer_name, ConfigDone done = {},
                                   uint32_t flags = 0) {
    const std::string name(layer_name);
    return queue_config_change(OPSUP_DETAIL_HAS(set_config_layer), std::move(done),
                               [&](opsup_config_done callback, void *user_data) {
                                 return api_->set_config_layer(handle_, name.c_str(), nullptr,
                                                               flags, callback, user_data);
                               });
  }

  // Replaces the remote config layer with `files` (only for the module owning
  // AcceptsRemoteConfig; others get OPSUP_ERR_INVALID_ARGUMENT). No files is a received
  // empty config map: the Collector is not run. `flags`: 0 or OPSUP_CONFIG_VALIDATE.
  // Everything is copied. `done` as for set_config_layer.
  opsup_status set_remote_config(std::span<const ConfigFile> files, ConfigDone done = {},
                                 uint32_t flags = 0) {
    std::vector<opsup_config_file> raw(files.size());
    std::vector<std::string> texts;   // NUL-terminated names and content types
    texts.reserve(files.size() * 2);  // no reallocation: the c_str() pointers stay valid
    for (size_t i = 0; i < files.size(); ++i) {
      raw[i].struct_size = sizeof(opsup_config_file);
      raw[i].name = texts.emplace_back(files[i].name).c_str();
      raw[i].body = opsup_bytes{reinterpret_cast<const uint8_t *>(files[i].body.data()),
                                files[i].body.size()};
      raw[i].content_type = texts.emplace_back(files[i].content_type).c_str();
    }
    return queue_config_change(OPSUP_DETAIL_HAS(set_remote_config), std::move(done),
                               [&](opsup_config_done callback, void *user_data) {
                                 return api_->set_remote_config(handle_, raw.data(), raw.size(),
                                                                flags, callback, user_data);
                               });
  }
  // Removes the remote config layer (OPSUP_REMOTE_CONFIG_CLEAR), as above.
  opsup_status clear_remote_config(ConfigDone done = {}, uint32_t flags = 0) {
    return queue_config_change(OPSUP_DETAIL_HAS(set_remote_config), std::move(done),
                               [&](opsup_config_done callback, void *user_data) {
                                 return api_->set_remote_config(handle_, nullptr, 0,
                                                                flags | OPSUP_REMOTE_CONFIG_CLEAR,
                                                                callback, user_data);
                               });
  }

  // The Collector's state into `out`. Returns OPSUP_OK or OPSUP_ERR_UNSUPPORTED.
  opsup_status collector_state(CollectorState &out) const {
    if (!OPSUP_DETAIL_HAS(collector_state))
      return OPSUP_ERR_UNSUPPORTED;
    opsup_collector_state raw{};
    raw.struct_size = sizeof raw;
    const opsup_status status = api_->collector_state(handle_, &raw);
    if (status != OPSUP_OK)
      return status;
    // The host lowered struct_size to what it filled.
    const uint32_t size = raw.struct_size;
    CollectorState state;
    state.running = raw.running != 0;
    if (OPSUP_HAS_FIELD(opsup_collector_state, size, pid))
      state.pid = raw.pid;
    if (OPSUP_HAS_FIELD(opsup_collector_state, size, health))
      state.health = static_cast<CollectorHealth>(raw.health);
    if (OPSUP_HAS_FIELD(opsup_collector_state, size, generation))
      state.generation = raw.generation;
    if (OPSUP_HAS_FIELD(opsup_collector_state, size, latest_generation))
      state.latest_generation = raw.latest_generation;
    if (OPSUP_HAS_FIELD(opsup_collector_state, size, restart_count))
      state.restart_count = raw.restart_count;
    if (OPSUP_HAS_FIELD(opsup_collector_state, size, start_time_unix_nano))
      state.start_time_unix_nano = raw.start_time_unix_nano;
    if (OPSUP_HAS_FIELD(opsup_collector_state, size, last_error) && raw.last_error != nullptr)
      state.last_error = raw.last_error;
    out = std::move(state);
    return OPSUP_OK;
  }

  // The composed Collector config now in force into `yaml`. Returns OPSUP_OK,
  // OPSUP_ERR_NOT_FOUND before the first, or OPSUP_ERR_UNSUPPORTED.
  opsup_status composed_config(std::string &yaml) const {
    if (!OPSUP_DETAIL_HAS(composed_config))
      return OPSUP_ERR_UNSUPPORTED;
    return read_into(yaml, [&](opsup_bytes_sink sink, void *user_data) {
      return api_->composed_config(handle_, sink, user_data);
    });
  }

  // Restarts the Collector on its current config. Returns OPSUP_OK, OPSUP_ERR_NOT_FOUND (no
  // config to run), OPSUP_ERR_UNSUPPORTED or OPSUP_ERR_FAILED (stopped).
  opsup_status restart_collector() const {
    if (!OPSUP_DETAIL_HAS(restart_collector))
      return OPSUP_ERR_UNSUPPORTED;
    return api_->restart_collector(handle_);
  }

  // Runs the Collector's `validate` on `config_yaml` off the loop thread, then `done` on the
  // loop thread (after the call returned; not once the module is stopped). Returns OPSUP_OK,
  // OPSUP_ERR_UNSUPPORTED or OPSUP_ERR_FAILED (stopped).
  // OWNERSHIP: `done` is kept until it runs or the module is destroyed.
  opsup_status validate_collector_config(std::string_view config_yaml,
                                         std::function<void(const CollectorValidation &)> done) {
    if (!OPSUP_DETAIL_HAS(validate_collector_config))
      return OPSUP_ERR_UNSUPPORTED;
    const std::string text(config_yaml);
    auto callback = std::make_unique<detail::Callback>();
    callback->owner = this;
    callback->validation_done = std::move(done);
    detail::Callback *raw = callback.get();
    pending_.emplace(raw, std::move(callback));
    const opsup_status status =
        api_->validate_collector_config(handle_, text.c_str(), &Host::run_validation_done, raw);
    if (status != OPSUP_OK)
      pending_.erase(raw);
    return status;
  }

  // This module's persistent value of `key` as YAML text into `yaml_value` (see module.h:
  // kept in persistent_state.yaml under modules.<id>; last_remote_config_status and
  // instance_id are the supervisor's). Returns OPSUP_OK, OPSUP_ERR_NOT_FOUND,
  // OPSUP_ERR_INVALID_ARGUMENT or OPSUP_ERR_UNSUPPORTED.
  opsup_status state_read(std::string_view key, std::string &yaml_value) const {
    if (!OPSUP_DETAIL_HAS(state_read))
      return OPSUP_ERR_UNSUPPORTED;
    const std::string name(key);
    return read_into(yaml_value, [&](opsup_bytes_sink sink, void *user_data) {
      return api_->state_read(handle_, name.c_str(), sink, user_data);
    });
  }
  // Sets `key` to `yaml_value` (YAML text of one value) and persists. Returns OPSUP_OK,
  // OPSUP_ERR_INVALID_ARGUMENT, OPSUP_ERR_UNSUPPORTED or OPSUP_ERR_FAILED.
  opsup_status state_write(std::string_view key, std::string_view yaml_value) const {
    if (!OPSUP_DETAIL_HAS(state_write))
      return OPSUP_ERR_UNSUPPORTED;
    const std::string name(key);
    const std::string text(yaml_value);
    return api_->state_write(handle_, name.c_str(), text.c_str());
  }
  // Removes `key` (OPSUP_OK when absent), as state_write.
  opsup_status state_remove(std::string_view key) const {
    if (!OPSUP_DETAIL_HAS(state_write))
      return OPSUP_ERR_UNSUPPORTED;
    const std::string name(key);
    return api_->state_write(handle_, name.c_str(), nullptr);
  }

  // Custom capabilities learned at run time, advertised and routed like the descriptor's
  // (replaces the previous run-time list; empty withdraws it). See module.h.
  opsup_status set_custom_capabilities(const std::vector<std::string> &names) const {
    if (!OPSUP_DETAIL_HAS(set_custom_capabilities))
      return OPSUP_ERR_UNSUPPORTED;
    std::vector<const char *> pointers;
    pointers.reserve(names.size());
    for (const auto &name : names)
      pointers.push_back(name.c_str());
    return api_->set_custom_capabilities(handle_, pointers.data(), pointers.size());
  }
  // Sends a serialized ServerToAgent (custom_capabilities and/or custom_message only) to the
  // connected Collector. OPSUP_ERR_NOT_FOUND when none is connected. See module.h.
  opsup_status send_to_collector(std::string_view server_to_agent) const {
    if (!OPSUP_DETAIL_HAS(send_to_collector))
      return OPSUP_ERR_UNSUPPORTED;
    return api_->send_to_collector(
        handle_, opsup_bytes{reinterpret_cast<const uint8_t *>(server_to_agent.data()),
                             server_to_agent.size()});
  }
#endif  // OPSUP_ABI_MINOR >= 3

#if OPSUP_ABI_MINOR >= 4
  using DownloadId = uint64_t;
  // Downloads request.url into <storage>/packages/<package_name>/<file_name> (ABI 1.4; see
  // download_start in module.h): `progress` (may be empty) about once a second, then
  // `done` once. Returns the id, or 0 when refused or the host is older than ABI 1.4
  // (neither callback runs then). OWNERSHIP: the callbacks are kept until `done` has run,
  // the download is cancelled, or the module is destroyed. THREADING: loop thread.
  DownloadId start_download(const DownloadRequest &request,
                            std::function<void(const DownloadProgress &)> progress,
                            std::function<void(const DownloadResult &)> done) {
    if (!OPSUP_DETAIL_HAS(download_start))
      return 0;
    std::vector<opsup_http_header> headers;
    headers.reserve(request.headers.size());
    for (const auto &[name, value] : request.headers)
      headers.push_back(
          opsup_http_header{sizeof(opsup_http_header), 0, name.c_str(), value.c_str()});
    opsup_download_request raw_request{};
    raw_request.struct_size = sizeof raw_request;
    raw_request.header_count = static_cast<uint32_t>(headers.size());
    raw_request.url = request.url.c_str();
    raw_request.headers = headers.empty() ? nullptr : headers.data();
    raw_request.package_name = request.package_name.c_str();
    raw_request.file_name = request.file_name.c_str();
    raw_request.sha256 = opsup_bytes{reinterpret_cast<const uint8_t *>(request.sha256.data()),
                                     request.sha256.size()};
    raw_request.max_bytes = request.max_bytes;
    raw_request.signature = opsup_bytes{reinterpret_cast<const uint8_t *>(request.signature.data()),
                                        request.signature.size()};
    raw_request.flags = request.check_signature ? OPSUP_DOWNLOAD_CHECK_SIGNATURE : 0u;
    auto callback = std::make_unique<detail::Callback>();
    callback->owner = this;
    callback->download_progress = std::move(progress);
    callback->download_done = std::move(done);
    detail::Callback *raw = callback.get();
    pending_.emplace(raw, std::move(callback));
    const DownloadId id = api_->download_start(handle_, &raw_request, &Host::run_download_progress,
                                               &Host::run_download_done, raw);
    if (id == 0) {
      pending_.erase(raw);
      return 0;
    }
    raw->download_id = id;
    return id;
  }
  // Stops a download; its callbacks never run and are freed now. THREADING: loop thread.
  void cancel_download(DownloadId id) {
    if (id == 0)
      return;
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->first->download_id == id) {
        if (OPSUP_DETAIL_HAS(download_cancel))
          api_->download_cancel(handle_, id);
        pending_.erase(it);
        return;
      }
    }
  }
  // Removes <storage>/packages/<package_name>/ (OPSUP_OK when absent); see module.h.
  opsup_status remove_package_files(std::string_view package_name) const {
    if (!OPSUP_DETAIL_HAS(package_files_remove))
      return OPSUP_ERR_UNSUPPORTED;
    const std::string name(package_name);
    return api_->package_files_remove(handle_, name.c_str());
  }
#endif  // OPSUP_ABI_MINOR >= 4

#if OPSUP_ABI_MINOR >= 5
  // ---- ABI 1.5: the OpAMP connection (see module.h) --------------------------------------

  using ConnectionDone = std::function<void(opsup_status, const std::string &error)>;

  // Connects with `opamp_connection_settings` (a serialized OpAMPConnectionSettings) and
  // tells `done` whether the server there answered a status report within `timeout`
  // (OPSUP_OK) or the supervisor went back to the previous settings (OPSUP_ERR_FAILED), or
  // that the settings cannot be used (OPSUP_ERR_INVALID_ARGUMENT). `flags`:
  // OPSUP_CONNECTION_COMMITTED uses them without a trial. Returns OPSUP_OK when started,
  // OPSUP_ERR_INVALID_ARGUMENT (not the owner of AcceptsOpAMPConnectionSettings),
  // OPSUP_ERR_UNSUPPORTED (host older than ABI 1.5, or no OpAMP connection) or
  // OPSUP_ERR_FAILED (stopped). OWNERSHIP: `done` is kept until it runs or the module is
  // destroyed. THREADING: loop thread.
  opsup_status try_opamp_connection_settings(std::string_view opamp_connection_settings,
                                             std::chrono::milliseconds timeout, ConnectionDone done,
                                             uint32_t flags = 0) {
    if (!OPSUP_DETAIL_HAS(try_opamp_connection_settings))
      return OPSUP_ERR_UNSUPPORTED;
    auto callback = std::make_unique<detail::Callback>();
    callback->owner = this;
    callback->connection_done = std::move(done);
    detail::Callback *raw = callback.get();
    pending_.emplace(raw, std::move(callback));
    const opsup_bytes bytes{reinterpret_cast<const uint8_t *>(opamp_connection_settings.data()),
                            opamp_connection_settings.size()};
    const uint64_t timeout_ms = timeout.count() < 0 ? 0 : static_cast<uint64_t>(timeout.count());
    const opsup_status status = api_->try_opamp_connection_settings(
        handle_, bytes, timeout_ms, flags, &Host::run_connection_done, raw);
    if (status != OPSUP_OK)
      pending_.erase(raw);
    return status;
  }
#endif  // OPSUP_ABI_MINOR >= 5

#if OPSUP_ABI_MINOR >= 6
  // ---- ABI 1.6: the Collector executable update (see module.h) ---------------------------

  using UpdateDone = std::function<void(opsup_status, const std::string &error)>;

  // Replaces agent.executable with the executable in `package_path` (a downloaded package
  // file under <storage>/packages/) and requires the Collector healthy on it within
  // `health_timeout`; otherwise the old one is restored and started again. `done` gets
  // OPSUP_OK, OPSUP_ERR_INVALID_ARGUMENT (package refused, nothing changed), OPSUP_ERR_FAILED
  // (rolled back) or OPSUP_ERR_UNSUPPORTED (not tried). Returns OPSUP_OK when started;
  // OPSUP_ERR_INVALID_ARGUMENT (not the owner of AcceptsPackages, a bad path),
  // OPSUP_ERR_UNSUPPORTED (host older than ABI 1.6, no Collector, another update runs) or
  // OPSUP_ERR_FAILED (stopped). OWNERSHIP: `done` is kept until it runs or the module is
  // destroyed. THREADING: loop thread.
  opsup_status update_collector_executable(const std::string &package_path,
                                           std::chrono::milliseconds health_timeout,
                                           UpdateDone done) {
    if (!OPSUP_DETAIL_HAS(update_collector_executable))
      return OPSUP_ERR_UNSUPPORTED;
    auto callback = std::make_unique<detail::Callback>();
    callback->owner = this;
    callback->update_done = std::move(done);
    detail::Callback *raw = callback.get();
    pending_.emplace(raw, std::move(callback));
    const uint64_t timeout_ms =
        health_timeout.count() < 0 ? 0 : static_cast<uint64_t>(health_timeout.count());
    const opsup_status status = api_->update_collector_executable(
        handle_, package_path.c_str(), timeout_ms, &Host::run_update_done, raw);
    if (status != OPSUP_OK)
      pending_.erase(raw);
    return status;
  }

  struct UpdateRecovery {
    int32_t outcome = OPSUP_UPDATE_NONE;  // OPSUP_UPDATE_*
    std::string message;
  };
  // What the supervisor found at start-up of an update its previous process did not finish;
  // nullopt when the host is older than ABI 1.6 or runs no Collector.
  std::optional<UpdateRecovery> collector_update_recovery() {
    if (!OPSUP_DETAIL_HAS(collector_update_recovery))
      return std::nullopt;
    opsup_collector_update_recovery raw{};
    raw.struct_size = sizeof raw;
    if (api_->collector_update_recovery(handle_, &raw) != OPSUP_OK)
      return std::nullopt;
    UpdateRecovery recovery;
    recovery.outcome = raw.outcome;
    if (OPSUP_HAS_FIELD(opsup_collector_update_recovery, raw.struct_size, message) &&
        raw.message != nullptr)
      recovery.message = raw.message;
    return recovery;
  }
#endif  // OPSUP_ABI_MINOR >= 6

 private:
#if OPSUP_ABI_MINOR >= 6
  static void run_update_done(void *user_data, opsup_status status, const char *error) noexcept {
    auto *raw = static_cast<detail::Callback *>(user_data);
    Host *owner = raw->owner;
    auto node = owner->pending_.extract(raw);
    if (node.empty())
      return;
    try {
      if (node.mapped()->update_done)
        node.mapped()->update_done(status, error != nullptr ? error : "");
    } catch (const std::exception &e) {
      owner->error(std::string("an executable update's done callback threw: ") + e.what());
    } catch (...) {
      owner->error("an executable update's done callback threw a non-standard exception");
    }
  }
#endif  // OPSUP_ABI_MINOR >= 6
#if OPSUP_ABI_MINOR >= 4
  static void run_download_progress(void *user_data,
                                    const opsup_download_progress *progress) noexcept {
    auto *raw = static_cast<detail::Callback *>(user_data);
    Host *owner = raw->owner;
    if (progress == nullptr || !owner->pending_.contains(raw) || !raw->download_progress)
      return;
    run_guarded_call(*owner, "a download's progress callback", [&] {
      raw->download_progress(DownloadProgress{progress->bytes_received, progress->bytes_total,
                                              progress->bytes_per_second});
    });
  }
  static void run_download_done(void *user_data, opsup_status status, int32_t resumable,
                                const char *path, const char *error) noexcept {
    auto *raw = static_cast<detail::Callback *>(user_data);
    Host *owner = raw->owner;
    auto node = owner->pending_.extract(raw);
    if (node.empty())
      return;
    run_guarded_call(*owner, "a download's done callback", [&] {
      if (node.mapped()->download_done) {
        node.mapped()->download_done(DownloadResult{
            status, resumable != 0, path != nullptr ? path : "", error != nullptr ? error : ""});
      }
    });
  }
#endif  // OPSUP_ABI_MINOR >= 4
#if OPSUP_ABI_MINOR >= 5
  static void run_connection_done(void *user_data, opsup_status status,
                                  const char *error) noexcept {
    auto *raw = static_cast<detail::Callback *>(user_data);
    Host *owner = raw->owner;
    auto node = owner->pending_.extract(raw);
    if (node.empty())
      return;
    try {
      if (node.mapped()->connection_done)
        node.mapped()->connection_done(status, error != nullptr ? error : "");
    } catch (const std::exception &e) {
      owner->error(std::string("a connection trial's done callback threw: ") + e.what());
    } catch (...) {
      owner->error("a connection trial's done callback threw a non-standard exception");
    }
  }
#endif  // OPSUP_ABI_MINOR >= 5
#if OPSUP_ABI_MINOR >= 3
  // Calls a config-change service with a trampoline owning `done` (or none without it).
  template <class Call>
  opsup_status queue_config_change(bool available, ConfigDone done, Call &&call) {
    if (!available)
      return OPSUP_ERR_UNSUPPORTED;
    if (!done)
      return call(nullptr, nullptr);
    auto callback = std::make_unique<detail::Callback>();
    callback->owner = this;
    callback->config_done = std::move(done);
    detail::Callback *raw = callback.get();
    pending_.emplace(raw, std::move(callback));
    const opsup_status status = call(&Host::run_config_done, raw);
    if (status != OPSUP_OK)
      pending_.erase(raw);
    return status;
  }

  // Calls a service that hands bytes to a sink; `out` takes them on OPSUP_OK.
  template <class Call>
  static opsup_status read_into(std::string &out, Call &&call) {
    std::string result;
    const opsup_status status = call(
        [](void *user_data, opsup_bytes bytes) {
          auto *text = static_cast<std::string *>(user_data);
          try {
            text->assign(reinterpret_cast<const char *>(bytes.data), bytes.data ? bytes.size : 0);
          } catch (...) {
            text->clear();
          }
        },
        &result);
    if (status == OPSUP_OK)
      out = std::move(result);
    return status;
  }

  static void run_config_done(void *user_data, opsup_status status, uint64_t generation,
                              const char *error) noexcept {
    auto *raw = static_cast<detail::Callback *>(user_data);
    Host *owner = raw->owner;
    auto node = owner->pending_.extract(raw);
    if (node.empty())
      return;
    run_guarded_call(*owner, "a config change's done callback", [&] {
      if (node.mapped()->config_done) {
        node.mapped()->config_done(
            ConfigChangeResult{status, generation, error != nullptr ? error : ""});
      }
    });
  }

  static void run_validation_done(void *user_data, int32_t valid, int32_t exit_code,
                                  const char *message) noexcept {
    auto *raw = static_cast<detail::Callback *>(user_data);
    Host *owner = raw->owner;
    auto node = owner->pending_.extract(raw);
    if (node.empty())
      return;
    run_guarded_call(*owner, "validate_collector_config's done callback", [&] {
      if (node.mapped()->validation_done) {
        node.mapped()->validation_done(
            CollectorValidation{valid != 0, exit_code, message != nullptr ? message : ""});
      }
    });
  }

  template <class Fn>
  static void run_guarded_call(const Host &owner, const char *what, Fn &&fn) noexcept {
    try {
      fn();
    } catch (const std::exception &e) {
      owner.error(std::string(what) + " threw: " + e.what());
    } catch (...) {
      owner.error(std::string(what) + " threw a non-standard exception");
    }
  }
#endif  // OPSUP_ABI_MINOR >= 3

#if OPSUP_ABI_MINOR >= 2
  // Calls one setting_* service; true when found. Throws as documented above.
  template <class Call>
  static bool read_setting(bool available, std::string_view key, Call &&call) {
    if (!available) {
      throw StatusError(OPSUP_ERR_UNSUPPORTED,
                        "the supervisor is older than module ABI 1.2 and has no setting_* "
                        "services; read own_settings_yaml() instead");
    }
    const std::string key_text(key);
    char text[512] = "";
    const opsup_status status = call(key_text.c_str(), opsup_error_buffer{text, sizeof text});
    if (status == OPSUP_OK)
      return true;
    if (status == OPSUP_ERR_NOT_FOUND)
      return false;
    throw ConfigError(text[0] != '\0' ? text : "setting " + key_text + " is invalid");
  }
#endif

  // Runs a callback the host calls once on the loop thread (timer or run_blocking done).
  static void run_timer(void *user_data) noexcept {
    auto *raw = static_cast<detail::Callback *>(user_data);
    Host *owner = raw->owner;
    auto node = owner->pending_.extract(raw);
    if (node.empty())
      return;  // cancelled meanwhile
    run_guarded(*owner, node.mapped()->fn, "a timer or run_blocking callback");
  }

  static void run_posted(void *user_data) noexcept {
    auto *raw = static_cast<detail::Callback *>(user_data);
    Host *owner = raw->owner;
    std::unique_ptr<detail::Callback> callback;
    {
      std::lock_guard lock(owner->posted_mutex_);
      auto node = owner->posted_.extract(raw);
      if (node.empty())
        return;
      callback = std::move(node.mapped());
    }
    run_guarded(*owner, callback->fn, "a posted callback");
  }

  static void run_work(void *user_data) noexcept {
    auto *raw = static_cast<detail::Callback *>(user_data);
    run_guarded(*raw->owner, raw->work, "run_blocking work");
  }

  static void run_guarded(const Host &owner, const std::function<void()> &fn,
                          const char *what) noexcept {
    if (!fn)
      return;
    try {
      fn();
    } catch (const std::exception &e) {
      owner.error(std::string(what) + " threw: " + e.what());
    } catch (...) {
      owner.error(std::string(what) + " threw a non-standard exception");
    }
  }

  opsup_host *handle_;
  const opsup_host_api *api_;
  // Callbacks run on the loop thread (timers, run_blocking), keyed by identity.
  std::unordered_map<detail::Callback *, std::unique_ptr<detail::Callback>> pending_;
  // Posted callbacks: post() may come from any thread.
  std::mutex posted_mutex_;
  std::unordered_map<detail::Callback *, std::unique_ptr<detail::Callback>> posted_;
};

// Base class of a module. Override what the module needs; every default does nothing.
// The derived class's constructor is the create hook: it receives the Host and, if it
// takes one, the supervisor's config as redacted YAML (valid only during the call).
// THREADING: every method is called on the loop thread.
class Module {
 public:
  explicit Module(Host &host) noexcept : host_(host) {}
  Module(const Module &) = delete;
  Module &operator=(const Module &) = delete;
  // The destroy hook. Timers still pending are cancelled by the host afterwards.
  virtual ~Module() = default;

  // Starts work. Throw to fail: the module is then reported and kept inactive.
  virtual void start() {}
  // Stops work before shutdown; no hook but the destructor follows.
  virtual void stop() {}
  // A serialized ServerToAgent holding at least one field listed in
  // ModuleInfo::server_to_agent_fields. The view is valid only during the call.
  virtual void on_server_message(std::string_view /*server_to_agent*/) {}
  // A serialized AgentToServer from the local Collector holding a field listed in
  // ModuleInfo::agent_to_server_fields. The view is valid only during the call.
  virtual void on_collector_message(std::string_view /*agent_to_server*/) {}
  // A supervisor event (Collector started/exited/healthy, server connected...).
  virtual void on_event(const Event & /*event*/) {}
#if OPSUP_ABI_MINOR >= 2
  // A custom message from the server for one of ModuleInfo::custom_capabilities, decoded
  // (ABI 1.2): called whether or not server_to_agent_fields lists custom_message (when it
  // does, on_server_message runs first). The views are valid only during the call.
  virtual void on_custom_message(std::string_view /*capability*/, std::string_view /*type*/,
                                 std::string_view /*data*/) {}
#endif
  // Inspects a candidate Collector config. Return a reason to veto it, nullopt to accept.
  virtual std::optional<std::string> validate_collector_config(std::string_view /*config_yaml*/) {
    return std::nullopt;
  }
#if OPSUP_ABI_MINOR >= 3
  // Rewrites a candidate Collector config before it is checked (ABI 1.3; see module.h for
  // when it is called). Return the whole new config and write what changed, one line per
  // change, into `report`; return nullopt to keep the candidate. Throw
  // StatusError(OPSUP_ERR_VETO, reason) to refuse it.
  virtual std::optional<std::string> rewrite_collector_config(std::string_view /*config_yaml*/,
                                                              std::string & /*report*/) {
    return std::nullopt;
  }
#endif

 protected:
  Host &host() const noexcept {
    return host_;
  }

 private:
  Host &host_;
};

// What OPSUP_DEFINE_MODULE puts into the descriptor. Use designated initializers; the
// lists are copied into static storage by the entry function.
struct ModuleInfo {
  const char *id = nullptr;  // reverse DNS for third-party modules: "com.example.x"
  const char *version = "0.0.0";
  const char *description = "";  // one line
  uint64_t capabilities = 0;     // AgentCapabilities bits this module owns (OPSUP_CAP_*)
  std::initializer_list<const char *> custom_capabilities = {};
  std::initializer_list<uint32_t> server_to_agent_fields = {};  // OPSUP_S2A_*
  std::initializer_list<uint32_t> agent_to_server_fields = {};  // OPSUP_A2S_*
};

namespace detail {

// One module instance: the Host outlives the module object (declaration order).
struct Instance {
  Instance(opsup_host *handle, const opsup_host_api *api) : host(handle, api) {}
  Host host;
  std::unique_ptr<Module> module;
};

inline Instance *instance_of(opsup_module *module) noexcept {
  return reinterpret_cast<Instance *>(module);
}

inline std::string_view view_of(opsup_bytes bytes) noexcept {
  if (bytes.data == nullptr)
    return {};
  return {reinterpret_cast<const char *>(bytes.data), bytes.size};
}

// Runs `fn`, turning exceptions into a status and an error text.
template <class Fn>
opsup_status guarded(opsup_error_buffer error, Fn &&fn) noexcept {
  try {
    fn();
    return OPSUP_OK;
  } catch (const ConfigError &e) {
    write_error(error, e.what());
    return OPSUP_ERR_INVALID_ARGUMENT;
  } catch (const StatusError &e) {
    write_error(error, e.what());
    return e.status() == OPSUP_OK ? OPSUP_ERR_FAILED : e.status();
  } catch (const std::exception &e) {
    write_error(error, e.what());
    return OPSUP_ERR_FAILED;
  } catch (...) {
    write_error(error, "non-standard exception");
    return OPSUP_ERR_FAILED;
  }
}

// Runs a hook that returns nothing; an exception is logged through the instance's host.
template <class Fn>
void guarded_void(Instance *instance, const char *hook, Fn &&fn) noexcept {
  char text[512];
  const opsup_status status = guarded(opsup_error_buffer{text, sizeof text}, fn);
  if (status != OPSUP_OK)
    instance->host.error(std::string(hook) + " failed: " + text);
}

// Descriptor, hooks and the lists they point to, in static storage of the module.
class StaticDescriptor {
 public:
  StaticDescriptor(const ModuleInfo &info, const opsup_module_hooks &hooks)
      : custom_capabilities_(info.custom_capabilities),
        server_to_agent_fields_(info.server_to_agent_fields),
        agent_to_server_fields_(info.agent_to_server_fields),
        hooks_(hooks) {
    custom_capabilities_.push_back(nullptr);
    descriptor_.struct_size = sizeof(opsup_module_descriptor);
    descriptor_.abi_major = OPSUP_ABI_MAJOR;
    descriptor_.abi_minor = OPSUP_ABI_MINOR;
    descriptor_.id = info.id;
    descriptor_.version = info.version;
    descriptor_.description = info.description;
    descriptor_.capabilities = info.capabilities;
    descriptor_.custom_capabilities =
        custom_capabilities_.size() > 1 ? custom_capabilities_.data() : nullptr;
    descriptor_.server_to_agent_fields = server_to_agent_fields_.data();
    descriptor_.server_to_agent_field_count = server_to_agent_fields_.size();
    descriptor_.agent_to_server_fields = agent_to_server_fields_.data();
    descriptor_.agent_to_server_field_count = agent_to_server_fields_.size();
    descriptor_.hooks = &hooks_;
  }
  StaticDescriptor(const StaticDescriptor &) = delete;
  StaticDescriptor &operator=(const StaticDescriptor &) = delete;

  const opsup_module_descriptor *get() const noexcept { return &descriptor_; }

 private:
  std::vector<const char *> custom_capabilities_;
  std::vector<uint32_t> server_to_agent_fields_;
  std::vector<uint32_t> agent_to_server_fields_;
  opsup_module_hooks hooks_;
  opsup_module_descriptor descriptor_{};
};

template <class T>
struct Adapter {
  static_assert(std::derived_from<T, Module>, "a module class must derive from opsup::Module");
  static_assert(std::constructible_from<T, Host &, std::string_view> ||
                    std::constructible_from<T, Host &>,
                "a module class needs a constructor (Host&, std::string_view config_yaml) "
                "or (Host&)");

  // The table of the host that called the entry. Private to this shared object.
  static inline const opsup_host_api *host_api = nullptr;

  static opsup_status entry(const ModuleInfo &info, const opsup_host_info *host,
                            const opsup_module_descriptor **out_descriptor) noexcept {
    if (host == nullptr || out_descriptor == nullptr)
      return OPSUP_ERR_INVALID_ARGUMENT;
    *out_descriptor = nullptr;
    if (host->struct_size < offsetof(opsup_host_info, api) + sizeof(host->api) ||
        host->api == nullptr) {
      return OPSUP_ERR_INVALID_ARGUMENT;
    }
    // The helper checks each service's presence, so any host minor works; a host that
    // only accepts newer modules than this one is incompatible.
    if (host->abi_major != OPSUP_ABI_MAJOR || host->abi_minor_min > OPSUP_ABI_MINOR) {
      return OPSUP_ERR_INCOMPATIBLE;
    }
    try {
      static const StaticDescriptor descriptor(info, hooks());
      host_api = host->api;
      *out_descriptor = descriptor.get();
      return OPSUP_OK;
    } catch (...) {
      return OPSUP_ERR_FAILED;
    }
  }

  static opsup_module_hooks hooks() noexcept {
    opsup_module_hooks hooks{};
    hooks.struct_size = sizeof(opsup_module_hooks);
    hooks.create = &create;
    hooks.start = &start;
    hooks.stop = &stop;
    hooks.destroy = &destroy;
    hooks.on_server_message = &on_server_message;
    hooks.on_collector_message = &on_collector_message;
    hooks.on_event = &on_event;
    hooks.validate_collector_config = &validate_collector_config;
#if OPSUP_ABI_MINOR >= 2
    hooks.on_custom_message = &on_custom_message;
#endif
#if OPSUP_ABI_MINOR >= 3
    hooks.rewrite_collector_config = &rewrite_collector_config;
#endif
    return hooks;
  }

  static opsup_status create(opsup_host *host, const char *supervisor_config_yaml,
                             opsup_module **out_module, opsup_error_buffer error) noexcept {
    if (out_module == nullptr)
      return OPSUP_ERR_INVALID_ARGUMENT;
    *out_module = nullptr;
    return guarded(error, [&] {
      auto instance = std::make_unique<Instance>(host, host_api);
      const std::string_view yaml = supervisor_config_yaml ? supervisor_config_yaml : "";
      if constexpr (std::constructible_from<T, Host &, std::string_view>) {
        instance->module = std::make_unique<T>(instance->host, yaml);
      } else {
        instance->module = std::make_unique<T>(instance->host);
      }
      *out_module = reinterpret_cast<opsup_module *>(instance.release());
    });
  }

  static opsup_status start(opsup_module *module, opsup_error_buffer error) noexcept {
    if (module == nullptr)
      return OPSUP_ERR_INVALID_ARGUMENT;
    return guarded(error, [&] { instance_of(module)->module->start(); });
  }

  static void stop(opsup_module *module) noexcept {
    if (module == nullptr)
      return;
    Instance *instance = instance_of(module);
    guarded_void(instance, "stop", [&] { instance->module->stop(); });
  }

  static void destroy(opsup_module *module) noexcept {
    if (module == nullptr)
      return;
    Instance *instance = instance_of(module);
    guarded_void(instance, "destroy", [&] { instance->module.reset(); });
    delete instance;
  }

  static void on_server_message(opsup_module *module, opsup_bytes server_to_agent) noexcept {
    if (module == nullptr)
      return;
    Instance *instance = instance_of(module);
    guarded_void(instance, "on_server_message",
                 [&] { instance->module->on_server_message(view_of(server_to_agent)); });
  }

  static void on_collector_message(opsup_module *module, opsup_bytes agent_to_server) noexcept {
    if (module == nullptr)
      return;
    Instance *instance = instance_of(module);
    guarded_void(instance, "on_collector_message",
                 [&] { instance->module->on_collector_message(view_of(agent_to_server)); });
  }

  static void on_event(opsup_module *module, const opsup_event *event) noexcept {
    if (module == nullptr || event == nullptr)
      return;
    Instance *instance = instance_of(module);
    guarded_void(instance, "on_event", [&] { instance->module->on_event(Event::from(*event)); });
  }

#if OPSUP_ABI_MINOR >= 2
  static void on_custom_message(opsup_module *module, const char *capability, const char *type,
                                opsup_bytes data) noexcept {
    if (module == nullptr)
      return;
    Instance *instance = instance_of(module);
    guarded_void(instance, "on_custom_message", [&] {
      instance->module->on_custom_message(capability ? capability : "", type ? type : "",
                                          view_of(data));
    });
  }
#endif

  static opsup_status validate_collector_config(opsup_module *module, const char *config_yaml,
                                                opsup_error_buffer reason) noexcept {
    if (module == nullptr)
      return OPSUP_ERR_INVALID_ARGUMENT;
    std::optional<std::string> veto;
    const opsup_status status = guarded(reason, [&] {
      veto = instance_of(module)->module->validate_collector_config(config_yaml ? config_yaml : "");
    });
    if (status != OPSUP_OK)
      return status;
    if (!veto)
      return OPSUP_OK;
    write_error(reason, *veto);
    return OPSUP_ERR_VETO;
  }

#if OPSUP_ABI_MINOR >= 3
  static opsup_status rewrite_collector_config(opsup_module *module, const char *config_yaml,
                                               opsup_bytes_sink rewritten, void *user_data,
                                               opsup_error_buffer report) noexcept {
    if (module == nullptr || rewritten == nullptr)
      return OPSUP_ERR_INVALID_ARGUMENT;
    std::optional<std::string> config;
    std::string lines;
    const opsup_status status = guarded(report, [&] {
      config = instance_of(module)->module->rewrite_collector_config(config_yaml ? config_yaml : "",
                                                                     lines);
    });
    if (status != OPSUP_OK || !config)
      return status;
    rewritten(user_data,
              opsup_bytes{reinterpret_cast<const uint8_t *>(config->data()), config->size()});
    write_error(report, lines);
    return OPSUP_OK;
  }
#endif
};

}  // namespace detail
}  // namespace opsup

#undef OPSUP_DETAIL_HAS

// Defines the module's exported entry point (opsup_module_entry_v1) for `ModuleClass`.
// The remaining arguments are an opsup::ModuleInfo initializer in braces:
//   OPSUP_DEFINE_MODULE(MyModule, {.id = "com.example.my", .version = "1.2.0"})
// Use it once per shared object, at namespace scope in one .cpp file.
#define OPSUP_DEFINE_MODULE(ModuleClass, ...)                                                     \
  extern "C" OPSUP_EXPORT opsup_status opsup_module_entry_v1(                                     \
      const opsup_host_info *host, const opsup_module_descriptor **out_descriptor) {              \
    static const ::opsup::ModuleInfo opsup_module_info = __VA_ARGS__;                             \
    return ::opsup::detail::Adapter<ModuleClass>::entry(opsup_module_info, host, out_descriptor); \
  }
