// effective_config: reports AgentToServer.effective_config (ReportsEffectiveConfig, issue 10
// item 2).
//
// Two sources, as upstream (section 2.13 of the reference, after I#49902):
//   - the Collector's own report: the opamp extension sends an EffectiveConfig (its confmap
//     as YAML) whenever its config is loaded; the whole message, every named file, is
//     reported as is. An empty map is ignored.
//   - otherwise the config the supervisor composed for the Collector (the composed_config
//     service), as a single file named "" with content_type text/yaml.
//
// Keeping it current: every COLLECTOR_* event re-reads the composed config, so a new
// composition shows as soon as the Collector is (re)started on it. A Collector report
// belongs to the config generation the Collector was started on: when the Collector starts
// on another generation, that report describes a config no longer in force and goes, and
// the composed config stands in until the new Collector reports its own. A restart on the
// same generation (a restart command, a crash) keeps it. An empty composed config (an empty
// remote config map: nothing runs) drops it too. The field is set only when its bytes
// change; the host keeps it and repeats it in every full report.
//
// Secrets never leave: before reporting, every file is redacted with config_policy's rules
// and settings (plugins.config_policy.redaction: on by default, key patterns such as
// password, token, secret; Bearer/Basic values), whether or not config_policy.so is
// installed. A file that is not YAML is replaced by a note, since it cannot be checked.
#include <opsup/module.hpp>

#include <optional>
#include <string>

#include "opamp.pb.h"
#include "redact.hpp"
#include "serialize.hpp"
#include "settings.hpp"

namespace {

namespace proto = ::opamp::proto::v1;

constexpr const char *kComposedContentType = "text/yaml";

class EffectiveConfigModule : public opsup::Module {
 public:
  EffectiveConfigModule(opsup::Host &host, std::string_view supervisor_config_yaml)
      : opsup::Module(host), redaction_(redaction_settings(host, supervisor_config_yaml)) {}

  void start() override {
    started_ = true;
    opsup::CollectorState state;
    if (host().collector_state(state) == OPSUP_OK && state.running)
      running_generation_ = state.generation;
    refresh_composed();
    publish();
  }

  void on_collector_message(std::string_view agent_to_server) override {
    proto::AgentToServer message;
    if (!message.ParseFromArray(agent_to_server.data(), static_cast<int>(agent_to_server.size()))) {
      host().warn(
          "effective_config: ignoring an AgentToServer from the Collector that does not "
          "parse");
      return;
    }
    if (!message.has_effective_config())
      return;
    if (message.effective_config().config_map().config_map().empty()) {
      host().debug("effective_config: ignoring an empty effective config from the Collector");
      return;
    }
    collector_report_ = message.effective_config();
    report_generation_ = running_generation_;
    publish();
  }

  void on_event(const opsup::Event &event) override {
    switch (event.kind) {
      case OPSUP_EVENT_COLLECTOR_STARTED:
        // A report from the Collector run on another config describes that config.
        if (collector_report_ && event.generation != report_generation_) {
          host().debug("effective_config: the Collector started on config generation " +
                       std::to_string(event.generation) +
                       "; reporting the composed config until it reports its own");
          collector_report_.reset();
        }
        running_generation_ = event.generation;
        break;
      case OPSUP_EVENT_COLLECTOR_EXITED:
      case OPSUP_EVENT_COLLECTOR_HEALTHY:
      case OPSUP_EVENT_COLLECTOR_UNHEALTHY:
        break;
      default:
        return;  // the server connection changes nothing about the config
    }
    refresh_composed();
    publish();
  }

 private:
  // config_policy's settings, for their redaction part; defaults (redaction on) when the
  // section is absent or unusable (config_policy itself reports a bad one).
  static opsup::config_policy::Settings redaction_settings(opsup::Host &host,
                                                           std::string_view supervisor_yaml) {
    try {
      const YAML::Node section =
          YAML::Load(std::string(supervisor_yaml))["plugins"]["config_policy"];
      if (section && section.IsMap())
        return opsup::config_policy::parse_settings(YAML::Dump(section));
    } catch (const std::exception &error) {
      host.warn(std::string("effective_config: plugins.config_policy is not usable (") +
                error.what() + "); redacting with the default patterns");
    }
    return {};
  }

  // Every file of `config` with its secrets redacted.
  void redact(proto::EffectiveConfig &config) const {
    for (auto &[name, file] : *config.mutable_config_map()->mutable_config_map()) {
      if (file.body().empty())
        continue;
      try {
        const YAML::Node parsed = YAML::Load(file.body());
        const YAML::Node redacted = opsup::config_policy::redact_secrets(parsed, redaction_);
        // Untouched files keep their own text (comments, order, quoting).
        if (YAML::Dump(redacted) != YAML::Dump(parsed))
          file.set_body(YAML::Dump(redacted) + "\n");
      } catch (const YAML::Exception &) {
        file.set_body(
            "# redacted by the supervisor: this file is not YAML, so its secrets "
            "could not be found\n");
      }
    }
  }

  // Re-reads the composed config from the host.
  void refresh_composed() {
    std::string yaml;
    const opsup_status status = host().composed_config(yaml);
    if (status == OPSUP_OK) {
      if (yaml.empty() && collector_report_) {
        // An empty remote config map: the Collector runs nothing, whatever it said before.
        collector_report_.reset();
      }
      composed_ = std::move(yaml);
    } else if (status == OPSUP_ERR_UNSUPPORTED && !said_unsupported_) {
      said_unsupported_ = true;
      host().info(
          "effective_config: this supervisor does not hand out the composed config (module "
          "ABI 1.3); only the Collector's own report is forwarded");
    }
    // OPSUP_ERR_NOT_FOUND: nothing composed yet.
  }

  // Sets the effective_config field unless it is what was sent last.
  void publish() {
    if (!started_)
      return;
    proto::AgentToServer fields;
    if (collector_report_) {
      *fields.mutable_effective_config() = *collector_report_;
    } else if (composed_) {
      proto::AgentConfigObject &file =
          (*fields.mutable_effective_config()->mutable_config_map()->mutable_config_map())[""];
      file.set_body(*composed_);
      file.set_content_type(kComposedContentType);
    } else {
      return;  // nothing known yet
    }
    redact(*fields.mutable_effective_config());
    std::string bytes = opsup::effective_config::serialize_deterministic(fields);
    if (bytes == last_sent_)
      return;
    const opsup_status status = host().set_agent_fields(bytes);
    if (status != OPSUP_OK) {
      host().error("effective_config: the host refused the effective_config field (status " +
                   std::to_string(status) + ")");
      return;
    }
    host().debug(collector_report_ ? "effective_config: reporting the Collector's own report"
                                   : "effective_config: reporting the composed config");
    last_sent_ = std::move(bytes);
  }

  bool started_ = false;
  bool said_unsupported_ = false;
  uint64_t running_generation_ = 0;  // of the config the Collector was last started on
  std::optional<proto::EffectiveConfig> collector_report_;
  uint64_t report_generation_ = 0;  // running_generation_ when collector_report_ came
  std::optional<std::string> composed_;
  std::string last_sent_;
  opsup::config_policy::Settings redaction_;
};

}  // namespace

OPSUP_DEFINE_MODULE(EffectiveConfigModule,
                    {.id = "effective_config",
                     .version = "0.1.0",
                     .description = "Reports the Collector's effective config: its own report, "
                                    "else the config the supervisor composed for it",
                     .capabilities = OPSUP_CAP_REPORTS_EFFECTIVE_CONFIG,
                     .agent_to_server_fields = {OPSUP_A2S_EFFECTIVE_CONFIG}})
