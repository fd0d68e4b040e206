// opsup/testing/fake_host.hpp: an in-process stand-in for the supervisor, to unit-test a
// module without it. Header-only; needs only the C++ standard library and threads.
//
//   #include <opsup/testing/fake_host.hpp>
//   opsup::testing::FakeHost host;
//   ASSERT_EQ(host.load(&opsup_module_entry_v1), OPSUP_OK);  // the module's entry
//   ASSERT_EQ(host.create("plugins: {}\n"), OPSUP_OK);
//   ASSERT_EQ(host.start(), OPSUP_OK);
//   host.deliver_server_message(serialized_server_to_agent);
//   host.run_ready();                       // runs what the module posted
//   EXPECT_EQ(host.agent_fields().size(), 1u);
//
// What it does like the real host
//   - Implements every service of opsup_host_api (the minor in OPSUP_ABI_MINOR).
//   - set_agent_fields checks the bytes are well-formed protobuf and that every top-level
//     field belongs to the module (its capability bits, plus custom_capabilities and
//     custom_message when it declares custom capabilities), and records accepted
//     payloads; rejected ones are logged and recorded with the reason.
//   - storage_read/storage_write refuse names that are not plain file names.
//   - After stop(), pending timers, posted and done callbacks are dropped and new ones
//     refused; destroy() waits for running blocking work first.
//
// What it does differently, for deterministic tests
//   - The "loop thread" is the thread calling FakeHost's methods. Nothing runs on its
//     own: posted callbacks and run_blocking's done run in run_ready(); timers use a
//     virtual clock moved by advance(); run_blocking's work runs on a real thread and
//     wait_for_blocking_work() waits for it.
//   - Storage is an in-memory map (storage()), preloadable by the test.
//   - own_settings_yaml returns what set_own_settings_yaml() gave ("" by default): with
//     no YAML parser here, it is not cut out of the config passed to create().
//   - Messages are delivered to the hooks as given; routing by field is not simulated.
//     deliver_server_message also decodes a custom_message for on_custom_message (ABI 1.2)
//     when its capability is in the descriptor, as the real host does.
//   - The setting_* services (ABI 1.2) read what set_setting()/set_setting_list() gave,
//     not YAML: set_setting("a.b", "5s") is plugins.<id>.a.b. Durations are integers with
//     units (ns, us, ms, s, m, h, combined as "1m30s"); fractions are not supported.
//   - send_custom_message (ABI 1.2) records into sent_custom_messages(), not agent_fields().
//   - The Collector services (ABI 1.3) talk to a scripted Collector: collector_state()
//     returns what the test put into collector_state(); set_config_layer and
//     set_remote_config check their arguments as the real host does (names, flags, the
//     AcceptsRemoteConfig owner), record each change in config_changes() and keep it
//     pending until complete_config_change(status, generation, error), which applies an
//     accepted change to config_layers() / remote_config() and calls `done` (dropped once
//     stopped). No module's validate hook and no Collector runs: the test chooses the
//     outcome. composed_config returns set_composed_config()'s text (NOT_FOUND without it,
//     and then restart_collector is NOT_FOUND too); validate_collector_config records the
//     config and answers set_validate_answer()'s result in run_ready().
//     set_collector_available(false) makes them OPSUP_ERR_UNSUPPORTED.
//   - state_read/state_write (ABI 1.3) use the map persistent_state() (key -> YAML text,
//     stored verbatim: there is no YAML parser here). last_remote_config_status follows the
//     owner rule (AcceptsRemoteConfig or ReportsRemoteConfig) but its value is not checked;
//     instance_id reads as the instance UID in UUID form (a quoted YAML string) and is never
//     writable.
//   - deliver_event takes the event's generation (ABI 1.3) as its last argument.
//   - download_start (ABI 1.4) checks its arguments as the real host does and records the
//     request in downloads(); nothing is fetched: the test calls download_progress() and
//     finish_download() (dropped once cancelled or stopped). package_files_remove records
//     the name in removed_packages().
//   - try_opamp_connection_settings (ABI 1.5) talks to a scripted connection: it checks the
//     caller owns AcceptsOpAMPConnectionSettings, `done` and the flags as the real host does,
//     records each call in connection_trials() and keeps it pending until
//     complete_connection_trial(status, error) (oldest first; `done` is dropped once
//     stopped). The settings are not interpreted: the test chooses the outcome.
//     set_connection_available(false) makes it OPSUP_ERR_UNSUPPORTED.
//   - update_collector_executable (ABI 1.6) checks the caller owns AcceptsPackages, the path
//     and `done` as the real host does (any non-empty path is accepted: there is no storage
//     directory here), records each call in collector_updates() and keeps it pending until
//     finish_collector_update(status, error) (oldest first; dropped once stopped).
//     collector_update_recovery answers set_update_recovery(outcome, message) (NONE by
//     default). set_collector_available(false) makes both OPSUP_ERR_UNSUPPORTED.
//
// THREADING: use one FakeHost from one test thread. The module may call log and post
// from any thread, as with the real host.
#pragma once

#include <opsup/module.h>
#include <opsup/opamp_constants.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace opsup::testing {

class FakeHost {
 public:
  struct LogLine {
    opsup_log_level level;
    std::string message;
  };
  struct Rejection {
    std::string payload;
    std::string reason;
  };

  FakeHost() = default;
  FakeHost(const FakeHost &) = delete;
  FakeHost &operator=(const FakeHost &) = delete;
  // Stops and destroys a created module, and joins worker threads.
  ~FakeHost() {
    if (created_)
      destroy();
    join_workers();
  }

  // ---- Setup (call before the module needs them) -------------------------------------
  void set_instance_uid(const std::array<uint8_t, 16> &uid) { instance_uid_ = uid; }
  void set_server_capabilities(uint64_t bits) { server_capabilities_ = bits; }
  // The files storage_read sees; storage_write updates it.
  std::map<std::string, std::string> &storage() { return storage_; }
  // What own_settings_yaml returns: the module's plugins.<id> section as YAML text.
  void set_own_settings_yaml(std::string_view yaml) { own_settings_yaml_ = std::string(yaml); }
  // One setting for the setting_* services, by dotted key, as its text ("42", "true", "5s").
  void set_setting(const std::string &dotted_key, std::string text) {
    settings_[dotted_key] = std::move(text);
  }
  // A list setting for setting_list.
  void set_setting_list(const std::string &dotted_key, std::vector<std::string> items) {
    auto &list = setting_lists_[dotted_key];
    list.items = std::move(items);
    list.pointers.clear();
    for (const auto &item : list.items)
      list.pointers.push_back(item.c_str());
  }

#if OPSUP_ABI_MINOR >= 3
  // ---- The scripted Collector and persistent state (ABI 1.3) ------------------------
  struct ScriptedCollectorState {
    bool running = false;
    int64_t pid = 0;
    int32_t health = OPSUP_COLLECTOR_HEALTH_UNKNOWN;
    uint64_t generation = 0;
    uint64_t latest_generation = 0;
    uint64_t restart_count = 0;
    uint64_t start_time_unix_nano = 0;
    std::string last_error;
  };
  // What collector_state reports; change it at any time.
  ScriptedCollectorState &collector_state() {
    return collector_state_;
  }
  // false: every Collector service answers OPSUP_ERR_UNSUPPORTED (no Collector).
  void set_collector_available(bool available) {
    collector_available_ = available;
  }
  // What composed_config hands out; nullopt (the default) is "no config yet": NOT_FOUND.
  void set_composed_config(std::optional<std::string> yaml) {
    composed_config_ = std::move(yaml);
  }
  // What validate_collector_config's done receives (default: valid, exit code 0).
  void set_validate_answer(bool valid, int32_t exit_code = 0, std::string message = "") {
    validate_answer_ = ValidateAnswer{valid, exit_code, std::move(message)};
  }
  // false: state_read and state_write answer OPSUP_ERR_UNSUPPORTED.
  void set_persistent_state_available(bool available) {
    state_available_ = available;
  }
  // The module's persistent keys: key -> YAML text (preload it; state_write updates it).
  std::map<std::string, std::string> &persistent_state() {
    return persistent_state_;
  }

