// config_policy: refuses Collector configs that break the operator's policy (issue 13).
//
// Settings: plugins.config_policy (see the README). No capability bit: the module only
// vetoes candidate configs through validate_collector_config, listing every violation.
// In 'sanitise' mode it rewrites server-given candidates first (rewrite_collector_config,
// ABI 1.3): the offending components and every reference to them are removed, the rest is
// applied, and what was removed goes back to the module that made the change (the remote
// config's status says it). The operator's own files are never rewritten: the host only
// warns about them, and this module logs what sanitising would remove.
#include <opsup/module.hpp>

#include <stdexcept>
#include <string>

#include "checker.hpp"
#include "sanitise.hpp"
#include "settings.hpp"
#include "violation.hpp"

namespace {

namespace policy = opsup::config_policy;

// The size of the reason buffer the supervisor passes, terminating NUL included.
constexpr size_t kReasonBytes = 1024;

class ConfigPolicyModule : public opsup::Module {
 public:
  explicit ConfigPolicyModule(opsup::Host &host) : opsup::Module(host) {
    try {
      settings_ = policy::parse_settings(host.own_settings_yaml());
    } catch (const policy::SettingsError &e) {
      throw opsup::ConfigError(e.what());
    }
  }

  std::optional<std::string> validate_collector_config(std::string_view config_yaml) override {
    YAML::Node config;
    try {
      config = policy::parse_config(config_yaml);
    } catch (const std::invalid_argument &e) {
      return std::string("config_policy: ") + e.what();
    }
    const auto violations = policy::check_config(config, settings_);
    if (violations.empty())
      return std::nullopt;
    for (const policy::Violation &v : violations)
      host().warn("config_policy: " + policy::describe(v));
    if (settings_.mode == policy::Mode::sanitise) {
      for (const std::string &line : policy::sanitise(config, violations).removed)
        host().info(
            "config_policy (sanitise, the operator's own files are not rewritten): "
            "would have " +
            line);
    }
    // The host keeps at most kReasonBytes of the reason; every violation is in the log.
    return "config_policy: " + policy::describe_all(violations, kReasonBytes - 16);
  }

  std::optional<std::string> rewrite_collector_config(std::string_view config_yaml,
                                                      std::string &report) override {
    if (settings_.mode != policy::Mode::sanitise)
      return std::nullopt;
    YAML::Node config;
    try {
      config = policy::parse_config(config_yaml);
    } catch (const std::invalid_argument &e) {
      return std::nullopt;  // validate_collector_config refuses it with the reason
    }
    const auto violations = policy::check_config(config, settings_);
    if (violations.empty())
      return std::nullopt;
    const policy::SanitiseResult sanitised = policy::sanitise(config, violations);
    const auto left = policy::check_config(sanitised.config, settings_);
    if (!left.empty()) {
      throw opsup::StatusError(OPSUP_ERR_VETO, "config_policy: cannot sanitise: " +
                                                   policy::describe_all(left, kReasonBytes - 48));
    }
    for (const std::string &line : sanitised.removed) {
      host().warn("config_policy (sanitise): " + line);
      report += (report.empty() ? "" : "\n") + line;
    }
    YAML::Emitter out;
    out << sanitised.config;
    return std::string(out.c_str()) + "\n";
  }

 private:
  policy::Settings settings_;
};

}  // namespace

OPSUP_DEFINE_MODULE(ConfigPolicyModule,
                    {.id = "config_policy",
                     .version = "0.1.0",
                     .description = "Refuses Collector configs that read or write outside "
                                    "access_dirs, use denied components or reach hosts not "
                                    "allowed"})
