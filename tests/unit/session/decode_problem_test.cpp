#include "session/decode_problem.hpp"

#include <gtest/gtest.h>

#include <string>

#include "opamp.pb.h"

namespace opsup::session {
namespace {

using namespace std::string_literals;
namespace proto = ::opamp::proto::v1;

TEST(DecodeProblem, ReportsAWireProblem) {
  EXPECT_EQ(describe_undecodable_server_to_agent("\x08\x01\x30"s),
            "truncated varint in field 6 at byte 2");
}

TEST(DecodeProblem, NamesTheFieldWhoseMessageDoesNotDecode) {
  // remote_config (field 3) holding a well-formed-looking payload that is a truncated
  // varint inside: wire-level the top is fine, the nested message is not.
  const std::string bytes = "\x08\x01\x1a\x02\x10\xff"s;
  EXPECT_EQ(describe_undecodable_server_to_agent(bytes),
            "field 3 (remote_config, at byte 4) does not decode: truncated varint in field 2 "
            "at byte 0 inside it");
}

TEST(DecodeProblem, FallsBackToAValueProblem) {
  // custom_message.capability (string) that is not valid UTF-8.
  proto::ServerToAgent message;
  message.mutable_custom_message()->set_capability("ok");
  std::string bytes = message.SerializeAsString();
  bytes[bytes.size() - 1] = '\xff';
  proto::ServerToAgent check;
  // Debian 12's protobuf-lite checks UTF-8 in proto3 strings; this test relies on it.
  ASSERT_FALSE(check.ParseFromString(bytes)) << "this protobuf build does not check UTF-8";
  EXPECT_EQ(describe_undecodable_server_to_agent(bytes),
            "field 11 (custom_message, at byte 2) does not decode: a message nested in it is "
            "malformed or a string is not valid UTF-8");
}

}  // namespace
}  // namespace opsup::session