  struct RemoteFile {
    std::string name;
    std::string body;
    std::string content_type;
    bool operator==(const RemoteFile &) const = default;
  };
  struct ConfigChange {
    bool remote = false;                           // set_remote_config; else set_config_layer
    std::string layer_name;                        // set_config_layer
    std::optional<std::string> yaml;               // set_config_layer; nullopt removes
    std::optional<std::vector<RemoteFile>> files;  // set_remote_config; nullopt clears
    uint32_t flags = 0;
  };
  // Every queued config change, oldest first.
  const std::vector<ConfigChange> &config_changes() const {
    return config_changes_;
  }
  size_t pending_config_changes() const {
    return pending_changes_.size();
  }
  // Completes the oldest pending change with `status`. On OPSUP_OK it is applied and its
  // generation is `generation`, or when 0 collector_state().latest_generation + 1; either
  // becomes the new latest_generation. Its done runs unless the module is stopped. False
  // when nothing is pending.
  bool complete_config_change(opsup_status status = OPSUP_OK, uint64_t generation = 0,
                              std::string error = "") {
    if (pending_changes_.empty())
      return false;
    PendingChange pending = std::move(pending_changes_.front());
    pending_changes_.pop_front();
    if (status == OPSUP_OK) {
      if (generation == 0)
        generation = collector_state_.latest_generation + 1;
      collector_state_.latest_generation = generation;
      const ConfigChange &change = config_changes_[pending.index];
      if (change.remote) {
        remote_config_ = change.files;
      } else if (change.yaml) {
        config_layers_[change.layer_name] = *change.yaml;
      } else {
        config_layers_.erase(change.layer_name);
      }
    } else {
      generation = 0;
    }
    bool accepting;
    {
      std::lock_guard lock(mutex_);
      accepting = accepting_;
    }
    if (accepting && pending.done != nullptr)
      pending.done(pending.user_data, status, generation, error.c_str());
    return true;
  }
  // The module's layers in force (completed with OPSUP_OK), by name.
  const std::map<std::string, std::string> &config_layers() const {
    return config_layers_;
  }
  // The remote config in force; nullopt when none (or cleared).
  const std::optional<std::vector<RemoteFile>> &remote_config() const {
    return remote_config_;
  }
  // How often restart_collector succeeded.
  size_t restart_requests() const {
    return restart_requests_;
  }
  // The configs given to validate_collector_config, oldest first.
  const std::vector<std::string> &validated_configs() const {
    return validated_configs_;
  }
#endif  // OPSUP_ABI_MINOR >= 3

#if OPSUP_ABI_MINOR >= 5
  // ---- The scripted OpAMP connection (ABI 1.5) -----------------------------------------
  struct ConnectionTrial {
    std::string settings;  // the serialized OpAMPConnectionSettings
    uint64_t timeout_ms = 0;
    uint32_t flags = 0;
  };
  // Every try_opamp_connection_settings call accepted, oldest first.
  const std::vector<ConnectionTrial> &connection_trials() const {
    return connection_trials_;
  }
  size_t pending_connection_trials() const {
    return pending_trials_.size();
  }
  // Completes the oldest pending trial: its done gets `status` and `error` (unless the
  // module is stopped). False when none is pending.
  bool complete_connection_trial(opsup_status status = OPSUP_OK, std::string error = "") {
    if (pending_trials_.empty())
      return false;
    PendingTrial pending = pending_trials_.front();
    pending_trials_.pop_front();
    bool accepting;
    {
      std::lock_guard lock(mutex_);
      accepting = accepting_;
    }
    if (accepting)
      pending.done(pending.user_data, status, error.c_str());
    return true;
  }
  // false: try_opamp_connection_settings answers OPSUP_ERR_UNSUPPORTED.
  void set_connection_available(bool available) {
    connection_available_ = available;
  }
#endif  // OPSUP_ABI_MINOR >= 5

#if OPSUP_ABI_MINOR >= 6
  // ---- The scripted Collector executable update (ABI 1.6) ------------------------------
  struct CollectorUpdate {
    std::string package_path;
    uint64_t health_timeout_ms = 0;
  };
  // Every update_collector_executable call accepted, oldest first.
  const std::vector<CollectorUpdate> &collector_updates() const {
    return collector_updates_;
  }
  size_t pending_collector_updates() const {
    return pending_updates_.size();
  }
  // Completes the oldest pending update: its done gets `status` and `error` (unless the
  // module is stopped). False when none is pending.
  bool finish_collector_update(opsup_status status = OPSUP_OK, std::string error = "") {
    if (pending_updates_.empty())
      return false;
    PendingUpdate pending = pending_updates_.front();
    pending_updates_.pop_front();
    bool accepting;
    {
      std::lock_guard lock(mutex_);
      accepting = accepting_;
    }
    if (accepting)
      pending.done(pending.user_data, status, error.c_str());
    return true;
  }
  // What collector_update_recovery reports.
  void set_update_recovery(int32_t outcome, std::string message = "") {
    update_recovery_outcome_ = outcome;
    update_recovery_message_ = std::move(message);
  }
#endif  // OPSUP_ABI_MINOR >= 6

  // ---- Lifecycle --------------------------------------------------------------------
  // Calls the module's entry with the minor range [minor_min, minor_max] and copies its
  // descriptor and hooks as the real host does (min(struct_size, sizeof), rest absent).
  opsup_status load(opsup_module_entry_fn entry, uint32_t minor_min = 0,
                    uint32_t minor_max = OPSUP_ABI_MINOR) {
    info_.struct_size = sizeof(opsup_host_info);
    info_.abi_major = OPSUP_ABI_MAJOR;
    info_.abi_minor_min = minor_min;
    info_.abi_minor_max = minor_max;
    info_.host_version = "fake-host";
    info_.api = &api();
    const opsup_module_descriptor *raw = nullptr;
    const opsup_status status = entry(&info_, &raw);
    if (status != OPSUP_OK)
      return status;
    if (raw == nullptr)
      return OPSUP_ERR_FAILED;
    descriptor_ = {};
    std::memcpy(&descriptor_, raw, std::min<size_t>(raw->struct_size, sizeof descriptor_));
    hooks_ = {};
    if (descriptor_.hooks != nullptr) {
      std::memcpy(&hooks_, descriptor_.hooks,
                  std::min<size_t>(descriptor_.hooks->struct_size, sizeof hooks_));
    }
    owned_fields_ = owned_agent_to_server_fields(descriptor_);
    return OPSUP_OK;
  }

  // The service table and this fake's handle, to call a service as a C module would.
  static const opsup_host_api &host_api() {
    return api();
  }
  opsup_host *host_handle() {
    return handle();
  }

