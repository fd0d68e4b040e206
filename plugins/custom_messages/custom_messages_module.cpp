// custom_messages: forwards custom capabilities and messages between the Collector and the
// server (issue 10 item 7; section 2.18 of the reference), both ways, as upstream:
//   - the Collector's custom_capabilities become the supervisor's (set_custom_capabilities,
//     ABI 1.3), together with any the module was built declaring
//     (OPSUP_CUSTOM_MESSAGES_CAPABILITIES, none by default);
//   - the Collector's custom messages go to the server, held in a buffer of 10 while the
//     server is not connected ("Buffer full, skipping forwarding custom message to server"
//     when full, as upstream);
//   - the server's custom_capabilities and custom messages of those capabilities are sent
//     down to the connected Collector (send_to_collector, ABI 1.3); with no Collector
//     connected they are dropped with a warning (upstream logs the send error too).
#include <opsup/module.hpp>

#include <algorithm>
#include <deque>
#include <set>
#include <string>
#include <vector>

#include "declared_capabilities.hpp"
#include "opamp.pb.h"

namespace {

namespace proto = ::opamp::proto::v1;

// The capacity of the buffer towards the server, as upstream's channel.
constexpr size_t kBufferCapacity = 10;

const std::vector<std::string> &declared_capabilities() {
  static const std::vector<std::string> names{OPSUP_CUSTOM_MESSAGES_DECLARED};
  return names;
}

std::string joined(const std::vector<std::string> &names) {
  std::string text;
  for (const auto &name : names)
    text += (text.empty() ? "" : ", ") + name;
  return text.empty() ? "none" : text;
}

struct CustomMessage {
  std::string capability;
  std::string type;
  std::string data;
};

class CustomMessagesModule : public opsup::Module {
 public:
  explicit CustomMessagesModule(opsup::Host &host) : opsup::Module(host) {}

  void start() override {
    started_ = true;
    if (!declared_capabilities().empty()) {
      host().info("custom_messages: built declaring the custom capabilities " +
                  joined(declared_capabilities()) +
                  "; the Collector's own are added as it offers them");
    }
    drain();
  }

  void stop() override {
    if (!buffer_.empty()) {
      host().info("custom_messages: dropping " + std::to_string(buffer_.size()) +
                  " custom message(s) of the Collector not yet forwarded to the server");
      buffer_.clear();
    }
    started_ = false;
  }

  // ---- Collector → server ----

  void on_collector_message(std::string_view agent_to_server) override {
    proto::AgentToServer message;
    if (!message.ParseFromArray(agent_to_server.data(), static_cast<int>(agent_to_server.size()))) {
      host().warn(
          "custom_messages: ignoring an AgentToServer from the Collector that does not "
          "parse");
      return;
    }
    if (message.has_custom_capabilities())
      collector_capabilities(message.custom_capabilities());
    if (message.has_custom_message())
      from_collector(message.custom_message());
  }

  void on_event(const opsup::Event &event) override {
    switch (event.kind) {
      case OPSUP_EVENT_SERVER_CONNECTED:
        connected_ = true;
        drain();
        break;
      case OPSUP_EVENT_SERVER_DISCONNECTED:
        connected_ = false;
        break;
      default:
        break;
    }
  }

  // ---- server → Collector ----

  void on_server_message(std::string_view server_to_agent) override {
    proto::ServerToAgent message;
    if (!message.ParseFromArray(server_to_agent.data(), static_cast<int>(server_to_agent.size()))) {
      host().warn("custom_messages: ignoring a ServerToAgent that does not parse");
      return;
    }
    if (!message.has_custom_capabilities())
      return;
    proto::ServerToAgent down;
    *down.mutable_custom_capabilities() = message.custom_capabilities();
    to_collector(down, "the server's custom capabilities");
  }

