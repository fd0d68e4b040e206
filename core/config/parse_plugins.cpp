// `plugins:` — where modules come from, which are disabled, and each module's own section.
#include <cctype>

#include "config/internal/sections.hpp"

namespace opsup::config::internal {
namespace {

// Built-in ids ("remote_config") and reverse-DNS ids ("com.example.inventory").
bool valid_module_id(std::string_view id) {
  if (id.empty() || !std::isalnum(static_cast<unsigned char>(id.front())))
    return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

constexpr const char *kModuleIdRule =
    "is not a valid module id (letters, digits, '_', '.', '-', starting with a letter or digit)";

}  // namespace

void parse_plugins(MapReader section, PluginsConfig &plugins) {
  section.read_path("directory", plugins.directory);
  if (auto disable = section.take("disable")) {
    if (auto ids =
            read_scalar_list(disable->value, disable->path, disable->value_line, section.sink())) {
      for (std::size_t i = 0; i < ids->size(); ++i) {
        if (!valid_module_id((*ids)[i])) {
          const int item_line = disable->value.IsSequence() && line_of_node(disable->value[i]) > 0
                                    ? line_of_node(disable->value[i])
                                    : disable->value_line;
          section.sink().error(item_line, index_path(disable->path, i),
                               quote_for_message((*ids)[i]) + " " + kModuleIdRule);
        }
      }
      plugins.disable = std::move(*ids);
    }
  }
  for (const auto &entry : section.entries()) {
    if (entry.key == "directory" || entry.key == "disable")
      continue;
    section.accept(entry.key);
    if (!valid_module_id(entry.key)) {
      section.sink().error(entry.key_line, entry.path,
                           quote_for_message(entry.key) + " " + kModuleIdRule);
      continue;
    }
    plugins.module_sections[entry.key] = entry.value;
  }
  section.finish();
}

}  // namespace opsup::config::internal