  const opsup_module_descriptor &descriptor() const {
    return descriptor_;
  }
  const opsup_module_hooks &hooks() const {
    return hooks_;
  }
  // The custom capability names of the loaded descriptor.
  // The descriptor's custom capabilities, then those set at run time (ABI 1.3).
  std::vector<std::string> custom_capabilities() const {
    std::vector<std::string> names;
    for (const char *const *it = descriptor_.custom_capabilities; it && *it; ++it) {
      names.emplace_back(*it);
    }
    for (const auto &name : runtime_custom_capabilities_) {
      if (std::find(names.begin(), names.end(), name) == names.end())
        names.push_back(name);
    }
    return names;
  }
#if OPSUP_ABI_MINOR >= 3
  // What the module set with set_custom_capabilities (ABI 1.3).
  const std::vector<std::string> &runtime_custom_capabilities() const {
    return runtime_custom_capabilities_;
  }
  // Serialized ServerToAgent messages the module sent to the Collector (send_to_collector).
  const std::vector<std::string> &sent_to_collector() const {
    return sent_to_collector_;
  }
  // false: send_to_collector answers OPSUP_ERR_NOT_FOUND (no Collector connected).
  void set_collector_connected(bool connected) {
    collector_connected_ = connected;
  }
#endif
#if OPSUP_ABI_MINOR >= 4
  // ---- Downloads (ABI 1.4): recorded, finished by the test ---------------------------
  struct Download {
    uint64_t id = 0;
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string package_name;
    std::string file_name;
    std::string sha256;
    uint64_t max_bytes = 0;
    std::string signature;
    uint32_t flags = 0;
    bool cancelled = false;  // download_cancel
    bool finished = false;   // the test called finish_download
    opsup_download_progress_fn progress = nullptr;
    opsup_download_done done = nullptr;
    void *user_data = nullptr;
  };
  // Every accepted download_start, oldest first.
  const std::vector<Download> &downloads() const {
    return downloads_;
  }
  // Calls download `index`'s progress callback (not once cancelled, finished or stopped).
  void download_progress(size_t index, uint64_t received, uint64_t total, double per_second) {
    Download &download = downloads_.at(index);
    if (download.cancelled || download.finished || stopped_ || download.progress == nullptr)
      return;
    opsup_download_progress progress{sizeof(opsup_download_progress), 0, received, total,
                                     per_second};
    download.progress(download.user_data, &progress);
  }
  // Calls download `index`'s done callback once (not once cancelled or stopped). With
  // OPSUP_OK the file is recorded in package_files() as <package>/<file>.
  void finish_download(size_t index, opsup_status status, bool resumable = false,
                       const std::string &error = "") {
    Download &download = downloads_.at(index);
    if (download.cancelled || download.finished || stopped_)
      return;
    download.finished = true;
    std::string path;
    if (status == OPSUP_OK) {
      path = "/fake-storage/packages/" + download.package_name + "/" + download.file_name;
      package_files_.insert(download.package_name + "/" + download.file_name);
    }
    download.done(download.user_data, status, resumable ? 1 : 0, path.c_str(), error.c_str());
  }
  // Files of finished downloads, "<package>/<file>"; package_files_remove drops them.
  const std::set<std::string> &package_files() const {
    return package_files_;
  }
  // The names given to package_files_remove, oldest first.
  const std::vector<std::string> &removed_packages() const {
    return removed_packages_;
  }
#endif

  // Calls create with the supervisor config YAML. The module's error text, if any, is
  // in last_error().
  opsup_status create(std::string_view supervisor_config_yaml = "{}\n") {
    if (hooks_.create == nullptr)
      return OPSUP_ERR_UNSUPPORTED;
    {
      std::lock_guard lock(mutex_);
      accepting_ = true;
    }
    const std::string yaml(supervisor_config_yaml);
    char error[1024] = "";
    const opsup_status status =
        hooks_.create(handle(), yaml.c_str(), &module_, opsup_error_buffer{error, sizeof error});
    last_error_ = error;
    if (status != OPSUP_OK) {
      module_ = nullptr;
      return status;
    }
    created_ = true;
    stopped_ = false;
    return status;
  }

  opsup_status start() {
    if (hooks_.start == nullptr)
      return OPSUP_OK;
    char error[1024] = "";
    const opsup_status status = hooks_.start(module_, opsup_error_buffer{error, sizeof error});
    last_error_ = error;
    return status;
  }

  // Calls stop (once); then, as the real host does, cancels pending timers and drops
  // posted and done callbacks that have not run, and refuses new ones.
  void stop() {
    if (!created_ || stopped_)
      return;
    stopped_ = true;
    if (hooks_.stop != nullptr)
      hooks_.stop(module_);
    std::lock_guard lock(mutex_);
    accepting_ = false;
    ready_.clear();
    timers_.clear();
  }

  // Stops (if not yet), waits for blocking work, drops what never ran, calls destroy.
  void destroy() {
    if (!created_)
      return;
    stop();
    wait_for_blocking_work(std::chrono::seconds(30));
    {
      std::lock_guard lock(mutex_);
      ready_.clear();
    }
    if (hooks_.destroy != nullptr)
      hooks_.destroy(module_);
    module_ = nullptr;
    created_ = false;
  }

  std::string last_error() const {
    return last_error_;
  }

  // ---- Hooks ------------------------------------------------------------------------
  void deliver_server_message(std::string_view server_to_agent) {
    if (hooks_.on_server_message != nullptr) {
      hooks_.on_server_message(module_, bytes_of(server_to_agent));
    }
#if OPSUP_ABI_MINOR >= 2
    if (hooks_.on_custom_message == nullptr)
      return;
    // Decode custom_message (field 11) unless the message is a command (field 9).
    std::optional<std::string_view> custom;
    if (!for_each_field(server_to_agent,
                        [&](uint32_t number, std::string_view payload) {
                          if (number == OPSUP_S2A_COMMAND)
                            return false;
                          if (number == OPSUP_S2A_CUSTOM_MESSAGE)
                            custom = payload;
                          return true;
                        }) ||
        !custom) {
      return;
    }
    std::string parts[4];
    if (!for_each_field(*custom, [&](uint32_t number, std::string_view payload) {
          if (number >= 1 && number <= 3)
            parts[number] = std::string(payload);
          return true;
        })) {
      return;
    }
    const auto declared = custom_capabilities();
    if (std::find(declared.begin(), declared.end(), parts[OPSUP_CUSTOM_MESSAGE_CAPABILITY]) ==
        declared.end()) {
      return;
    }
    hooks_.on_custom_message(module_, parts[OPSUP_CUSTOM_MESSAGE_CAPABILITY].c_str(),
                             parts[OPSUP_CUSTOM_MESSAGE_TYPE].c_str(),
                             bytes_of(parts[OPSUP_CUSTOM_MESSAGE_DATA]));
#endif
  }
  void deliver_collector_message(std::string_view agent_to_server) {
    if (hooks_.on_collector_message != nullptr) {
      hooks_.on_collector_message(module_, bytes_of(agent_to_server));
    }
  }
  void deliver_event(opsup_event_kind kind, std::string_view message = "", int64_t pid = 0,
                     int32_t exit_code = 0, uint64_t generation = 0) {
    const std::string text(message);
    opsup_event event{};
    event.struct_size = sizeof event;
    event.kind = kind;
    event.pid = pid;
    event.exit_code = exit_code;
    event.time_unix_nano =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
    event.message = text.c_str();
#if OPSUP_ABI_MINOR >= 3
    event.generation = generation;
#else
    (void)generation;
#endif
    if (hooks_.on_event != nullptr)
      hooks_.on_event(module_, &event);
  }
  // Returns the hook's status; a veto reason goes to *reason.
  opsup_status validate_collector_config(std::string_view config_yaml,
                                         std::string *reason = nullptr) {
    if (hooks_.validate_collector_config == nullptr)
      return OPSUP_OK;
    const std::string yaml(config_yaml);
    char text[1024] = "";
    const opsup_status status = hooks_.validate_collector_config(
        module_, yaml.c_str(), opsup_error_buffer{text, sizeof text});
    if (reason != nullptr)
      *reason = text;
    return status;
  }

#if OPSUP_ABI_MINOR >= 3
  // Calls the module's rewrite_collector_config hook (ABI 1.3), as the host does for a
  // server-given candidate. `rewritten` gets the new config when the module replaced it
  // (nullopt: kept); `report` what it changed, or its refusal.
  struct Rewrite {
    opsup_status status = OPSUP_OK;
    std::optional<std::string> rewritten;
    std::string report;
  };
  Rewrite rewrite_collector_config(std::string_view config_yaml) {
    Rewrite result;
    if (hooks_.rewrite_collector_config == nullptr)
      return result;
    const std::string yaml(config_yaml);
    char text[1024] = "";
    result.status = hooks_.rewrite_collector_config(
        module_, yaml.c_str(),
        [](void *user_data, opsup_bytes bytes) {
          static_cast<Rewrite *>(user_data)->rewritten.emplace(
              reinterpret_cast<const char *>(bytes.data), bytes.data ? bytes.size : 0);
        },
        &result, opsup_error_buffer{text, sizeof text});
    result.report = text;
    return result;
  }
#endif

