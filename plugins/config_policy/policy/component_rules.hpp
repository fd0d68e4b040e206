// Allowed and denied component types per kind, aware of the v0.149.0 type aliases.
#pragma once

#include <optional>
#include <string>

#include "settings.hpp"

namespace opsup::config_policy {

// The type part of a component ID: "otlp/in" -> "otlp".
std::string component_type(const std::string &id);

// One name per aliased type: otlp_grpc -> otlp, otlp_http -> otlphttp, file_log -> filelog.
std::string canonical_type(const std::string &type);

// The rule broken by a component of `type` under `kind`'s rules, or nullopt.
std::optional<std::string> check_component_type(const Settings &settings, const std::string &kind,
                                                const std::string &type);

}  // namespace opsup::config_policy
