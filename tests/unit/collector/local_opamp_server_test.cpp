// LocalOpampServer without a Collector: the $OPAMP_EXTENSION_CONFIG it produces, its
// option checks and how it treats the socket path. Nothing here runs the io_context:
// start() binds synchronously.
#include "collector/local_opamp_server.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "support/temp_dir.hpp"

namespace {

using opsup::collector::LocalOpampServer;
using opsup::collector::LocalOpampServerOptions;
using opsup::testing::TempDir;

constexpr const char *kUid = "018f3a3c-8e2b-7cc0-9f3e-4b1d2c3a4b5c";

LocalOpampServerOptions options_with_uid() {
  LocalOpampServerOptions options;
  options.instance_uid = kUid;
  return options;
}

// A socket file left behind at `path`, as by a supervisor that was killed.
void leave_stale_socket(const std::filesystem::path &path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)), 0);
  close(fd);
}

TEST(LocalOpampServerConfig, ExtensionConfigPointsTheExtensionAtTheBoundPort) {
  boost::asio::io_context io;
  LocalOpampServer server(io, options_with_uid(), {});
  server.start();
  ASSERT_NE(server.port(), 0);
  const YAML::Node config = YAML::Load(server.extension_config_yaml());
  const YAML::Node opamp = config["extensions"]["opamp"];
  EXPECT_EQ(opamp["instance_uid"].as<std::string>(), kUid);
  EXPECT_EQ(opamp["server"]["ws"]["endpoint"].as<std::string>(),
            "ws://127.0.0.1:" + std::to_string(server.port()) + "/v1/opamp");
  EXPECT_TRUE(opamp["server"]["ws"]["tls"]["insecure"].as<bool>());
  EXPECT_FALSE(opamp["server"]["ws"]["unix_socket"]);
  EXPECT_TRUE(opamp["capabilities"]["reports_effective_config"].as<bool>());
  EXPECT_TRUE(opamp["capabilities"]["reports_health"].as<bool>());
  EXPECT_TRUE(opamp["capabilities"]["reports_available_components"].as<bool>());
  EXPECT_FALSE(opamp["ppid"]) << "ppid does nothing in the Collector; it is left out";
  EXPECT_FALSE(opamp["agent_description"]);
  ASSERT_TRUE(config["service"]["extensions"].IsSequence());
  EXPECT_EQ(config["service"]["extensions"][0].as<std::string>(), "opamp");
}

TEST(LocalOpampServerConfig, AvailableComponentsAndResourceAttributesFollowTheOptions) {
  boost::asio::io_context io;
  auto options = options_with_uid();
  options.reports_available_components = false;
  options.include_resource_attributes = true;
  LocalOpampServer server(io, options, {});
  server.start();
  const YAML::Node opamp = YAML::Load(server.extension_config_yaml())["extensions"]["opamp"];
  EXPECT_FALSE(opamp["capabilities"]["reports_available_components"].as<bool>());
  EXPECT_TRUE(opamp["agent_description"]["include_resource_attributes"].as<bool>());
}

TEST(LocalOpampServerConfig, OptionsAreChecked) {
  boost::asio::io_context io;
  EXPECT_THROW(LocalOpampServer(io, {}, {}), std::invalid_argument);  // no instance_uid
  auto both = options_with_uid();
  both.port = 4321;
  both.unix_socket_path = "/tmp/x.sock";
  EXPECT_THROW(LocalOpampServer(io, both, {}), std::invalid_argument);
}

TEST(LocalOpampServerSocket, AStaleSocketIsReplaced) {
  TempDir dir;
  const auto path = dir.path() / "opamp.sock";
  leave_stale_socket(path);
  boost::asio::io_context io;
  auto options = options_with_uid();
  options.unix_socket_path = path;
  LocalOpampServer server(io, options, {});
  ASSERT_NO_THROW(server.start());
  struct stat info {};
  ASSERT_EQ(lstat(path.c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(server.port(), 0);
  EXPECT_EQ(server.endpoint(), "ws://localhost/v1/opamp");
}

TEST(LocalOpampServerSocket, ASymlinkAtThePathIsNeitherFollowedNorRemoved) {
  TempDir dir;
  const auto target = dir.write_file("precious.txt", "keep me");
  const auto path = dir.path() / "opamp.sock";
  std::filesystem::create_symlink(target, path);
  boost::asio::io_context io;
  auto options = options_with_uid();
  options.unix_socket_path = path;
  LocalOpampServer server(io, options, {});
  try {
    server.start();
    FAIL() << "start() accepted a symlink at the socket path";
  } catch (const std::system_error &error) {
    EXPECT_NE(std::string(error.what()).find(path.string()), std::string::npos) << error.what();
  }
  EXPECT_TRUE(std::filesystem::is_symlink(path));
  EXPECT_EQ(opsup::testing::read_file(target), "keep me");
}

TEST(LocalOpampServerSocket, ARegularFileAtThePathIsLeftAlone) {
  TempDir dir;
  const auto path = dir.write_file("opamp.sock", "not a socket");
  boost::asio::io_context io;
  auto options = options_with_uid();
  options.unix_socket_path = path;
  LocalOpampServer server(io, options, {});
  EXPECT_THROW(server.start(), std::system_error);
  EXPECT_EQ(opsup::testing::read_file(path), "not a socket");
}

TEST(LocalOpampServerSocket, AMissingParentIsCreatedPrivate) {
  TempDir dir;
  const auto path = dir.path() / "a" / "b" / "opamp.sock";
  boost::asio::io_context io;
  auto options = options_with_uid();
  options.unix_socket_path = path;
  options.unix_socket_mode = 0660;
  LocalOpampServer server(io, options, {});
  server.start();
  struct stat info {};
  ASSERT_EQ(stat(path.parent_path().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  ASSERT_EQ(lstat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0660u);
  const YAML::Node config = YAML::Load(server.extension_config_yaml());
  EXPECT_EQ(config["extensions"]["opamp"]["server"]["ws"]["unix_socket"].as<std::string>(),
            path.string());
  EXPECT_EQ(config["extensions"]["opamp"]["server"]["ws"]["endpoint"].as<std::string>(),
            "ws://localhost/v1/opamp");
}

}  // namespace