  // ---- Loop ---------------------------------------------------------------------------
  // Runs posted callbacks, finished run_blocking done callbacks and timers due now, until
  // none is left. Returns how many ran.
  size_t run_ready() {
    size_t count = 0;
    for (;;) {
      std::function<void()> next;
      {
        std::lock_guard lock(mutex_);
        if (!ready_.empty()) {
          next = std::move(ready_.front());
          ready_.pop_front();
        }
      }
      if (!next) {
        auto due = timers_.begin();
        if (due == timers_.end() || due->first.first > now_ms_)
          break;
        next = std::move(due->second);
        timers_.erase(due);
      }
      next();
      ++count;
    }
    return count;
  }

  // Moves the virtual clock forward, firing due timers in order (and what they post).
  // Returns how many callbacks ran.
  size_t advance(std::chrono::milliseconds duration) {
    const uint64_t target = now_ms_ + static_cast<uint64_t>(std::max<int64_t>(0, duration.count()));
    size_t count = run_ready();
    while (!timers_.empty() && timers_.begin()->first.first <= target) {
      now_ms_ = timers_.begin()->first.first;
      count += run_ready();
    }
    now_ms_ = target;
    return count + run_ready();
  }

  // Waits (up to `timeout`) until every run_blocking work has finished, then runs what
  // is ready. Returns false on timeout.
  bool wait_for_blocking_work(std::chrono::milliseconds timeout) {
    bool finished;
    {
      std::unique_lock lock(mutex_);
      finished = work_done_.wait_for(lock, timeout, [&] { return outstanding_work_ == 0; });
    }
    if (finished) {
      join_workers();
      run_ready();
    }
    return finished;
  }

  uint64_t now_ms() const {
    return now_ms_;
  }
  size_t pending_timer_count() const {
    return timers_.size();
  }

  // ---- What the module did ------------------------------------------------------------
  std::vector<LogLine> logs() const {
    std::lock_guard lock(mutex_);
    return logs_;
  }
  // True when some log line contains `text` (at `level` when given).
  bool logged(std::string_view text, std::optional<opsup_log_level> level = std::nullopt) const {
    std::lock_guard lock(mutex_);
    return std::any_of(logs_.begin(), logs_.end(), [&](const LogLine &line) {
      return (!level || line.level == *level) && line.message.find(text) != std::string::npos;
    });
  }
  struct CustomMessage {
    std::string capability;
    std::string type;
    std::string data;
  };
  // What send_custom_message sent, oldest first.
  const std::vector<CustomMessage> &sent_custom_messages() const {
    return custom_messages_;
  }

  // Accepted set_agent_fields payloads (serialized AgentToServer), oldest first.
  const std::vector<std::string> &agent_fields() const {
    return agent_fields_;
  }
  const std::vector<Rejection> &rejected_agent_fields() const {
    return rejected_;
  }

  // The AgentToServer field numbers a module with this descriptor may set.
  static std::set<uint32_t> owned_agent_to_server_fields(const opsup_module_descriptor &d) {
    static constexpr std::pair<uint64_t, uint32_t> kFieldOfCapability[] = {
        {OPSUP_CAP_REPORTS_HEALTH, OPSUP_A2S_HEALTH},
        {OPSUP_CAP_REPORTS_EFFECTIVE_CONFIG, OPSUP_A2S_EFFECTIVE_CONFIG},
        {OPSUP_CAP_REPORTS_REMOTE_CONFIG, OPSUP_A2S_REMOTE_CONFIG_STATUS},
        {OPSUP_CAP_REPORTS_PACKAGE_STATUSES, OPSUP_A2S_PACKAGE_STATUSES},
        {OPSUP_CAP_ACCEPTS_OPAMP_CONNECTION_SETTINGS, OPSUP_A2S_CONNECTION_SETTINGS_REQUEST},
        {OPSUP_CAP_REPORTS_AVAILABLE_COMPONENTS, OPSUP_A2S_AVAILABLE_COMPONENTS},
        {OPSUP_CAP_REPORTS_CONNECTION_SETTINGS_STATUS, OPSUP_A2S_CONNECTION_SETTINGS_STATUS},
    };
    std::set<uint32_t> fields;
    for (const auto &[bit, field] : kFieldOfCapability) {
      if (d.capabilities & bit)
        fields.insert(field);
    }
    if (d.custom_capabilities != nullptr && d.custom_capabilities[0] != nullptr) {
      fields.insert(OPSUP_A2S_CUSTOM_CAPABILITIES);
      fields.insert(OPSUP_A2S_CUSTOM_MESSAGE);
    }
    return fields;
  }

