#include "config/config_loader.hpp"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/env_expansion.hpp"
#include "config/internal/diagnostic_sink.hpp"
#include "config/internal/map_reader.hpp"
#include "config/internal/sections.hpp"

namespace opsup::config {
namespace {

using internal::DiagnosticSink;
using internal::MapReader;

// Rules that look at more than one section.
void check_extensions(const SupervisorConfig &config, MapReader &root, const LoadOptions &options,
                      DiagnosticSink &sink) {
  if (!config.extensions.empty() && !options.feature_gates.contains(kExtensionsFeatureGate)) {
    sink.error(root.line_of_key("extensions"), "extensions",
               std::string("extensions are configured but the \"") + kExtensionsFeatureGate +
                   "\" feature gate is not enabled; enable it with --feature-gates=" +
                   kExtensionsFeatureGate);
  }
  const std::string &auth = config.server.auth;
  if (!auth.empty() && config.find_extension(auth) == nullptr) {
    // An entry that is written but invalid has its own error already.
    bool declared = false;
    const YAML::Node extensions = internal::child(config.document.node(), "extensions");
    if (extensions.IsMap()) {
      for (auto it = extensions.begin(); it != extensions.end(); ++it) {
        declared = declared || (it->first.IsScalar() && it->first.Scalar() == auth);
      }
    }
    if (!declared) {
      sink.error(line_of(config.document.node(), "server.auth"), "server.auth",
                 "references \"" + auth + "\", which is not configured under extensions");
    }
  }
}

void sort_by_line(Diagnostics &diagnostics) {
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [](const Diagnostic &a, const Diagnostic &b) { return a.line < b.line; });
}

LoadResult finish(DiagnosticSink &sink, std::optional<SupervisorConfig> config) {
  LoadResult result;
  result.errors = std::move(sink.errors());
  result.warnings = std::move(sink.warnings());
  sort_by_line(result.errors);
  sort_by_line(result.warnings);
  if (result.errors.empty())
    result.config = std::move(config);
  return result;
}

}  // namespace

EnvironmentLookup process_environment() {
  return [](const std::string &name) -> std::optional<std::string> {
    const char *value = std::getenv(name.c_str());
    if (value == nullptr)
      return std::nullopt;
    return std::string(value);
  };
}

namespace {

LoadResult load_text(std::string_view text, const std::string &display_name,
                     const LoadOptions &options, DiagnosticSink &sink) {
  YAML::Node document;
  try {
    document.reset(YAML::Load(std::string(text)));
  } catch (const YAML::Exception &error) {
    sink.error(error.mark.is_null() ? 0 : error.mark.line + 1, "", "invalid YAML: " + error.msg);
    return finish(sink, std::nullopt);
  }
  if (internal::is_null_value(document)) {
    document.reset(YAML::Node(YAML::NodeType::Map));
  } else if (!document.IsMap()) {
    sink.error(internal::line_of_node(document), "",
               "the config must be a YAML mapping (server:, agent:, ...), got " +
                   internal::node_kind(document));
    return finish(sink, std::nullopt);
  }
  const auto lookup = options.lookup_env ? options.lookup_env : process_environment();
  expand_tree(document, lookup, sink);

  SupervisorConfig config;
  config.source_name = display_name;
  config.document = document;
  MapReader root(document, "", 0, sink);
  internal::parse_server(root.section("server"), config.server);
  internal::parse_capabilities(root.section("capabilities"), config.capabilities);
  internal::parse_storage(root.section("storage"), config.storage);
  internal::parse_agent(root.section("agent"), config.agent);
  internal::parse_telemetry(root.section("telemetry"), config.telemetry);
  internal::parse_healthcheck(root.section("healthcheck"), config.healthcheck);
  internal::parse_extensions(root.section("extensions"), config.extensions);
  internal::parse_plugins(root.section("plugins"), config.plugins);
  root.finish();
  check_extensions(config, root, options, sink);

  if (options.installed_module_ids) {
    for (auto &warning : check_module_sections(config, *options.installed_module_ids)) {
      sink.warnings().push_back(std::move(warning));
    }
  }
  return finish(sink, std::move(config));
}

}  // namespace

LoadResult load_supervisor_config_from_string(std::string_view text,
                                              const std::string &display_name,
                                              const LoadOptions &options) {
  DiagnosticSink sink(display_name);
  try {
    return load_text(text, display_name, options, sink);
  } catch (const std::exception &error) {  // a bug here must not take the supervisor down
    sink.error(0, "", std::string("internal error while reading the config: ") + error.what());
    return finish(sink, std::nullopt);
  }
}

