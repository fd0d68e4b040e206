// Test module: uses every ABI 1.3 service through the C++ helper on request. A server
// CustomMessage of its capability names an action in `type` (arguments in `data`); the
// module answers with a custom message "<action>:<result>" and logs every answer as
// "collector_peer <id> <action>:<result>", so answers that cannot be sent (after stop) are
// still seen. Built twice: COLLECTOR_PEER_ID names the module and its custom capability,
// COLLECTOR_PEER_CAPS its capability bits (AcceptsRemoteConfig or none).
#include <opsup/module.hpp>

#include <string>
#include <vector>

namespace {

constexpr const char *kId = COLLECTOR_PEER_ID;

// "a|b|c" -> {"a", "b", "c"}; at most `parts` pieces, the last keeps the rest.
std::vector<std::string> split(std::string_view text, size_t parts) {
  std::vector<std::string> pieces;
  while (pieces.size() + 1 < parts) {
    const size_t bar = text.find('|');
    if (bar == std::string_view::npos)
      break;
    pieces.emplace_back(text.substr(0, bar));
    text.remove_prefix(bar + 1);
  }
  pieces.emplace_back(text);
  return pieces;
}

class CollectorPeer : public opsup::Module {
 public:
  explicit CollectorPeer(opsup::Host &host) : opsup::Module(host) {}

  // Once stopped, the host refuses new changes: the destructor (the destroy hook) says so.
  ~CollectorPeer() override {
    log_answer("destroy-layer", std::to_string(host().set_config_layer("late", "a: 1\n")));
    log_answer("destroy-restart", std::to_string(host().restart_collector()));
  }

  void on_custom_message(std::string_view, std::string_view type_view,
                         std::string_view data_view) override {
    const std::string type(type_view);
    const std::string data(data_view);
    if (type == "layer") {  // data: name|flags|yaml
      const auto args = split(data, 3);
      const std::string name = args[0];
      const uint32_t flags = args.size() > 1 ? static_cast<uint32_t>(std::stoul(args[1])) : 0;
      const std::string yaml = args.size() > 2 ? args[2] : "";
      in_call_ = true;
      const opsup_status status = host().set_config_layer(name, yaml, change_done(name), flags);
      in_call_ = false;
      answer("layer", std::to_string(status));
    } else if (type == "remove-layer") {
      in_call_ = true;
      const opsup_status status = host().remove_config_layer(data, change_done(data));
      in_call_ = false;
      answer("remove-layer", std::to_string(status));
    } else if (type == "null-layer") {
      answer("null-layer", std::to_string(host().api()->set_config_layer(
                               host().handle(), nullptr, "a: 1\n", 0, nullptr, nullptr)));
    } else if (type == "remote") {  // data: flags
      const std::vector<opsup::ConfigFile> files = {{"base", "receivers: {}\n", "text/yaml"},
                                                    {"", "exporters: {}\n", ""}};
      const uint32_t flags = static_cast<uint32_t>(std::stoul(data.empty() ? "0" : data));
      answer("remote",
             std::to_string(host().set_remote_config(files, change_done("remote"), flags)));
    } else if (type == "remote-empty") {
      answer("remote-empty", std::to_string(host().set_remote_config({}, change_done("remote"))));
    } else if (type == "remote-clear") {
      answer("remote-clear", std::to_string(host().clear_remote_config(change_done("remote"))));
    } else if (type == "state") {
      opsup::CollectorState state;
      const opsup_status status = host().collector_state(state);
      if (status != OPSUP_OK) {
        answer("state", std::to_string(status));
        return;
      }
      answer("state", std::to_string(state.running) + " " + std::to_string(state.pid) + " " +
                          std::to_string(static_cast<int>(state.health)) + " " +
                          std::to_string(state.generation) + " " +
                          std::to_string(state.latest_generation) + " " +
                          std::to_string(state.restart_count) + " " +
                          std::to_string(state.start_time_unix_nano) + " " + state.last_error);
    } else if (type == "composed") {
      std::string yaml;
      const opsup_status status = host().composed_config(yaml);
      answer("composed", std::to_string(status) + " " + yaml);
    } else if (type == "restart") {
      answer("restart", std::to_string(host().restart_collector()));
    } else if (type == "validate") {
      in_call_ = true;
      const opsup_status status =
          host().validate_collector_config(data, [this](const opsup::CollectorValidation &result) {
            answer("validate-done", std::to_string(result.valid) + " " +
                                        std::to_string(result.exit_code) + " " + when() + " " +
                                        result.message);
          });
      in_call_ = false;
      answer("validate", std::to_string(status));
    } else if (type == "state-write") {  // data: key|yaml
      const auto args = split(data, 2);
      answer("state-write",
             std::to_string(host().state_write(args[0], args.size() > 1 ? args[1] : "")));
    } else if (type == "state-remove") {
      answer("state-remove", std::to_string(host().state_remove(data)));
    } else if (type == "state-read") {
      std::string yaml;
      const opsup_status status = host().state_read(data, yaml);
      answer("state-read", std::to_string(status) + " " + yaml);
    } else {
      answer("unknown", type);
    }
  }

  void on_event(const opsup::Event &event) override {
    answer("event", std::to_string(event.kind) + " " + std::to_string(event.generation));
  }

 private:
  opsup::Host::ConfigDone change_done(const std::string &what) {
    return [this, what](const opsup::ConfigChangeResult &result) {
      answer("done", what + " " + std::to_string(result.status) + " " +
                         std::to_string(result.generation) + " " + when() + " " + result.error);
    };
  }

  // Whether a done callback runs inside the service call that queued it (never allowed).
  std::string when() const { return in_call_ ? "during-call" : "after-call"; }

  void log_answer(const std::string &type, const std::string &data) {
    host().info(std::string("collector_peer ") + kId + " " + type + ":" + data);
  }

  void answer(const std::string &type, const std::string &data) {
    log_answer(type, data);
    host().send_custom_message(kId, type, data);
  }

  bool in_call_ = false;
};

}  // namespace

OPSUP_DEFINE_MODULE(CollectorPeer, {.id = COLLECTOR_PEER_ID,
                                    .version = "0.0.1",
                                    .description = "test module using the ABI 1.3 services",
                                    .capabilities = COLLECTOR_PEER_CAPS,
                                    .custom_capabilities = {COLLECTOR_PEER_ID}})