  // Calls fn(number, payload) for each top-level field of a serialized protobuf message
  // (payload: the bytes of a length-delimited field, else empty) until fn returns false.
  // False when the bytes are not well-formed or fn stopped.
  template <class Fn>
  static bool for_each_field(std::string_view bytes, Fn &&fn) {
    size_t pos = 0;
    auto varint = [&](uint64_t &value) {
      value = 0;
      for (int shift = 0; shift < 64 && pos < bytes.size(); shift += 7) {
        const auto byte = static_cast<uint8_t>(bytes[pos++]);
        value |= static_cast<uint64_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0)
          return true;
      }
      return false;
    };
    while (pos < bytes.size()) {
      uint64_t key = 0;
      if (!varint(key) || (key >> 3) == 0 || (key >> 3) > 0x1fffffff)
        return false;
      uint64_t skip = 0;
      bool delimited = false;
      switch (key & 7) {
        case 0:
          if (!varint(skip))
            return false;
          skip = 0;
          break;
        case 1:
          skip = 8;
          break;
        case 2:
          if (!varint(skip))
            return false;
          delimited = true;
          break;
        case 5:
          skip = 4;
          break;
        default:
          return false;
      }
      if (skip > bytes.size() - pos)
        return false;
      const std::string_view payload = delimited ? bytes.substr(pos, skip) : std::string_view();
      pos += skip;
      if (!fn(static_cast<uint32_t>(key >> 3), payload))
        return false;
    }
    return true;
  }

  // Top-level field numbers of a serialized protobuf message, or nullopt when the bytes
  // are not well-formed at the top level.
  static std::optional<std::vector<uint32_t>> top_level_fields(std::string_view bytes) {
    std::vector<uint32_t> fields;
    const bool well_formed = for_each_field(bytes, [&](uint32_t number, std::string_view) {
      fields.push_back(number);
      return true;
    });
    if (!well_formed)
      return std::nullopt;
    return fields;
  }

 private:
  static FakeHost &self(opsup_host *host) {
    return *reinterpret_cast<FakeHost *>(host);
  }
  opsup_host *handle() {
    return reinterpret_cast<opsup_host *>(this);
  }
  static opsup_bytes bytes_of(std::string_view text) {
    return opsup_bytes{reinterpret_cast<const uint8_t *>(text.data()), text.size()};
  }
  static bool plain_file_name(const char *name) {
    if (name == nullptr)
      return false;
    const std::string_view text(name);
    return !text.empty() && text != "." && text != ".." && text.find('/') == std::string_view::npos;
  }

  void record_log(opsup_log_level level, std::string message) {
    std::lock_guard lock(mutex_);
    logs_.push_back(LogLine{level, std::move(message)});
  }

  void join_workers() {
    std::vector<std::thread> workers;
    {
      std::lock_guard lock(mutex_);
      workers.swap(workers_);
    }
    for (auto &worker : workers)
      worker.join();
  }

  opsup_status accept_agent_fields(std::string_view payload) {
    const auto fields = top_level_fields(payload);
    std::string reason;
    if (!fields) {
      reason = "set_agent_fields: the bytes are not a serialized AgentToServer";
    } else {
      for (uint32_t field : *fields) {
        if (!owned_fields_.count(field)) {
          reason = "set_agent_fields: AgentToServer field " + std::to_string(field) +
                   " is not owned by module " + (descriptor_.id ? descriptor_.id : "?");
          break;
        }
      }
    }
    if (!reason.empty()) {
      record_log(OPSUP_LOG_ERROR, reason);
      rejected_.push_back(Rejection{std::string(payload), reason});
      return OPSUP_ERR_INVALID_ARGUMENT;
    }
    agent_fields_.emplace_back(payload);
    return OPSUP_OK;
  }

  static const opsup_host_api &api() {
    static const opsup_host_api table = [] {
      opsup_host_api t{};
      t.struct_size = sizeof t;
      t.abi_minor = OPSUP_ABI_MINOR;
      t.log = [](opsup_host *h, opsup_log_level level, const char *message) {
        self(h).record_log(level, message ? message : "");
      };
      t.set_agent_fields = [](opsup_host *h, opsup_bytes bytes) -> opsup_status {
        return self(h).accept_agent_fields(
            std::string_view(reinterpret_cast<const char *>(bytes.data), bytes.size));
      };
      t.instance_uid = [](opsup_host *h, uint8_t out_uid[16]) {
        std::memcpy(out_uid, self(h).instance_uid_.data(), 16);
      };
      t.server_capabilities = [](opsup_host *h) { return self(h).server_capabilities_; };
      t.post = [](opsup_host *h, opsup_callback fn, void *user_data) -> opsup_status {
        FakeHost &host = self(h);
        std::lock_guard lock(host.mutex_);
        if (!host.accepting_ || fn == nullptr)
          return OPSUP_ERR_FAILED;
        host.ready_.push_back([fn, user_data] { fn(user_data); });
        return OPSUP_OK;
      };
      t.timer_start = [](opsup_host *h, uint64_t delay_ms, opsup_callback fn,
                         void *user_data) -> uint64_t {
        FakeHost &host = self(h);
        if (!host.accepting_ || fn == nullptr)
          return 0;
        const uint64_t id = ++host.last_timer_id_;
        host.timers_.emplace(std::make_pair(host.now_ms_ + delay_ms, id),
                             [fn, user_data] { fn(user_data); });
        return id;
      };
      t.timer_cancel = [](opsup_host *h, uint64_t timer_id) {
        auto &timers = self(h).timers_;
        for (auto it = timers.begin(); it != timers.end(); ++it) {
          if (it->first.second == timer_id) {
            timers.erase(it);
            return;
          }
        }
      };
      t.run_blocking = [](opsup_host *h, opsup_callback work, opsup_callback done,
                          void *user_data) -> opsup_status {
        FakeHost &host = self(h);
        std::lock_guard lock(host.mutex_);
        if (!host.accepting_ || work == nullptr)
          return OPSUP_ERR_FAILED;
        ++host.outstanding_work_;
        host.workers_.emplace_back([&host, work, done, user_data] {
          work(user_data);
          std::lock_guard worker_lock(host.mutex_);
          if (done != nullptr && host.accepting_) {
            host.ready_.push_back([done, user_data] { done(user_data); });
          }
          --host.outstanding_work_;
          host.work_done_.notify_all();
        });
        return OPSUP_OK;
      };
      t.storage_read = [](opsup_host *h, const char *file_name, opsup_bytes_sink sink,
                          void *user_data) -> opsup_status {
        if (!plain_file_name(file_name) || sink == nullptr)
          return OPSUP_ERR_INVALID_ARGUMENT;
        const auto &files = self(h).storage_;
        const auto it = files.find(file_name);
        if (it == files.end())
          return OPSUP_ERR_NOT_FOUND;
        sink(user_data, bytes_of(it->second));
        return OPSUP_OK;
      };
      t.storage_write = [](opsup_host *h, const char *file_name,
                           opsup_bytes content) -> opsup_status {
        if (!plain_file_name(file_name))
          return OPSUP_ERR_INVALID_ARGUMENT;
        self(h).storage_[file_name] =
            std::string(reinterpret_cast<const char *>(content.data), content.size);
        return OPSUP_OK;
      };
#if OPSUP_ABI_MINOR >= 1
      t.own_settings_yaml = [](opsup_host *h) -> const char * {
        return self(h).own_settings_yaml_.c_str();
      };
#endif
#if OPSUP_ABI_MINOR >= 2
      t.setting_string = [](opsup_host *h, const char *key, const char **out,
                            opsup_error_buffer error) -> opsup_status {
        const std::string *text = nullptr;
        const opsup_status status = self(h).find_setting(key, out != nullptr, error, text);
        if (status == OPSUP_OK)
          *out = text->c_str();
        return status;
      };
      t.setting_int = [](opsup_host *h, const char *key, int64_t *out,
                         opsup_error_buffer error) -> opsup_status {
        const std::string *text = nullptr;
        opsup_status status = self(h).find_setting(key, out != nullptr, error, text);
        if (status != OPSUP_OK)
          return status;
        char *end = nullptr;
        errno = 0;
        const long long value = std::strtoll(text->c_str(), &end, 10);
        if (text->empty() || *end != '\0' || errno != 0)
          return self(h).wrong_setting(key, "must be an integer, not \"" + *text + "\"", error);
        *out = value;
        return OPSUP_OK;
      };
      t.setting_bool = [](opsup_host *h, const char *key, int32_t *out,
                          opsup_error_buffer error) -> opsup_status {
        const std::string *text = nullptr;
        opsup_status status = self(h).find_setting(key, out != nullptr, error, text);
        if (status != OPSUP_OK)
          return status;
        if (*text != "true" && *text != "false")
          return self(h).wrong_setting(key, "must be true or false, not \"" + *text + "\"", error);
        *out = *text == "true" ? 1 : 0;
        return OPSUP_OK;
      };
      t.setting_duration_ms = [](opsup_host *h, const char *key, uint64_t *out,
                                 opsup_error_buffer error) -> opsup_status {
        const std::string *text = nullptr;
        opsup_status status = self(h).find_setting(key, out != nullptr, error, text);
        if (status != OPSUP_OK)
          return status;
        const auto ms = duration_ms(*text);
        if (!ms)
          return self(h).wrong_setting(key, "must be a duration, not \"" + *text + "\"", error);
        *out = *ms;
        return OPSUP_OK;
      };
      t.setting_list = [](opsup_host *h, const char *key, const char *const **out_items,
                          size_t *out_count, opsup_error_buffer error) -> opsup_status {
        FakeHost &host = self(h);
        if (key == nullptr || out_items == nullptr || out_count == nullptr)
          return OPSUP_ERR_INVALID_ARGUMENT;
        const auto it = host.setting_lists_.find(key);
        if (it == host.setting_lists_.end()) {
          if (host.settings_.count(key))
            return host.wrong_setting(key, "must be a list", error);
          return OPSUP_ERR_NOT_FOUND;
        }
        *out_items = it->second.pointers.data();
        *out_count = it->second.items.size();
        return OPSUP_OK;
      };
      t.send_custom_message = [](opsup_host *h, const char *capability, const char *type,
                                 opsup_bytes data) -> opsup_status {
        FakeHost &host = self(h);
        if (capability == nullptr || type == nullptr || (data.data == nullptr && data.size != 0))
          return OPSUP_ERR_INVALID_ARGUMENT;
        if (host.stopped_)
          return OPSUP_ERR_FAILED;
        const auto declared = host.custom_capabilities();
        if (std::find(declared.begin(), declared.end(), capability) == declared.end()) {
          host.record_log(OPSUP_LOG_ERROR,
                          std::string("send_custom_message: custom capability \"") + capability +
                              "\" is not in the module's descriptor");
          return OPSUP_ERR_INVALID_ARGUMENT;
        }
        host.custom_messages_.push_back(CustomMessage{
            capability, type, std::string(reinterpret_cast<const char *>(data.data), data.size)});
        return OPSUP_OK;
      };
#endif
#if OPSUP_ABI_MINOR >= 3
      t.set_config_layer = [](opsup_host *h, const char *layer_name, const char *yaml,
                              uint32_t flags, opsup_config_done done,
                              void *user_data) -> opsup_status {
        FakeHost &host = self(h);
        if (!valid_name(layer_name))
          return host.refuse("set_config_layer: bad layer name");
        if ((flags & ~uint32_t{OPSUP_CONFIG_VALIDATE | OPSUP_CONFIG_OWN_TELEMETRY}) != 0)
          return host.refuse("set_config_layer: unknown flags");
        if ((flags & OPSUP_CONFIG_OWN_TELEMETRY) != 0 &&
            (host.descriptor_.capabilities &
             (OPSUP_CAP_REPORTS_OWN_METRICS | OPSUP_CAP_REPORTS_OWN_LOGS |
              OPSUP_CAP_REPORTS_OWN_TRACES)) == 0)
          return host.refuse(
              "set_config_layer: OPSUP_CONFIG_OWN_TELEMETRY without an own-telemetry capability");
        if (!host.collector_available_)
          return OPSUP_ERR_UNSUPPORTED;
        if (host.stopped_)
          return OPSUP_ERR_FAILED;
        ConfigChange change;
        change.layer_name = layer_name;
        if (yaml != nullptr)
          change.yaml = yaml;
        change.flags = flags;
        host.queue_change(std::move(change), done, user_data);
        return OPSUP_OK;
      };
      t.set_remote_config = [](opsup_host *h, const opsup_config_file *files, size_t count,
                               uint32_t flags, opsup_config_done done,
                               void *user_data) -> opsup_status {
        FakeHost &host = self(h);
        if ((host.descriptor_.capabilities & OPSUP_CAP_ACCEPTS_REMOTE_CONFIG) == 0) {
          return host.refuse(
              "set_remote_config: only the module owning AcceptsRemoteConfig may set the "
              "remote config");
        }
        if ((flags & ~uint32_t{OPSUP_CONFIG_VALIDATE | OPSUP_REMOTE_CONFIG_CLEAR}) != 0)
          return host.refuse("set_remote_config: unknown flags");
        ConfigChange change;
        change.remote = true;
        change.flags = flags;
        if ((flags & OPSUP_REMOTE_CONFIG_CLEAR) == 0) {
          change.files.emplace();
          if (count > 0 && (files == nullptr || files[0].struct_size < sizeof(opsup_config_file)))
            return host.refuse("set_remote_config: bad files array");
          const uint32_t stride = count > 0 ? files[0].struct_size : 0;
          for (size_t i = 0; i < count; ++i) {
            const auto &file = *reinterpret_cast<const opsup_config_file *>(
                reinterpret_cast<const unsigned char *>(files) + i * stride);
            if (file.struct_size != stride || (file.body.data == nullptr && file.body.size != 0))
              return host.refuse("set_remote_config: bad files array");
            change.files->push_back(RemoteFile{
                file.name ? file.name : "",
                std::string(reinterpret_cast<const char *>(file.body.data), file.body.size),
                file.content_type ? file.content_type : ""});
          }
        }
        if (!host.collector_available_)
          return OPSUP_ERR_UNSUPPORTED;
        if (host.stopped_)
          return OPSUP_ERR_FAILED;
        host.queue_change(std::move(change), done, user_data);
        return OPSUP_OK;
      };
      t.collector_state = [](opsup_host *h, opsup_collector_state *out) -> opsup_status {
        FakeHost &host = self(h);
        if (out == nullptr || !OPSUP_HAS_FIELD(opsup_collector_state, out->struct_size, running))
          return host.refuse("collector_state: out is NULL or too small");
        if (!host.collector_available_)
          return OPSUP_ERR_UNSUPPORTED;
        const ScriptedCollectorState &state = host.collector_state_;
        host.collector_last_error_ = state.last_error;
        opsup_collector_state full{};
        full.running = state.running ? 1 : 0;
        full.pid = state.pid;
        full.health = state.health;
        full.generation = state.generation;
        full.latest_generation = state.latest_generation;
        full.restart_count = state.restart_count;
        full.start_time_unix_nano = state.start_time_unix_nano;
        full.last_error = host.collector_last_error_.c_str();
        const uint32_t size = std::min<uint32_t>(out->struct_size, sizeof full);
        std::memcpy(out, &full, size);
        out->struct_size = size;
        return OPSUP_OK;
      };
      t.composed_config = [](opsup_host *h, opsup_bytes_sink sink,
                             void *user_data) -> opsup_status {
        FakeHost &host = self(h);
        if (sink == nullptr)
          return host.refuse("composed_config: sink is NULL");
        if (!host.collector_available_)
          return OPSUP_ERR_UNSUPPORTED;
        if (!host.composed_config_)
          return OPSUP_ERR_NOT_FOUND;
        sink(user_data, bytes_of(*host.composed_config_));
        return OPSUP_OK;
      };
      t.restart_collector = [](opsup_host *h) -> opsup_status {
        FakeHost &host = self(h);
        if (!host.collector_available_)
          return OPSUP_ERR_UNSUPPORTED;
        if (host.stopped_)
          return OPSUP_ERR_FAILED;
        if (!host.composed_config_)
          return OPSUP_ERR_NOT_FOUND;
        ++host.restart_requests_;
        return OPSUP_OK;
      };
      t.validate_collector_config = [](opsup_host *h, const char *config_yaml,
                                       opsup_validate_done done, void *user_data) -> opsup_status {
        FakeHost &host = self(h);
        if (config_yaml == nullptr || done == nullptr)
          return host.refuse("validate_collector_config: config_yaml or done is NULL");
        if (!host.collector_available_)
          return OPSUP_ERR_UNSUPPORTED;
        if (host.stopped_)
          return OPSUP_ERR_FAILED;
        host.validated_configs_.emplace_back(config_yaml);
        std::lock_guard lock(host.mutex_);
        host.ready_.push_back([answer = host.validate_answer_, done, user_data] {
          done(user_data, answer.valid ? 1 : 0, answer.exit_code, answer.message.c_str());
        });
        return OPSUP_OK;
      };
      t.state_read = [](opsup_host *h, const char *key, opsup_bytes_sink sink,
                        void *user_data) -> opsup_status {
        FakeHost &host = self(h);
        if (sink == nullptr || !host.state_key_allowed(key, "state_read"))
          return OPSUP_ERR_INVALID_ARGUMENT;
        if (!host.state_available_)
          return OPSUP_ERR_UNSUPPORTED;
        if (std::string_view(key) == "instance_id") {
          const std::string text = "\"" + host.instance_id_text() + "\"\n";
          sink(user_data, bytes_of(text));
          return OPSUP_OK;
        }
        const auto it = host.persistent_state_.find(key);
        if (it == host.persistent_state_.end())
          return OPSUP_ERR_NOT_FOUND;
        sink(user_data, bytes_of(it->second));
        return OPSUP_OK;
      };
      t.state_write = [](opsup_host *h, const char *key, const char *yaml_value) -> opsup_status {
        FakeHost &host = self(h);
        if (!host.state_key_allowed(key, "state_write"))
          return OPSUP_ERR_INVALID_ARGUMENT;
        if (std::string_view(key) == "instance_id")
          return host.refuse("state_write: state key instance_id is not writable");
        if (!host.state_available_)
          return OPSUP_ERR_UNSUPPORTED;
        if (yaml_value == nullptr) {
          host.persistent_state_.erase(key);
        } else {
          host.persistent_state_[key] = yaml_value;
        }
        return OPSUP_OK;
      };
      t.set_custom_capabilities = [](opsup_host *h, const char *const *names,
                                     size_t count) -> opsup_status {
        FakeHost &host = self(h);
        if (host.stopped_)
          return OPSUP_ERR_FAILED;
        if ((count > 0 && names == nullptr) || count > 64)
          return host.refuse("set_custom_capabilities: bad names");
        std::vector<std::string> wanted;
        for (size_t i = 0; i < count; ++i) {
          if (names[i] == nullptr || names[i][0] == '\0')
            return host.refuse("set_custom_capabilities: a name is NULL or empty");
          wanted.emplace_back(names[i]);
        }
        host.runtime_custom_capabilities_ = std::move(wanted);
        return OPSUP_OK;
      };
      t.send_to_collector = [](opsup_host *h, opsup_bytes server_to_agent) -> opsup_status {
        FakeHost &host = self(h);
        if (host.stopped_)
          return OPSUP_ERR_FAILED;
        if (!host.collector_available_)
          return OPSUP_ERR_UNSUPPORTED;
        const std::string_view bytes(reinterpret_cast<const char *>(server_to_agent.data),
                                     server_to_agent.data ? server_to_agent.size : 0);
        const auto fields = top_level_fields(bytes);
        if (!fields)
          return host.refuse("send_to_collector: the bytes are not a ServerToAgent");
        for (uint32_t field : *fields) {
          if (field != OPSUP_S2A_CUSTOM_CAPABILITIES && field != OPSUP_S2A_CUSTOM_MESSAGE &&
              field != OPSUP_S2A_INSTANCE_UID)
            return host.refuse("send_to_collector: field " + std::to_string(field) +
                               " may not be sent to the Collector");
        }
        if (!host.collector_connected_)
          return OPSUP_ERR_NOT_FOUND;
        host.sent_to_collector_.emplace_back(bytes);
        return OPSUP_OK;
      };
#endif
#if OPSUP_ABI_MINOR >= 4
      t.download_start = [](opsup_host *h, const opsup_download_request *request,
                            opsup_download_progress_fn progress, opsup_download_done done,
                            void *user_data) -> uint64_t {
        FakeHost &host = self(h);
        if (host.stopped_)
          return 0;
        if (request == nullptr || done == nullptr || request->url == nullptr) {
          host.refuse("download_start: no request, url or done callback");
          return 0;
        }
        const std::string url = request->url;
        if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
          host.refuse("download_start: " + url + " is not an http(s) URL");
          return 0;
        }
        if (!package_name_ok(request->package_name) || !package_name_ok(request->file_name)) {
          host.refuse("download_start: bad package or file name");
          return 0;
        }
        if (request->sha256.data == nullptr || request->sha256.size != 32) {
          host.refuse("download_start: sha256 must be 32 bytes");
          return 0;
        }
        Download download;
        download.id = ++host.last_download_id_;
        download.url = url;
        for (uint32_t i = 0; i < request->header_count; ++i) {
          const opsup_http_header &header = request->headers[i];
          download.headers.emplace_back(header.name ? header.name : "",
                                        header.value ? header.value : "");
        }
        download.package_name = request->package_name;
        download.file_name = request->file_name;
        download.sha256.assign(reinterpret_cast<const char *>(request->sha256.data), 32);
        download.max_bytes = request->max_bytes;
        if ((request->flags & ~uint32_t{OPSUP_DOWNLOAD_CHECK_SIGNATURE}) != 0) {
          host.refuse("download_start: unknown flags");
          return 0;
        }
        download.flags = request->flags;
        if (request->signature.data != nullptr)
          download.signature.assign(reinterpret_cast<const char *>(request->signature.data),
                                    request->signature.size);
        download.progress = progress;
        download.done = done;
        download.user_data = user_data;
        host.downloads_.push_back(std::move(download));
        return host.downloads_.back().id;
      };
      t.download_cancel = [](opsup_host *h, uint64_t download_id) {
        for (Download &download : self(h).downloads_) {
          if (download.id == download_id)
            download.cancelled = true;
        }
      };
      t.package_files_remove = [](opsup_host *h, const char *package_name) -> opsup_status {
        FakeHost &host = self(h);
        if (!package_name_ok(package_name))
          return host.refuse("package_files_remove: bad package name");
        host.removed_packages_.emplace_back(package_name);
        const std::string prefix = std::string(package_name) + "/";
        std::erase_if(host.package_files_,
                      [&](const std::string &file) { return file.rfind(prefix, 0) == 0; });
        return OPSUP_OK;
      };
#endif
#if OPSUP_ABI_MINOR >= 5
      t.try_opamp_connection_settings = [](opsup_host *h, opsup_bytes settings, uint64_t timeout_ms,
                                           uint32_t flags, opsup_connection_done done,
                                           void *user_data) -> opsup_status {
        FakeHost &host = self(h);
        if ((host.descriptor_.capabilities & OPSUP_CAP_ACCEPTS_OPAMP_CONNECTION_SETTINGS) == 0)
          return host.refuse(
              "try_opamp_connection_settings: only the module owning "
              "AcceptsOpAMPConnectionSettings may call it");
        if (done == nullptr)
          return host.refuse("try_opamp_connection_settings: done is NULL");
        if ((flags & ~OPSUP_CONNECTION_COMMITTED) != 0)
          return host.refuse("try_opamp_connection_settings: unknown flags");
        if (!host.connection_available_)
          return OPSUP_ERR_UNSUPPORTED;
        if (host.stopped_)
          return OPSUP_ERR_FAILED;
        host.connection_trials_.push_back(
            ConnectionTrial{std::string(reinterpret_cast<const char *>(settings.data),
                                        settings.data ? settings.size : 0),
                            timeout_ms, flags});
        host.pending_trials_.push_back(PendingTrial{done, user_data});
        return OPSUP_OK;
      };
#endif
#if OPSUP_ABI_MINOR >= 6
      t.update_collector_executable = [](opsup_host *h, const char *package_path,
                                         uint64_t health_timeout_ms, opsup_update_done done,
                                         void *user_data) -> opsup_status {
        FakeHost &host = self(h);
        if ((host.descriptor_.capabilities & OPSUP_CAP_ACCEPTS_PACKAGES) == 0)
          return host.refuse(
              "update_collector_executable: only the module owning AcceptsPackages may call it");
        if (done == nullptr)
          return host.refuse("update_collector_executable: done is NULL");
        if (package_path == nullptr || package_path[0] == '\0')
          return host.refuse("update_collector_executable: no package path");
        if (!host.collector_available_)
          return OPSUP_ERR_UNSUPPORTED;
        if (host.stopped_)
          return OPSUP_ERR_FAILED;
        if (!host.pending_updates_.empty())
          return OPSUP_ERR_UNSUPPORTED;
        host.collector_updates_.push_back(CollectorUpdate{package_path, health_timeout_ms});
        host.pending_updates_.push_back(PendingUpdate{done, user_data});
        return OPSUP_OK;
      };
      t.collector_update_recovery = [](opsup_host *h,
                                       opsup_collector_update_recovery *recovery) -> opsup_status {
        FakeHost &host = self(h);
        if (recovery == nullptr ||
            recovery->struct_size < offsetof(opsup_collector_update_recovery, message))
          return host.refuse("collector_update_recovery: no or too small struct");
        if (!host.collector_available_)
          return OPSUP_ERR_UNSUPPORTED;
        opsup_collector_update_recovery filled{};
        filled.struct_size = static_cast<uint32_t>(
            std::min<size_t>(recovery->struct_size, sizeof(opsup_collector_update_recovery)));
        filled.outcome = host.update_recovery_outcome_;
        filled.message = host.update_recovery_message_.c_str();
        std::memcpy(recovery, &filled, filled.struct_size);
        return OPSUP_OK;
      };
#endif
      return t;
    }();
    return table;
  }

