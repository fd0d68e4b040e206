// echo_cpp: an opampsupervisor module in C++ with opsup/module.hpp, parsing OpAMP
// messages with its own lite-runtime copy of the generated code (WITH_OPAMP_PROTO).
//
// Custom capability "io.opsup.example.echo":
//   - a server CustomMessage of that capability is sent back unchanged (same type and
//     data), except type "count", which is answered with the number of messages echoed
//     so far (decimal text in data);
//   - the count survives restarts in the storage directory (echo_count.txt), written
//     atomically by the host;
//   - Collector exits are logged, to show supervisor events.
#include <opsup/module.hpp>

#include <charconv>
#include <string>

#include "opamp.pb.h"

namespace {

constexpr const char *kCapability = "io.opsup.example.echo";
constexpr const char *kCountFile = "echo_count.txt";

class EchoModule : public opsup::Module {
 public:
  explicit EchoModule(opsup::Host &host) : opsup::Module(host) {}

  void start() override {
    std::string stored;
    if (host().storage_read(kCountFile, stored) == OPSUP_OK) {
      const auto result = std::from_chars(stored.data(), stored.data() + stored.size(), count_);
      if (result.ec != std::errc()) {
        host().warn(std::string(kCountFile) + " does not hold a number; counting from 0");
        count_ = 0;
      }
    }
    // Nothing to send: the supervisor advertises the descriptor's custom capability.
    host().info("echo_cpp started; " + std::to_string(count_) + " messages echoed so far");
  }

  void on_server_message(std::string_view bytes) override {
    opamp::proto::v1::ServerToAgent message;
    if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      host().warn("ignoring a ServerToAgent that does not parse");
      return;
    }
    if (!message.has_custom_message() || message.custom_message().capability() != kCapability) {
      return;
    }
    const opamp::proto::v1::CustomMessage &received = message.custom_message();

    opamp::proto::v1::AgentToServer fields;
    opamp::proto::v1::CustomMessage *reply = fields.mutable_custom_message();
    reply->set_capability(kCapability);
    reply->set_type(received.type());
    if (received.type() == "count") {
      reply->set_data(std::to_string(count_));
    } else {
      ++count_;
      reply->set_data(received.data());
      if (host().storage_write(kCountFile, std::to_string(count_)) != OPSUP_OK) {
        host().warn("could not persist the echo count");
      }
    }
    send(fields);
  }

  void on_event(const opsup::Event &event) override {
    if (event.kind == OPSUP_EVENT_COLLECTOR_EXITED) {
      host().info("Collector exited with code " + std::to_string(event.exit_code));
    }
  }

 private:
  void send(const opamp::proto::v1::AgentToServer &fields) {
    const opsup_status status = host().set_agent_fields(fields.SerializeAsString());
    if (status != OPSUP_OK) {
      throw opsup::StatusError(status, "set_agent_fields refused the echo module's fields");
    }
  }

  uint64_t count_ = 0;
};

}  // namespace

OPSUP_DEFINE_MODULE(EchoModule,
                    {.id = "io.opsup.example.echo",
                     .version = "1.0.0",
                     .description = "Example in C++: echoes io.opsup.example.echo custom "
                                    "messages and counts them",
                     .custom_capabilities = {kCapability},
                     .server_to_agent_fields = {OPSUP_S2A_CUSTOM_MESSAGE}})
