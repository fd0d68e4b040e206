// A SupervisorContext for commands that create modules without a server connection
// (`validate`): modules can read their config and call services, nothing is sent.
#pragma once

#include "modules/supervisor_context.hpp"

namespace opsup::app {

class OfflineContext final : public modules::SupervisorContext {
 public:
  explicit OfflineContext(std::filesystem::path storage_directory)
      : storage_directory_(std::move(storage_directory)) {}
  modules::InstanceUid instance_uid() const override { return {}; }
  uint64_t server_capabilities() const override { return 0; }
  std::filesystem::path storage_directory() const override { return storage_directory_; }
  void set_agent_fields(std::string_view, std::span<const uint32_t>, std::string_view) override {}

 private:
  std::filesystem::path storage_directory_;
};

}  // namespace opsup::app