#if OPSUP_ABI_MINOR >= 3
  struct PendingChange {
    size_t index = 0;  // into config_changes_
    opsup_config_done done = nullptr;
    void *user_data = nullptr;
  };
  struct ValidateAnswer {
    bool valid = true;
    int32_t exit_code = 0;
    std::string message;
  };

  static bool valid_name(const char *name) {
    if (name == nullptr || name[0] == '\0')
      return false;
    for (const char *c = name; *c != '\0'; ++c) {
      const bool ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                      (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-';
      if (!ok)
        return false;
    }
    return true;
  }
#if OPSUP_ABI_MINOR >= 4
  static bool package_name_ok(const char *name) {
    return valid_name(name) && std::string_view(name) != "." && std::string_view(name) != "..";
  }
#endif
  opsup_status refuse(const std::string &problem) {
    record_log(OPSUP_LOG_ERROR, problem);
    return OPSUP_ERR_INVALID_ARGUMENT;
  }
  void queue_change(ConfigChange change, opsup_config_done done, void *user_data) {
    config_changes_.push_back(std::move(change));
    pending_changes_.push_back(PendingChange{config_changes_.size() - 1, done, user_data});
  }
  // Logs and returns false for a bad key or last_remote_config_status without its owner.
  bool state_key_allowed(const char *key, const char *service) {
    if (!valid_name(key)) {
      refuse(std::string(service) + ": bad state key");
      return false;
    }
    constexpr uint64_t kOwners = OPSUP_CAP_ACCEPTS_REMOTE_CONFIG | OPSUP_CAP_REPORTS_REMOTE_CONFIG;
    if (std::string_view(key) == "last_remote_config_status" &&
        (descriptor_.capabilities & kOwners) == 0) {
      refuse(std::string(service) +
             ": state key last_remote_config_status belongs to the module owning "
             "AcceptsRemoteConfig or ReportsRemoteConfig");
      return false;
    }
    return true;
  }
  std::string instance_id_text() const {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string text;
    for (size_t i = 0; i < instance_uid_.size(); ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10)
        text += '-';
      text += kHex[instance_uid_[i] >> 4];
      text += kHex[instance_uid_[i] & 0xf];
    }
    return text;
  }
