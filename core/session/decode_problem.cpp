#include "session/decode_problem.hpp"

#include <optional>

#include "modules/wire_scan.hpp"
#include "opamp.pb.h"

namespace opsup::session {
namespace {

namespace proto = ::opamp::proto::v1;

template <class Message>
bool parses_as(std::string_view bytes) {
  Message message;
  return message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

struct MessageField {
  uint32_t number;
  const char *name;
  bool (*parses)(std::string_view);
};

constexpr MessageField kMessageFields[] = {
    {2, "error_response", parses_as<proto::ServerErrorResponse>},
    {3, "remote_config", parses_as<proto::AgentRemoteConfig>},
    {4, "connection_settings", parses_as<proto::ConnectionSettingsOffers>},
    {5, "packages_available", parses_as<proto::PackagesAvailable>},
    {8, "agent_identification", parses_as<proto::AgentIdentification>},
    {9, "command", parses_as<proto::ServerToAgentCommand>},
    {10, "custom_capabilities", parses_as<proto::CustomCapabilities>},
    {11, "custom_message", parses_as<proto::CustomMessage>},
};

}  // namespace

std::string describe_undecodable_server_to_agent(std::string_view bytes) {
  if (auto problem = modules::find_wire_problem(bytes))
    return *problem;
  const auto fields = modules::scan_wire_fields(bytes);
  if (fields) {
    for (const modules::WireField &field : *fields) {
      if (!field.length_delimited)
        continue;
      for (const MessageField &known : kMessageFields) {
        if (known.number != field.number || known.parses(field.bytes))
          continue;
        const std::size_t offset = static_cast<std::size_t>(field.bytes.data() - bytes.data());
        std::string why = "field " + std::to_string(known.number) + " (" + known.name +
                          ", at byte " + std::to_string(offset) + ") does not decode: ";
        if (auto inner = modules::find_wire_problem(field.bytes))
          return why + *inner + " inside it";
        return why + "a message nested in it is malformed or a string is not valid UTF-8";
      }
    }
  }
  return "well-formed on the wire, but a value is invalid (e.g. a string that is not valid "
         "UTF-8)";
}

}  // namespace opsup::session
