#include "settings.hpp"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>

namespace opsup::remote_config {
namespace {

// Nanoseconds per unit, longest unit names first so "ms" is not read as "m".
struct Unit {
  std::string_view name;
  double nanoseconds;
};
constexpr Unit kUnits[] = {{"ns", 1},  {"us", 1e3}, {"\xC2\xB5s", 1e3}, {"ms", 1e6},
                           {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};

}  // namespace

std::optional<std::chrono::milliseconds> parse_go_duration(std::string_view text) {
  if (text == "0")
    return std::chrono::milliseconds(0);
  if (text.empty() || text.front() == '-')
    return std::nullopt;
  if (text.front() == '+')
    text.remove_prefix(1);
  double total = 0;
  while (!text.empty()) {
    std::size_t digits = 0;
    while (digits < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.'))
      ++digits;
    if (digits == 0)
      return std::nullopt;
    const std::string number(text.substr(0, digits));
    char *end = nullptr;
    const double value = std::strtod(number.c_str(), &end);
    if (end != number.c_str() + number.size())
      return std::nullopt;
    text.remove_prefix(digits);
    const Unit *unit = nullptr;
    for (const auto &candidate : kUnits) {
      if (text.substr(0, candidate.name.size()) == candidate.name &&
          (unit == nullptr || candidate.name.size() > unit->name.size()))
        unit = &candidate;
    }
    if (unit == nullptr)
      return std::nullopt;
    text.remove_prefix(unit->name.size());
    total += value * unit->nanoseconds;
  }
  if (!std::isfinite(total) || total > 1e18)
    return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(total / 1e6));
}

Settings parse_settings(std::string_view supervisor_config_yaml) {
  Settings settings;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(supervisor_config_yaml));
  } catch (const YAML::Exception &error) {
    throw std::invalid_argument(std::string("the supervisor config does not parse: ") +
                                error.what());
  }
  const YAML::Node agent = root["agent"];
  if (!agent || !agent.IsMap())
    return settings;
  try {
    if (const YAML::Node timeout = agent["config_apply_timeout"]; timeout && !timeout.IsNull()) {
      const auto parsed = parse_go_duration(timeout.as<std::string>());
      if (!parsed)
        throw std::invalid_argument("agent.config_apply_timeout: not a duration");
      settings.apply_timeout = *parsed;
    }
    if (const YAML::Node validate = agent["validate_config"]; validate && !validate.IsNull())
      settings.validate_config = validate.as<bool>();
    if (const YAML::Node rollback = agent["automatic_config_rollback"];
        rollback && !rollback.IsNull())
      settings.automatic_rollback = rollback.as<bool>();
    if (const YAML::Node fallback = agent["startup_fallback_configs"];
        fallback && fallback.IsSequence()) {
      for (const auto &path : fallback)
        settings.startup_fallback_configs.emplace_back(path.as<std::string>());
    }
  } catch (const YAML::Exception &error) {
    throw std::invalid_argument(std::string("agent: ") + error.what());
  }
  return settings;
}

}  // namespace opsup::remote_config