#endif

#if OPSUP_ABI_MINOR >= 2
  std::string setting_name(const char *key) const {
    return std::string("plugins.") + (descriptor_.id ? descriptor_.id : "?") + "." +
           (key ? key : "");
  }
  opsup_status wrong_setting(const char *key, const std::string &problem,
                             opsup_error_buffer error) const {
    const std::string text = setting_name(key) + ": " + problem;
    if (error.data != nullptr && error.capacity > 0) {
      const size_t length = std::min(text.size(), error.capacity - 1);
      std::memcpy(error.data, text.data(), length);
      error.data[length] = '\0';
    }
    return OPSUP_ERR_INVALID_ARGUMENT;
  }
  opsup_status find_setting(const char *key, bool has_out, opsup_error_buffer error,
                            const std::string *&text) const {
    if (key == nullptr || !has_out)
      return wrong_setting(key, "the key and the output must not be NULL", error);
    if (setting_lists_.count(key))
      return wrong_setting(key, "must be a single value, not a list", error);
    const auto it = settings_.find(key);
    if (it == settings_.end())
      return OPSUP_ERR_NOT_FOUND;
    text = &it->second;
    return OPSUP_OK;
  }
  // Integer durations with units ("1m30s", "250ms"); nullopt when not one.
  static std::optional<uint64_t> duration_ms(std::string_view text) {
    if (text == "0")
      return 0;
    static constexpr std::pair<std::string_view, double> kUnits[] = {
        {"ns", 1e-6}, {"us", 1e-3}, {"ms", 1}, {"s", 1e3}, {"m", 6e4}, {"h", 3.6e6}};
    double total = 0;
    size_t pos = 0;
    if (text.empty())
      return std::nullopt;
    while (pos < text.size()) {
      size_t digits = pos;
      while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
        ++digits;
      if (digits == pos)
        return std::nullopt;
      const double number = std::stod(std::string(text.substr(pos, digits - pos)));
      size_t unit_end = digits;
      while (unit_end < text.size() && (text[unit_end] < '0' || text[unit_end] > '9'))
        ++unit_end;
      const std::string_view unit = text.substr(digits, unit_end - digits);
      bool known = false;
      for (const auto &[name, factor] : kUnits) {
        if (unit == name) {
          total += number * factor;
          known = true;
        }
      }
      if (!known)
        return std::nullopt;
      pos = unit_end;
    }
    return static_cast<uint64_t>(total);
  }
