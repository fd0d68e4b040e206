#include "app/log_settings_mapping.hpp"

namespace opsup::app {

common::LogSettings make_log_settings(const config::LogsConfig &logs) {
  return {.level = logs.level,
          .encoding = common::parse_log_encoding(logs.encoding),
          .output_paths = logs.output_paths,
          .error_output_paths = logs.error_output_paths,
          .rotate_max_bytes = static_cast<std::uint64_t>(logs.rotation.max_megabytes) * 1024 * 1024,
          .rotate_keep_files = logs.rotation.max_backups};
}

}  // namespace opsup::app
