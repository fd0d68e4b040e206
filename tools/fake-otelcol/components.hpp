// The fixed set of component factories this stand-in "is built with", its build info, and
// the `components` command output and available-components hash of the opamp extension.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace opsup::fakeotelcol {

inline constexpr const char *kBuildCommand = "fake-otelcol";
inline constexpr const char *kBuildDescription =
    "OpenTelemetry Collector stand-in for opamp-supervisor tests";
inline constexpr const char *kBuildVersion = "0.130.0";

enum class ComponentKind { kReceiver, kProcessor, kExporter, kExtension, kConnector };

struct ComponentFactory {
  ComponentKind kind;
  std::string type;
  std::string module;  // Go module reference, e.g. "go.opentelemetry.io/.../otlpreceiver v0.130.0"
  std::map<std::string, std::string> stability;  // signal (or "extension") -> level
};

const std::vector<ComponentFactory> &component_factories();
std::vector<std::string> component_types(ComponentKind kind);  // sorted
bool is_known_component(ComponentKind kind, const std::string &type);

// "receiver", "processor", ... and their config sections "receivers", "processors", ...
std::string kind_name(ComponentKind kind);
std::string kind_section(ComponentKind kind);

// YAML like `otelcol components`.
std::string describe_components();
// SHA-256 over "receiver:a=ref;b=ref;processor:...", the opamp extension's hash.
std::string available_components_hash();

}  // namespace opsup::fakeotelcol