  void on_custom_message(std::string_view capability, std::string_view type,
                         std::string_view data) override {
    proto::ServerToAgent down;
    auto *message = down.mutable_custom_message();
    message->set_capability(std::string(capability));
    message->set_type(std::string(type));
    message->set_data(std::string(data));
    to_collector(down, "the server's custom message (capability " + std::string(capability) +
                           ", type " + std::string(type) + ")");
  }

 private:
  void to_collector(const proto::ServerToAgent &message, const std::string &what) {
    const opsup_status status = host().send_to_collector(message.SerializeAsString());
    if (status == OPSUP_OK)
      return;
    host().warn("custom_messages: could not pass " + what + " on to the Collector: " +
                (status == OPSUP_ERR_NOT_FOUND ? std::string("no Collector is connected")
                                               : "status " + std::to_string(status)) +
                "; dropped");
  }

  static bool declared(const std::string &capability) {
    const auto &names = declared_capabilities();
    return std::find(names.begin(), names.end(), capability) != names.end();
  }

  void collector_capabilities(const proto::CustomCapabilities &capabilities) {
    std::vector<std::string> names(capabilities.capabilities().begin(),
                                   capabilities.capabilities().end());
    if (names == mirrored_)
      return;
    const opsup_status status = host().set_custom_capabilities(names);
    if (status != OPSUP_OK) {
      host().warn("custom_messages: cannot advertise the Collector's custom capabilities " +
                  joined(names) + " (status " + std::to_string(status) + ")");
      return;
    }
    mirrored_ = std::move(names);
    host().info("custom_messages: advertising the Collector's custom capabilities " +
                joined(mirrored_));
  }

  bool forwarded(const std::string &capability) const {
    return declared(capability) ||
           std::find(mirrored_.begin(), mirrored_.end(), capability) != mirrored_.end();
  }

  void from_collector(const proto::CustomMessage &message) {
    if (!forwarded(message.capability())) {
      if (said_undeclared_message_.insert(message.capability()).second) {
        host().warn("custom_messages: the Collector sent a custom message of capability " +
                    message.capability() +
                    ", which it does not offer in its custom_capabilities; dropped");
      }
      return;
    }
    if (buffer_.size() >= kBufferCapacity) {
      host().warn(
          "custom_messages: Buffer full, skipping forwarding custom message to server "
          "(capability " +
          message.capability() + ", type " + message.type() + ")");
      return;
    }
    buffer_.push_back({message.capability(), message.type(), message.data()});
    drain();
  }

  // Hands the buffered messages to the host while the server is connected.
  void drain() {
    while (started_ && connected_ && !buffer_.empty()) {
      const CustomMessage &next = buffer_.front();
      const opsup_status status = host().send_custom_message(next.capability, next.type, next.data);
      if (status == OPSUP_ERR_FAILED)
        return;  // stopping: stop() drops the rest
      if (status != OPSUP_OK) {
        host().error("custom_messages: the host refused the custom message (capability " +
                     next.capability + ", type " + next.type + ", status " +
                     std::to_string(status) + "); it is dropped");
      }
      buffer_.pop_front();
    }
  }

  bool started_ = false;
  bool connected_ = false;  // to the server; the supervisor connects after the modules start
  std::deque<CustomMessage> buffer_;
  std::vector<std::string> mirrored_;  // the Collector's custom capabilities, advertised
  std::set<std::string> said_undeclared_message_;  // warned once per capability
};

}  // namespace

OPSUP_DEFINE_MODULE(CustomMessagesModule,
                    {.id = "custom_messages",
                     .version = "0.1.0",
                     .description = "Forwards custom capabilities and messages between the "
                                    "Collector and the server",
                     .custom_capabilities = {OPSUP_CUSTOM_MESSAGES_DECLARED},
                     .server_to_agent_fields = {OPSUP_S2A_CUSTOM_CAPABILITIES},
                     .agent_to_server_fields = {OPSUP_A2S_CUSTOM_CAPABILITIES,
                                                OPSUP_A2S_CUSTOM_MESSAGE}})