LoadResult load_supervisor_config(const std::filesystem::path &path, const LoadOptions &options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult result;
    result.errors.push_back(Diagnostic{
        path.string(), 0, "", std::string("cannot read the config file: ") + std::strerror(errno)});
    return result;
  }
  std::stringstream text;
  text << in.rdbuf();
  return load_supervisor_config_from_string(text.str(), path.string(), options);
}

Diagnostics check_agent_executable(const SupervisorConfig &config) {
  const std::string key = "agent.executable";
  const int line = line_of(config.document.node(), key);
  auto problem = [&](std::string message) {
    return Diagnostics{Diagnostic{config.source_name, line, key, std::move(message)}};
  };
  const auto &executable = config.agent.executable;
  if (executable.empty())
    return problem("must be specified (the path of the Collector executable)");
  std::error_code error;
  const auto status = std::filesystem::status(executable, error);
  std::string quoted = "\"";
  quoted.append(executable.string()).append("\"");
  if (error)
    return problem("could not stat " + quoted + ": " + error.message());
  if (std::filesystem::is_directory(status))
    return problem(quoted + " is a directory");
  if (!std::filesystem::is_regular_file(status))
    return problem(quoted + " is not a regular file");
  if (::access(executable.c_str(), X_OK) != 0) {
    return problem(quoted + " is not executable: " + std::strerror(errno));
  }
  return {};
}

Diagnostics check_module_sections(const SupervisorConfig &config,
                                  const std::vector<std::string> &installed_module_ids,
                                  const std::map<std::string, std::string> &refused_ids,
                                  const std::string &unidentified_refusals) {
  Diagnostics warnings;
  for (const auto &[id, section] : config.plugins.module_sections) {
    if (std::find(installed_module_ids.begin(), installed_module_ids.end(), id) !=
        installed_module_ids.end()) {
      continue;
    }
    const std::string key = "plugins." + id;
    std::string message;
    if (const auto refused = refused_ids.find(id); refused != refused_ids.end()) {
      message =
          "module \"" + id + "\" was refused (" + refused->second + "); this section is ignored";
    } else {
      message = "no installed module has the id \"" + id + "\"";
      if (!unidentified_refusals.empty())
        message += " (" + unidentified_refusals + ")";
      message += "; this section is ignored";
    }
    warnings.push_back(
        Diagnostic{config.source_name, line_of(config.document.node(), key), key, message});
  }
  return warnings;
}

int line_of(const YAML::Node &document, std::string_view dotted_key) {
  YAML::Node node;  // reset(), never operator=: assigning a Node rewrites the tree
  node.reset(document);
  int line = 0;
  std::string_view rest = dotted_key;
  while (!rest.empty()) {
    if (rest.front() == '[') {
      const auto close = rest.find(']');
      if (close == std::string_view::npos || !node.IsSequence())
        break;
      std::size_t index = 0;
      const auto digits = rest.substr(1, close - 1);
      const auto [end, error] =
          std::from_chars(digits.data(), digits.data() + digits.size(), index);
      if (error != std::errc() || end != digits.data() + digits.size() || index >= node.size()) {
        break;
      }
      node.reset(node[index]);
      if (const int item_line = internal::line_of_node(node); item_line > 0)
        line = item_line;
      rest.remove_prefix(close + 1);
      if (rest.starts_with('.'))
        rest.remove_prefix(1);
      continue;
    }
    if (!node.IsMap())
      break;
    // Keys may contain dots (plugins.com.example.x): take the longest key that matches.
    std::size_t best_length = 0;
    YAML::Node best_key;
    YAML::Node best_value;
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar())
        continue;
      const std::string &key = it->first.Scalar();
      if (key.size() <= best_length || !rest.starts_with(key))
        continue;
      if (rest.size() != key.size() && rest[key.size()] != '.' && rest[key.size()] != '[')
        continue;
      best_length = key.size();
      best_key.reset(it->first);
      best_value.reset(it->second);
    }
    if (best_length == 0)
      break;
    line = internal::line_of_node(best_key);
    node.reset(best_value);
    rest.remove_prefix(best_length);
    if (rest.starts_with('.'))
      rest.remove_prefix(1);
  }
  return line;
}

}  // namespace opsup::config
