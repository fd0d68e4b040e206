// custom_messages: forwards custom capabilities and messages between the Collector and the
// server (issue 10 item 7; section 2.18 of the reference), as far as module ABI 1.3 allows.
//
// Upstream forwards both ways: the Collector's custom_capabilities become the supervisor's,
// its custom_message goes to the server through a buffer of 10 (warning "Buffer full,
// skipping forwarding custom message to server" when full), and the server's
// custom_capabilities and custom_message are sent down to the Collector.
//
// What this module can do through the ABI:
//   - It hears the Collector's custom_capabilities (12) and custom_message (13): it asks for
//     them in agent_to_server_fields.
//   - It can send a custom_message to the server only for a capability in its static
//     descriptor, and the host advertises exactly those (and receives from the server only
//     those). So the capabilities it forwards are fixed when it is built
//     (OPSUP_CUSTOM_MESSAGES_CAPABILITIES, declared_capabilities.hpp; none by default).
//     For them, the Collector's messages go up to the server: held in a buffer of 10 while
//     the server is not connected (a full buffer skips the new message with a warning, as
//     upstream), handed to the host once it is. The Collector's messages and capabilities
//     outside that list are dropped, with one warning per capability saying why.
//   - Nothing reaches the Collector: the ABI has no service to send a ServerToAgent to it.
//     The server's custom messages (of declared capabilities) and its custom_capabilities
//     are dropped, with one warning per capability (and one for the capabilities).
// What the ABI lacks for the rest (the README lists it): a service to advertise (and
// withdraw) custom capabilities at run time, with routing of the server's messages of those
// capabilities to the module; and a service to send a ServerToAgent custom_capabilities /
// custom_message to the connected Collector.
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
    if (declared_capabilities().empty()) {
      host().info(
          "custom_messages: built without custom capabilities "
          "(OPSUP_CUSTOM_MESSAGES_CAPABILITIES): the Collector's custom capabilities and "
          "messages cannot be forwarded to the server (module ABI 1.3 cannot advertise custom "
          "capabilities at run time), and nothing from the server reaches the Collector");
    } else {
      host().info("custom_messages: forwarding the Collector's custom messages of " +
                  joined(declared_capabilities()) +
                  " to the server; nothing from the server reaches the Collector (module ABI "
                  "1.3 cannot send to the Collector)");
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
    if (message.has_custom_capabilities() && !said_server_capabilities_) {
      said_server_capabilities_ = true;
      host().warn(
          "custom_messages: cannot pass the server's custom capabilities on to the Collector: "
          "module ABI 1.3 has no service to send a ServerToAgent to the Collector");
    }
  }

  void on_custom_message(std::string_view capability, std::string_view type,
                         std::string_view /*data*/) override {
    const std::string name(capability);
    if (said_server_message_.insert(name).second) {
      host().warn("custom_messages: cannot forward the server's custom messages of capability " +
                  name +
                  " to the Collector: module ABI 1.3 has no service to send a ServerToAgent to "
                  "the Collector; they are dropped");
    }
    host().debug("custom_messages: dropped the server's custom message (capability " + name +
                 ", type " + std::string(type) + ")");
  }

 private:
  static bool declared(const std::string &capability) {
    const auto &names = declared_capabilities();
    return std::find(names.begin(), names.end(), capability) != names.end();
  }

  void collector_capabilities(const proto::CustomCapabilities &capabilities) {
    std::vector<std::string> names(capabilities.capabilities().begin(),
                                   capabilities.capabilities().end());
    host().debug("custom_messages: the Collector offers the custom capabilities " + joined(names));
    for (const std::string &name : names) {
      if (declared(name) || !said_undeclared_.insert(name).second)
        continue;
      host().warn("custom_messages: the Collector offers custom capability " + name +
                  ", which is not advertised to the server: module ABI 1.3 cannot advertise "
                  "custom capabilities at run time, and this module was built declaring " +
                  joined(declared_capabilities()));
    }
  }

  void from_collector(const proto::CustomMessage &message) {
    if (!declared(message.capability())) {
      if (said_undeclared_message_.insert(message.capability()).second) {
        host().warn(
            "custom_messages: cannot forward the Collector's custom messages of "
            "capability " +
            message.capability() +
            " to the server: it is not among the module's declared custom "
            "capabilities (" +
            joined(declared_capabilities()) +
            "), and module ABI 1.3 cannot add one at run time; they are dropped");
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
  // Warned once each:
  std::set<std::string> said_undeclared_;          // the Collector's capabilities
  std::set<std::string> said_undeclared_message_;  // the Collector's messages, by capability
  std::set<std::string> said_server_message_;      // the server's messages, by capability
  bool said_server_capabilities_ = false;
};

}  // namespace

OPSUP_DEFINE_MODULE(CustomMessagesModule,
                    {.id = "custom_messages",
                     .version = "0.1.0",
                     .description = "Forwards the Collector's custom messages of the custom "
                                    "capabilities it was built with to the server",
                     .custom_capabilities = {OPSUP_CUSTOM_MESSAGES_DECLARED},
                     .server_to_agent_fields = {OPSUP_S2A_CUSTOM_CAPABILITIES},
                     .agent_to_server_fields = {OPSUP_A2S_CUSTOM_CAPABILITIES,
                                                OPSUP_A2S_CUSTOM_MESSAGE}})
