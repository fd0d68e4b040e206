// Internal to opsup_modules (includes Asio): the host's state for one loaded module and
// what every module's host services share. Included only by this folder's .cpp files.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "modules/collector_access.hpp"
#include "modules/module_loader.hpp"
#include "modules/package_download.hpp"
#include "modules/supervisor_context.hpp"
#include "opsup/module.h"

namespace opsup::modules::detail {

// Counts one module's run_blocking work still running on the pool. Shared with the
// work items so it outlives the slot if it must.
struct WorkTracker {
  std::mutex mutex;
  std::condition_variable idle;
  size_t running = 0;
};

// What the host services of every module share.
struct HostCore {
  HostCore(boost::asio::io_context &io_context, SupervisorContext &supervisor)
      : io(io_context), context(supervisor) {}
  boost::asio::io_context &io;
  SupervisorContext &context;
  boost::asio::thread_pool *pool = nullptr;
  uint64_t last_timer_id = 0;     // loop thread only
  uint64_t last_download_id = 0;  // loop thread only
  // Serves the Collector services (ABI minor 3); nullptr: they answer UNSUPPORTED.
  CollectorAccess *collector = nullptr;
  // Every module's slot, for checks across modules (run-time custom capabilities).
  const std::vector<std::unique_ptr<struct ModuleSlot>> *slots = nullptr;
};

struct ModuleSlot {
  HostCore *core = nullptr;
  ModuleCandidate candidate;
  // The descriptor's custom capabilities; candidate.info.custom_capabilities is this plus
  // what the module set at run time (set_custom_capabilities, ABI minor 3).
  std::vector<std::string> descriptor_custom_capabilities;
  std::vector<uint32_t> owned_agent_fields;  // sorted AgentToServer field numbers
  opsup_module *instance = nullptr;          // what create returned
  bool has_instance = false;                 // create succeeded; destroy is due
  // plugins.<id> as YAML ("" when absent): own_settings_yaml hands out its c_str(), so it
  // is set before create and not changed while an instance may hold the pointer.
  std::string own_settings_yaml;
  // What setting_string and setting_list handed out, by key: the host keeps them until the
  // module is destroyed (the section never changes, so a key's value is stored once).
  std::map<std::string, std::string> setting_strings;
  struct SettingList {
    std::vector<std::string> items;
    std::vector<const char *> pointers;
  };
  std::map<std::string, SettingList> setting_lists;
  // What collector_state last handed out as last_error: valid until its next call.
  std::string collector_last_error;
  // What collector_update_recovery last handed out as message: valid until its next call.
  std::string update_recovery_message;
  // Cleared once the module is stopped: posts, timers and done callbacks queued for it
  // are then dropped. Shared with queued handlers so they never touch a dead slot.
  std::shared_ptr<std::atomic<bool>> accepting = std::make_shared<std::atomic<bool>>(true);
  std::map<uint64_t, std::unique_ptr<boost::asio::steady_timer>> timers;  // loop thread
  std::map<uint64_t, std::unique_ptr<PackageDownload>> downloads;         // loop thread
  std::shared_ptr<WorkTracker> work = std::make_shared<WorkTracker>();
};

// The handle a module receives is its slot.
inline opsup_host *handle_of(ModuleSlot &slot) {
  return reinterpret_cast<opsup_host *>(&slot);
}
inline ModuleSlot &slot_of(opsup_host *host) {
  return *reinterpret_cast<ModuleSlot *>(host);
}

// The services table given to every module (one for the process).
const opsup_host_api &host_api_table();

// Cancels and forgets the slot's pending timers and downloads.
void cancel_timers(ModuleSlot &slot);

}  // namespace opsup::modules::detail
