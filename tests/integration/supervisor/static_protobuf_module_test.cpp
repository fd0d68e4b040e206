// A module with protobuf-lite linked into it (WITH_OPAMP_PROTO STATIC_PROTOBUF), built out of
// tree from the installed SDK by sdk_out_of_tree_module_build (fixture
// sdk_static_protobuf_module), runs in the supervisor beside the example modules: the
// supervisor and echo_cpp use the shared libprotobuf-lite.so, the probe its own hidden copy.
// Both answer custom messages through the real server; the probe says what it decoded from
// the server's message and which file its protobuf code runs from.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <optional>

#include "supervisor_fixture.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 30s;

// The data of the first custom message from `capability` of type `type` the server got.
std::optional<std::string> received_custom_message(OpampServerProcess &server,
                                                   const std::string &uid,
                                                   const std::string &capability,
                                                   const std::string &type) {
  const boost::json::value agent = server.agent(uid);
  const boost::json::value &received = at(agent, {"custom_messages"});
  if (!received.is_array())
    return std::nullopt;
  for (const auto &message : received.as_array()) {
    if (string_at(message, {"capability"}) == capability && string_at(message, {"type"}) == type)
      return string_at(message, {"data"});
  }
  return std::nullopt;
}

TEST(StaticProtobufModule, AnswersBesideModulesUsingTheSharedProtobuf) {
  TempDir dir;
  TempDir modules;
  const std::filesystem::path examples = build_dir() / "lib" / "opampsupervisor" / "examples";
  for (const std::filesystem::path &file :
       {examples / "echo_cpp.so", examples / "hello_c.so",
        std::filesystem::path(OPSUP_SDK_STATIC_PROTOBUF_MODULE)}) {
    std::filesystem::copy_file(file, modules.path() / file.filename());
  }
  OpampServerProcess server;
  const SupervisorRun run{.endpoint = server.websocket_url(),
                          .storage = dir.path() / "storage",
                          .modules_dir = modules.path()};
  auto supervisor = start_supervisor(run, dir.path());
  const std::string uid = wait_for_connected_agent(server, kDeadline);
  ASSERT_FALSE(uid.empty()) << supervisor->output();
  ASSERT_TRUE(eventually(
      [&] {
        const std::string capabilities =
            boost::json::serialize(at(server.agent(uid), {"custom_capabilities"}));
        return capabilities.find("com.example.static_protobuf") != std::string::npos &&
               capabilities.find("io.opsup.example.echo") != std::string::npos;
      },
      kDeadline))
      << supervisor->output();

  // The probe decodes the server's message with its own protobuf.
  ASSERT_EQ(server
                .post_json("/api/agents/" + uid + "/custom-message",
                           R"({"capability":"com.example.static_protobuf","type":"probe",)"
                           R"("data":"hello static"})")
                .status,
            200);
  // echo_cpp, with the shared libprotobuf-lite, echoes in the same process.
  ASSERT_EQ(server
                .post_json("/api/agents/" + uid + "/custom-message",
                           R"({"capability":"io.opsup.example.echo","type":"greet",)"
                           R"("data":"hello shared"})")
                .status,
            200);

  std::optional<std::string> decoded;
  std::optional<std::string> echoed;
  EXPECT_TRUE(eventually(
      [&] {
        decoded = received_custom_message(server, uid, "com.example.static_protobuf", "decoded");
        echoed = received_custom_message(server, uid, "io.opsup.example.echo", "greet");
        return decoded && echoed;
      },
      kDeadline))
      << supervisor->output();
  ASSERT_TRUE(decoded) << "no answer from the STATIC_PROTOBUF module\n" << supervisor->output();
  ASSERT_TRUE(echoed) << "no echo from echo_cpp\n" << supervisor->output();
  EXPECT_EQ(*echoed, "hello shared");

  std::string uid_hex = uid;
  std::erase(uid_hex, '-');
  std::transform(uid_hex.begin(), uid_hex.end(), uid_hex.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  EXPECT_NE(decoded->find("instance_uid=" + uid_hex + ";type=probe;data=hello static;"),
            std::string::npos)
      << *decoded;
  EXPECT_NE(decoded->find(";protobuf=3"), std::string::npos) << *decoded;
  // Its protobuf code is in the module file the supervisor loaded, not in libprotobuf-lite.
  EXPECT_NE(decoded->find(";runtime=" + (modules.path() / "static_probe.so").string()),
            std::string::npos)
      << *decoded;
  EXPECT_EQ(decoded->find("libprotobuf"), std::string::npos) << *decoded;

  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

}  // namespace
}  // namespace opsup::testing
