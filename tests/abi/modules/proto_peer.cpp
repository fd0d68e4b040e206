// Test module: a second C++ module parsing OpAMP with its own generated code, built with
// WITH_OPAMP_PROTO. It owns ReportsHealth and the custom capability "io.opsup.test.peer",
// and exercises every host service on request: a server CustomMessage of its capability
// names an action in `type`; the module answers with a CustomMessage whose type says
// what happened and whose data carries the result.
#include <opsup/module.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <thread>

#include "opamp.pb.h"

namespace {

constexpr const char *kCapability = "io.opsup.test.peer";

// The value of the top-level `mode:` line of a block mapping, unquoted; "" without one.
std::string mode_of(std::string_view settings_yaml) {
  while (!settings_yaml.empty()) {
    const size_t end = std::min(settings_yaml.find('\n'), settings_yaml.size());
    std::string_view line = settings_yaml.substr(0, end);
    settings_yaml.remove_prefix(std::min(end + 1, settings_yaml.size()));
    if (!line.starts_with("mode:"))
      continue;
    line.remove_prefix(5);
    while (!line.empty() && line.front() == ' ')
      line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r'))
      line.remove_suffix(1);
    if (line.size() >= 2 && (line.front() == '"' || line.front() == '\'') &&
        line.back() == line.front()) {
      line = line.substr(1, line.size() - 2);
    }
    return std::string(line);
  }
  return "";
}

class PeerModule : public opsup::Module {
 public:
  // Settings come only from its own section (plugins.io.opsup.test.proto_peer), through
  // the own_settings_yaml host service; the whole config is not searched.
  explicit PeerModule(opsup::Host &host) : opsup::Module(host) {
    const std::string mode = mode_of(host.own_settings_yaml());
    if (!mode.empty() && mode != "normal") {
      throw opsup::ConfigError("plugins.io.opsup.test.proto_peer.mode: \"" + mode +
                               "\" is not a mode (normal)");
    }
    health_.set_healthy(true);
    health_.set_status("created");
  }

  void start() override {
    health_.set_status("started");
    opamp::proto::v1::AgentToServer fields = owned_fields();
    send(fields);
  }

  void stop() override { host().info("proto_peer stopping"); }

  void on_server_message(std::string_view bytes) override {
    opamp::proto::v1::ServerToAgent message;
    if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      reply("parse-error", "");
      return;
    }
    if (!message.has_custom_message() || message.custom_message().capability() != kCapability) {
      reply("unexpected", "a message without my custom message");
      return;
    }
    const std::string type = message.custom_message().type();
    const std::string data = message.custom_message().data();
    if (type == "ping") {
      reply("pong", data);
    } else if (type == "health") {
      health_.set_status(data);
      reply("health-set", data);
    } else if (type == "timer") {
      host().start_timer(std::chrono::milliseconds(20),
                         [this, data] { reply("timer-fired", data); });
    } else if (type == "cancel-timer") {
      const auto id = host().start_timer(std::chrono::milliseconds(10),
                                         [this] { reply("cancelled-timer-fired", ""); });
      host().cancel_timer(id);
      host().start_timer(std::chrono::milliseconds(100), [this] { reply("after-cancel", ""); });
    } else if (type == "blocking") {
      const auto loop_thread = std::this_thread::get_id();
      auto where = std::make_shared<std::string>();
      host().run_blocking(
          [where, loop_thread] {
            *where = std::this_thread::get_id() == loop_thread ? "loop" : "worker";
          },
          [this, where] { reply("blocking-done", *where); });
    } else if (type == "post") {
      std::thread poster(
          [this] { host().post([this] { reply("posted", "from another thread"); }); });
      poster.join();
    } else if (type == "store") {
      std::string read_back;
      const opsup_status written = host().storage_write("peer.dat", data);
      const opsup_status read = host().storage_read("peer.dat", read_back);
      reply("stored", written == OPSUP_OK && read == OPSUP_OK ? read_back : "storage failed");
    } else if (type == "store-bad-name") {
      reply("store-bad-name", std::to_string(host().storage_write(data, "x")));
    } else if (type == "read-missing") {
      std::string content;
      reply("read-missing", std::to_string(host().storage_read("never-written.dat", content)));
    } else if (type == "trespass") {
      opamp::proto::v1::AgentToServer fields = owned_fields();
      fields.mutable_effective_config();  // not ours: ReportsEffectiveConfig is not claimed
      reply("trespass", std::to_string(host().set_agent_fields(fields.SerializeAsString())));
    } else if (type == "settings") {
      // The host's copy, still valid long after create.
      reply("settings", std::string(host().own_settings_yaml()));
    } else if (type == "fields") {
      // Which gated fields reached the module besides its custom message.
      std::string present;
      if (message.has_remote_config())
        present += "remote_config ";
      if (message.has_connection_settings())
        present += "connection_settings ";
      reply("fields", present.empty() ? "none" : present);
    } else if (type == "uid") {
      const opsup::InstanceUid uid = host().instance_uid();
      reply("uid", std::string(uid.begin(), uid.end()));
    } else if (type == "server-caps") {
      reply("server-caps", std::to_string(host().server_capabilities()));
    } else if (type == "throw") {
      throw std::runtime_error("proto_peer threw on purpose");
    } else {
      reply("unknown", type);
    }
  }

  void on_collector_message(std::string_view bytes) override {
    opamp::proto::v1::AgentToServer message;
    if (message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) &&
        message.has_health()) {
      reply("collector-health", message.health().status());
    }
  }

  void on_event(const opsup::Event &event) override {
    if (event.kind == OPSUP_EVENT_COLLECTOR_EXITED) {
      reply("event", std::string(event.message) + " " + std::to_string(event.exit_code));
    }
  }

  std::optional<std::string> validate_collector_config(std::string_view config_yaml) override {
    if (config_yaml.find("forbidden_exporter") != std::string_view::npos) {
      return "proto_peer refuses forbidden_exporter";
    }
    return std::nullopt;
  }

 private:
  // Every call must carry all owned fields: one left out is cleared.
  opamp::proto::v1::AgentToServer owned_fields() const {
    opamp::proto::v1::AgentToServer fields;
    fields.mutable_custom_capabilities()->add_capabilities(kCapability);
    *fields.mutable_health() = health_;
    return fields;
  }

  void reply(const std::string &type, const std::string &data) {
    opamp::proto::v1::AgentToServer fields = owned_fields();
    opamp::proto::v1::CustomMessage *message = fields.mutable_custom_message();
    message->set_capability(kCapability);
    message->set_type(type);
    message->set_data(data);
    send(fields);
  }

  void send(const opamp::proto::v1::AgentToServer &fields) {
    const opsup_status status = host().set_agent_fields(fields.SerializeAsString());
    if (status != OPSUP_OK)
      host().error("set_agent_fields failed: " + std::to_string(status));
  }

  opamp::proto::v1::ComponentHealth health_;
};

}  // namespace

OPSUP_DEFINE_MODULE(PeerModule, {.id = "io.opsup.test.proto_peer",
                                 .version = "0.0.1",
                                 .description = "test module exercising every host service",
                                 .capabilities = OPSUP_CAP_REPORTS_HEALTH,
                                 .custom_capabilities = {kCapability},
                                 .server_to_agent_fields = {OPSUP_S2A_CUSTOM_MESSAGE},
                                 .agent_to_server_fields = {OPSUP_A2S_HEALTH}})
