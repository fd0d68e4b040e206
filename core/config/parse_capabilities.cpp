// `capabilities:` and `storage:`.
#include "config/capabilities.hpp"
#include "config/internal/sections.hpp"

namespace opsup::config::internal {

void parse_capabilities(MapReader section, CapabilitiesConfig &capabilities) {
  for (const auto &key : capability_keys()) {
    CapabilitySetting &setting = capabilities.*key.member;
    bool value = setting.enabled;
    if (section.read_bool(key.key, value))
      setting = CapabilitySetting{value, true};
  }
  if (section.has("reports_remote_config")) {
    section.sink().warning(section.line_of_key("reports_remote_config"),
                           section.key_path("reports_remote_config"),
                           "is deprecated and has no effect: accepts_remote_config advertises "
                           "ReportsRemoteConfig too (as the Go supervisor now does)");
  }
  section.finish();
}

void parse_storage(MapReader section, StorageConfig &storage) {
  std::string directory;
  if (section.read_string("directory", directory)) {
    if (directory.empty()) {
      section.error("directory", "must not be empty");
    } else {
      storage.directory = directory;
    }
  }
  section.finish();
}

}  // namespace opsup::config::internal
