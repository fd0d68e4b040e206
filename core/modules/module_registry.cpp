#include "modules/module_registry.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstring>
#include <map>

#include "modules/field_ownership.hpp"
#include "modules/message_routing.hpp"
#include "modules/module_settings.hpp"
#include "modules/module_slot.hpp"
#include "modules/opamp_names.hpp"
#include "opsup/opamp_constants.h"

namespace opsup::modules {
namespace {

constexpr size_t kWorkerThreads = 2;
constexpr size_t kErrorTextCapacity = 1024;
// How long stop() waits for a module's run_blocking work before giving up on it.
constexpr std::chrono::seconds kBlockingWorkGrace{30};

bool active(ModuleState state) {
  return state == ModuleState::kLoaded || state == ModuleState::kCreated ||
         state == ModuleState::kStarted;
}

ModuleListing listing_of(const ModuleCandidate &candidate) {
  ModuleListing entry;
  entry.path = candidate.path;
  entry.id = candidate.info.id;
  entry.version = candidate.info.version;
  entry.description = candidate.info.description;
  entry.abi_minor = candidate.info.abi_minor;
  entry.capabilities = candidate.info.capabilities;
  entry.custom_capabilities = candidate.info.custom_capabilities;
  entry.state = candidate.state;
  entry.reason = candidate.reason;
  return entry;
}

opsup_host_info make_host_info(const std::string &host_version) {
  opsup_host_info info{};
  info.struct_size = sizeof info;
  info.abi_major = OPSUP_ABI_MAJOR;
  info.abi_minor_min = 0;
  info.abi_minor_max = OPSUP_HEADER_ABI_MINOR;
  info.host_version = host_version.c_str();
  info.api = &detail::host_api_table();
  return info;
}

}  // namespace

struct ModuleRegistry::Impl {
  Impl(boost::asio::io_context &io, SupervisorContext &context, ModulesConfig modules_config)
      : core(io, context), config(std::move(modules_config)) {
    host_info = make_host_info(config.host_version);
    core.slots = &slots;
  }

  ModuleFailure fail(detail::ModuleSlot &slot, ModuleState state, const char *hook,
                     opsup_status status, const char *error_text) {
    ModuleCandidate &candidate = slot.candidate;
    candidate.state = state;
    candidate.reason = std::string(hook) + " failed (status " + std::to_string(status) +
                       "): " + (error_text[0] != '\0' ? error_text : "no reason given");
    // A rejected setting (create returning OPSUP_ERR_INVALID_ARGUMENT) is a config error:
    // the caller reports it with the config file and line and does not start, so saying
    // "continuing" here would contradict it.
    if (!(state == ModuleState::kCreateFailed && status == OPSUP_ERR_INVALID_ARGUMENT)) {
      spdlog::error("module {} ({}) {}; continuing without it", candidate.info.id,
                    candidate.path.string(), candidate.reason);
    }
    return ModuleFailure{candidate.info.id, candidate.path, status, error_text};
  }

  // Stops one module (when started) and destroys its instance.
  void shut_down(detail::ModuleSlot &slot) {
    ModuleCandidate &candidate = slot.candidate;
    if (candidate.state == ModuleState::kStarted && candidate.hooks.stop != nullptr) {
      candidate.hooks.stop(slot.instance);
    }
    slot.accepting->store(false);
    detail::cancel_timers(slot);
    bool idle;
    {
      std::unique_lock lock(slot.work->mutex);
      idle = slot.work->idle.wait_for(lock, kBlockingWorkGrace,
                                      [&] { return slot.work->running == 0; });
    }
    if (!idle) {
      // Destroying or unloading under running work would crash; leak the module instead.
      spdlog::error("module {} ({}): run_blocking work still running after {} s; not destroying it",
                    candidate.info.id, candidate.path.string(), kBlockingWorkGrace.count());
      leaked_work = true;
      new std::shared_ptr<boost::dll::shared_library>(candidate.library);  // never unloaded
    } else if (slot.has_instance && candidate.hooks.destroy != nullptr) {
      candidate.hooks.destroy(slot.instance);
    }
    slot.has_instance = false;
    slot.instance = nullptr;
    if (candidate.state == ModuleState::kStarted || candidate.state == ModuleState::kCreated) {
      candidate.state = ModuleState::kStopped;
    }
  }

  std::vector<detail::ModuleSlot *> started() {
    std::vector<detail::ModuleSlot *> result;
    for (auto &slot : slots) {
      if (slot->candidate.state == ModuleState::kStarted)
        result.push_back(slot.get());
    }
    return result;
  }

