// static_probe: a module whose protobuf-lite is linked into it (STATIC_PROTOBUF). It decodes
// every ServerToAgent with its own copy of the runtime and answers a CustomMessage of its
// capability "com.example.static_protobuf" with type "decoded" and data
//   instance_uid=<hex>;type=<type>;data=<data>;protobuf=<version>;runtime=<file>
// where instance_uid is decoded from the server's message, version is the protobuf the
// module was built with and file is the object holding the protobuf code the module runs
// (dladdr): the module's own .so, never libprotobuf-lite.so.
#include <dlfcn.h>

#include <opsup/module.hpp>

#include <string>

#include "opamp.pb.h"

namespace {

constexpr const char *kCapability = "com.example.static_protobuf";

std::string hex(const std::string &bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  for (const unsigned char byte : bytes) {
    text += kDigits[byte >> 4];
    text += kDigits[byte & 0xf];
  }
  return text;
}

// The file the protobuf runtime's code was loaded from, as the dynamic linker sees it.
std::string protobuf_runtime_file() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void *>(&google::protobuf::internal::VerifyVersion), &info) == 0 ||
      info.dli_fname == nullptr) {
    return "unknown";
  }
  return info.dli_fname;
}

class StaticProbe : public opsup::Module {
 public:
  explicit StaticProbe(opsup::Host &host) : opsup::Module(host) {}

  void start() override {
    host().info("static_probe started; protobuf runtime in " + protobuf_runtime_file());
  }

  void on_server_message(std::string_view bytes) override {
    opamp::proto::v1::ServerToAgent message;
    if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      host().warn("ignoring a ServerToAgent that does not parse");
      return;
    }
    if (!message.has_custom_message() || message.custom_message().capability() != kCapability)
      return;
    opamp::proto::v1::AgentToServer fields;
    opamp::proto::v1::CustomMessage *reply = fields.mutable_custom_message();
    reply->set_capability(kCapability);
    reply->set_type("decoded");
    reply->set_data("instance_uid=" + hex(message.instance_uid()) + ";type=" +
                    message.custom_message().type() + ";data=" + message.custom_message().data() +
                    ";protobuf=" + std::to_string(GOOGLE_PROTOBUF_VERSION) +
                    ";runtime=" + protobuf_runtime_file());
    const opsup_status status = host().set_agent_fields(fields.SerializeAsString());
    if (status != OPSUP_OK)
      throw opsup::StatusError(status, "set_agent_fields refused the reply");
  }
};

}  // namespace

OPSUP_DEFINE_MODULE(StaticProbe,
                    {.id = "com.example.static_protobuf",
                     .version = "1.0.0",
                     .description = "Test module with protobuf-lite linked in: answers "
                                    "com.example.static_protobuf messages with what it decoded",
                     .custom_capabilities = {kCapability},
                     .server_to_agent_fields = {OPSUP_S2A_CUSTOM_MESSAGE}})