#endif

#if OPSUP_ABI_MINOR >= 5
  struct PendingTrial {
    opsup_connection_done done = nullptr;
    void *user_data = nullptr;
  };
  std::vector<ConnectionTrial> connection_trials_;
  std::deque<PendingTrial> pending_trials_;
  bool connection_available_ = true;
#endif
#if OPSUP_ABI_MINOR >= 6
  struct PendingUpdate {
    opsup_update_done done = nullptr;
    void *user_data = nullptr;
  };
  std::vector<CollectorUpdate> collector_updates_;
  std::deque<PendingUpdate> pending_updates_;
  int32_t update_recovery_outcome_ = OPSUP_UPDATE_NONE;
  std::string update_recovery_message_;
#endif

  opsup_host_info info_{};
  opsup_module_descriptor descriptor_{};
  opsup_module_hooks hooks_{};
  std::set<uint32_t> owned_fields_;
  opsup_module *module_ = nullptr;
  bool created_ = false;
  bool stopped_ = false;
  std::string last_error_;

  std::array<uint8_t, 16> instance_uid_{};
  uint64_t server_capabilities_ = 0;
  std::map<std::string, std::string> storage_;
  std::string own_settings_yaml_;
  std::map<std::string, std::string> settings_;
  struct SettingList {
    std::vector<std::string> items;
    std::vector<const char *> pointers;
  };
  std::map<std::string, SettingList> setting_lists_;
  std::vector<CustomMessage> custom_messages_;
  std::vector<std::string> agent_fields_;
  std::vector<Rejection> rejected_;
#if OPSUP_ABI_MINOR >= 3
  ScriptedCollectorState collector_state_;
  std::string collector_last_error_;  // what collector_state handed out last
  bool collector_available_ = true;
  std::optional<std::string> composed_config_;
  ValidateAnswer validate_answer_;
  bool state_available_ = true;
  std::map<std::string, std::string> persistent_state_;
  std::vector<ConfigChange> config_changes_;
  std::deque<PendingChange> pending_changes_;
  std::map<std::string, std::string> config_layers_;
  std::optional<std::vector<RemoteFile>> remote_config_;
  size_t restart_requests_ = 0;
  std::vector<std::string> validated_configs_;
#endif

  // Virtual clock and timers, keyed by (due time, id): loop thread only.
  uint64_t now_ms_ = 0;
  uint64_t last_timer_id_ = 0;
  std::vector<std::string> runtime_custom_capabilities_;  // ABI 1.3
  std::vector<std::string> sent_to_collector_;            // ABI 1.3
#if OPSUP_ABI_MINOR >= 4
  std::vector<Download> downloads_;
  uint64_t last_download_id_ = 0;
  std::set<std::string> package_files_;
  std::vector<std::string> removed_packages_;
#endif
  bool collector_connected_ = true;
  std::map<std::pair<uint64_t, uint64_t>, std::function<void()>> timers_;

  // Shared with worker threads and posting threads.
  mutable std::mutex mutex_;
  std::condition_variable work_done_;
  std::deque<std::function<void()>> ready_;
  std::vector<LogLine> logs_;
  std::vector<std::thread> workers_;
  size_t outstanding_work_ = 0;
  bool accepting_ = true;  // false once stopped: callbacks are dropped
};

}  // namespace opsup::testing