  std::vector<RoutingTarget> routing_targets(const std::vector<detail::ModuleSlot *> &modules,
                                             bool server_side) {
    std::vector<RoutingTarget> targets;
    for (const detail::ModuleSlot *slot : modules) {
      const ModuleInfo &info = slot->candidate.info;
      targets.push_back(
          RoutingTarget{info.capabilities,
                        server_side ? &info.server_to_agent_fields : &info.agent_to_server_fields,
                        &info.custom_capabilities});
    }
    return targets;
  }

  detail::HostCore core;
  ModulesConfig config;
  opsup_host_info host_info{};
  std::unique_ptr<boost::asio::thread_pool> pool;
  std::vector<std::unique_ptr<detail::ModuleSlot>> slots;
  bool loaded = false;
  bool stopped = false;
  bool leaked_work = false;
};

ModuleRegistry::ModuleRegistry(boost::asio::io_context &io, SupervisorContext &context,
                               ModulesConfig config)
    : impl_(std::make_unique<Impl>(io, context, std::move(config))) {}

ModuleRegistry::~ModuleRegistry() {
  stop();
  if (impl_->pool) {
    if (impl_->leaked_work) {
      // A worker is stuck in module code: joining would hang shutdown.
      impl_->pool.release();
    } else {
      impl_->pool->join();
    }
  }
  for (auto &slot : impl_->slots)
    detail::cancel_timers(*slot);
  impl_->slots.clear();  // unloads the libraries
}

void ModuleRegistry::load() {
  if (impl_->loaded)
    return;
  impl_->loaded = true;
  LoaderOptions options{impl_->config.directory, impl_->config.disabled_ids};
  std::vector<ModuleCandidate> candidates = load_modules(options, impl_->host_info);
  for (ModuleCandidate &candidate : candidates) {
    auto slot = std::make_unique<detail::ModuleSlot>();
    slot->core = &impl_->core;
    slot->owned_agent_fields = owned_agent_to_server_fields(
        candidate.info.capabilities, !candidate.info.custom_capabilities.empty());
    slot->descriptor_custom_capabilities = candidate.info.custom_capabilities;
    slot->candidate = std::move(candidate);
    impl_->slots.push_back(std::move(slot));
  }
  const bool any_loaded = std::any_of(impl_->slots.begin(), impl_->slots.end(), [](auto &slot) {
    return slot->candidate.state == ModuleState::kLoaded;
  });
  if (any_loaded) {
    impl_->pool = std::make_unique<boost::asio::thread_pool>(kWorkerThreads);
    impl_->core.pool = impl_->pool.get();
  }
}

std::vector<ModuleFailure> ModuleRegistry::create(
    const std::string &redacted_supervisor_config_yaml) {
  std::vector<ModuleFailure> failures;
  const std::map<std::string, std::string> sections =
      module_settings_sections(redacted_supervisor_config_yaml);
  for (auto &slot : impl_->slots) {
    ModuleCandidate &candidate = slot->candidate;
    if (candidate.state != ModuleState::kLoaded)
      continue;
    if (const auto section = sections.find(candidate.info.id); section != sections.end()) {
      slot->own_settings_yaml = section->second;
    }
    if (candidate.hooks.create == nullptr) {
      candidate.state = ModuleState::kCreated;  // a module without an instance
      continue;
    }
    char error[kErrorTextCapacity] = "";
    opsup_module *instance = nullptr;
    const opsup_status status =
        candidate.hooks.create(detail::handle_of(*slot), redacted_supervisor_config_yaml.c_str(),
                               &instance, opsup_error_buffer{error, sizeof error});
    error[sizeof error - 1] = '\0';
    if (status != OPSUP_OK) {
      slot->accepting->store(false);
      detail::cancel_timers(*slot);
      failures.push_back(impl_->fail(*slot, ModuleState::kCreateFailed, "create", status, error));
      continue;
    }
    slot->instance = instance;
    slot->has_instance = true;
    candidate.state = ModuleState::kCreated;
  }
  return failures;
}

std::vector<ModuleFailure> ModuleRegistry::start() {
  std::vector<ModuleFailure> failures;
  static constexpr uint32_t kCustomCapabilitiesField[] = {OPSUP_A2S_CUSTOM_CAPABILITIES};
  for (auto &slot : impl_->slots) {
    ModuleCandidate &candidate = slot->candidate;
    if (candidate.state != ModuleState::kCreated)
      continue;
    // The descriptor's custom capabilities are advertised from now on, whatever the module
    // sends: a module never has to send or repeat them. Its messages are routed from now on.
    const bool custom = !candidate.info.custom_capabilities.empty();
    if (custom) {
      impl_->core.context.set_agent_fields(
          candidate.info.id, kCustomCapabilitiesField,
          encode_custom_capabilities(candidate.info.custom_capabilities));
    }
    if (candidate.hooks.start != nullptr) {
      char error[kErrorTextCapacity] = "";
      const opsup_status status =
          candidate.hooks.start(slot->instance, opsup_error_buffer{error, sizeof error});
      error[sizeof error - 1] = '\0';
      if (status != OPSUP_OK) {
        // Inactive from now on: only destroy follows, and its capabilities are withdrawn.
        slot->accepting->store(false);
        detail::cancel_timers(*slot);
        if (custom)
          impl_->core.context.set_agent_fields(candidate.info.id, kCustomCapabilitiesField, "");
        failures.push_back(impl_->fail(*slot, ModuleState::kStartFailed, "start", status, error));
        continue;
      }
    }
    candidate.state = ModuleState::kStarted;
    spdlog::info("module {} started", candidate.info.id);
  }
  return failures;
}

void ModuleRegistry::stop() {
  if (impl_->stopped)
    return;
  impl_->stopped = true;
  for (auto it = impl_->slots.rbegin(); it != impl_->slots.rend(); ++it) {
    if ((*it)->has_instance || (*it)->candidate.state == ModuleState::kStarted ||
        (*it)->candidate.state == ModuleState::kCreated) {
      impl_->shut_down(**it);
    }
    (*it)->accepting->store(false);
  }
}

void ModuleRegistry::set_collector_access(CollectorAccess *access) {
  impl_->core.collector = access;
}

uint64_t ModuleRegistry::capabilities() const {
  uint64_t bits = 0;
  for (const auto &slot : impl_->slots) {
    if (active(slot->candidate.state))
      bits |= slot->candidate.info.capabilities;
  }
  return bits;
}

std::vector<std::string> ModuleRegistry::custom_capabilities() const {
  std::vector<std::string> names;
  for (const auto &slot : impl_->slots) {
    if (!active(slot->candidate.state))
      continue;
    const auto &own = slot->candidate.info.custom_capabilities;
    names.insert(names.end(), own.begin(), own.end());
  }
  return names;
}

std::optional<std::string> ModuleRegistry::capability_owner(uint64_t bit) const {
  for (const auto &slot : impl_->slots) {
    if (active(slot->candidate.state) && (slot->candidate.info.capabilities & bit) != 0) {
      return slot->candidate.info.id;
    }
  }
  return std::nullopt;
}

std::vector<std::string> ModuleRegistry::route_server_message(std::string_view server_to_agent,
                                                              uint64_t advertised_capabilities) {
  const std::vector<detail::ModuleSlot *> modules = impl_->started();
  const auto routing = route_server_to_agent(server_to_agent, advertised_capabilities,
                                             impl_->routing_targets(modules, true));
  if (!routing) {
    spdlog::warn("ServerToAgent of {} bytes is malformed; not delivered to modules",
                 server_to_agent.size());
    return {};
  }
  for (const auto &[index, field] : routing->withheld) {
    spdlog::debug(
        "ServerToAgent field {} not delivered to module {}: its capability is not "
        "advertised",
        server_to_agent_field_name(field), modules[index]->candidate.info.id);
  }
  std::vector<std::string> delivered;
  if (!routing->recipients.empty()) {
    const std::optional<std::string> stripped =
        without_unadvertised_fields(server_to_agent, advertised_capabilities);
    const std::string_view view = stripped ? std::string_view(*stripped) : server_to_agent;
    const opsup_bytes bytes{reinterpret_cast<const uint8_t *>(view.data()), view.size()};
    for (size_t index : routing->recipients) {
      detail::ModuleSlot &slot = *modules[index];
      delivered.push_back(slot.candidate.info.id);
      if (slot.candidate.hooks.on_server_message != nullptr) {
        slot.candidate.hooks.on_server_message(slot.instance, bytes);
      }
    }
  }
  // The decoded custom message, to the started module declaring its capability (ABI 1.2).
  if (const auto custom = decoded_custom_message(server_to_agent)) {
    const std::string capability(custom->capability);
    const std::string type(custom->type);
    const opsup_bytes data{reinterpret_cast<const uint8_t *>(custom->data.data()),
                           custom->data.size()};
    for (detail::ModuleSlot *slot : modules) {
      const auto hook = slot->candidate.hooks.on_custom_message;
      const auto &declared = slot->candidate.info.custom_capabilities;
      if (hook == nullptr ||
          std::find(declared.begin(), declared.end(), capability) == declared.end()) {
        continue;
      }
      if (std::find(delivered.begin(), delivered.end(), slot->candidate.info.id) ==
          delivered.end()) {
        delivered.push_back(slot->candidate.info.id);
      }
      hook(slot->instance, capability.c_str(), type.c_str(), data);
    }
  }
  return delivered;
}

std::vector<std::string> ModuleRegistry::route_collector_message(std::string_view agent_to_server) {
  const std::vector<detail::ModuleSlot *> modules = impl_->started();
  const auto recipients =
      route_agent_to_server(agent_to_server, impl_->routing_targets(modules, false));
  if (!recipients) {
    spdlog::warn(
        "AgentToServer of {} bytes from the Collector is malformed; not delivered to "
        "modules",
        agent_to_server.size());
    return {};
  }
  std::vector<std::string> delivered;
  const opsup_bytes bytes{reinterpret_cast<const uint8_t *>(agent_to_server.data()),
                          agent_to_server.size()};
  for (size_t index : *recipients) {
    detail::ModuleSlot &slot = *modules[index];
    delivered.push_back(slot.candidate.info.id);
    if (slot.candidate.hooks.on_collector_message != nullptr) {
      slot.candidate.hooks.on_collector_message(slot.instance, bytes);
    }
  }
  return delivered;
}

void ModuleRegistry::publish_event(const opsup_event &event) {
  opsup_event copy{};
  std::memcpy(&copy, &event,
              std::min<size_t>(event.struct_size ? event.struct_size : sizeof copy, sizeof copy));
  copy.struct_size = sizeof copy;
  if (copy.message == nullptr)
    copy.message = "";
  for (detail::ModuleSlot *slot : impl_->started()) {
    if (slot->candidate.hooks.on_event != nullptr) {
      slot->candidate.hooks.on_event(slot->instance, &copy);
    }
  }
}

ModuleRegistry::ConfigRewrite ModuleRegistry::rewrite_collector_config(
    std::string_view config_yaml) {
  ConfigRewrite result{std::string(config_yaml), {}, std::nullopt};
  for (detail::ModuleSlot *slot : impl_->started()) {
    const auto rewrite = slot->candidate.hooks.rewrite_collector_config;
    if (rewrite == nullptr)
      continue;
    char report[kErrorTextCapacity] = "";
    std::optional<std::string> rewritten;
    const opsup_bytes_sink take = [](void *user_data, opsup_bytes bytes) {
      auto &out = *static_cast<std::optional<std::string> *>(user_data);
      out.emplace(reinterpret_cast<const char *>(bytes.data), bytes.data ? bytes.size : 0);
    };
    const opsup_status status = rewrite(slot->instance, result.config.c_str(), take, &rewritten,
                                        opsup_error_buffer{report, sizeof report});
    report[sizeof report - 1] = '\0';
    const std::string &id = slot->candidate.info.id;
    if (status != OPSUP_OK) {
      std::string text = report[0] != '\0' ? report : "no reason given";
      if (status != OPSUP_ERR_VETO)
        text = "rewriting failed (status " + std::to_string(status) + "): " + text;
      result.veto = ModuleVeto{id, std::move(text)};
      return result;
    }
    if (!rewritten)
      continue;
    result.config = std::move(*rewritten);
    std::string lines = report;
    for (std::size_t start = 0; start < lines.size();) {
      std::size_t end = lines.find('\n', start);
      if (end == std::string::npos)
        end = lines.size();
      if (end > start)
        result.notes.push_back("module " + id + ": " + lines.substr(start, end - start));
      start = end + 1;
    }
    if (result.notes.empty() || result.notes.back().rfind("module " + id + ":", 0) != 0)
      result.notes.push_back("module " + id + ": rewrote the config");
  }
  return result;
}

std::vector<ModuleVeto> ModuleRegistry::validate_collector_config(std::string_view config_yaml) {
  const std::string yaml(config_yaml);
  std::vector<ModuleVeto> vetoes;
  for (detail::ModuleSlot *slot : impl_->started()) {
    const auto validate = slot->candidate.hooks.validate_collector_config;
    if (validate == nullptr)
      continue;
    char reason[kErrorTextCapacity] = "";
    const opsup_status status =
        validate(slot->instance, yaml.c_str(), opsup_error_buffer{reason, sizeof reason});
    reason[sizeof reason - 1] = '\0';
    if (status == OPSUP_OK)
      continue;
    std::string text = reason[0] != '\0' ? reason : "no reason given";
    if (status != OPSUP_ERR_VETO) {
      text = "validation failed (status " + std::to_string(status) + "): " + text;
    }
    vetoes.push_back(ModuleVeto{slot->candidate.info.id, std::move(text)});
  }
  return vetoes;
}

std::vector<ModuleListing> ModuleRegistry::listing() const {
  std::vector<ModuleListing> entries;
  for (const auto &slot : impl_->slots)
    entries.push_back(listing_of(slot->candidate));
  return entries;
}

std::vector<ModuleListing> inspect_modules(const std::filesystem::path &directory,
                                           const std::vector<std::string> &disabled_ids) {
  const std::string host_version = "inspect";
  const opsup_host_info host_info = make_host_info(host_version);
  std::vector<ModuleListing> entries;
  for (const ModuleCandidate &candidate :
       load_modules(LoaderOptions{directory, disabled_ids}, host_info)) {
    entries.push_back(listing_of(candidate));
  }
  return entries;
}

}  // namespace opsup::modules
