// Why a ServerToAgent does not decode, for the log: protobuf's parser only says "no".
#pragma once

#include <string>
#include <string_view>

namespace opsup::session {

// The first wire-format problem (with its byte offset), else the top-level field whose
// message does not decode and what is wrong inside it. Call only for bytes that failed
// to parse as a ServerToAgent.
std::string describe_undecodable_server_to_agent(std::string_view bytes);

}  // namespace opsup::session
