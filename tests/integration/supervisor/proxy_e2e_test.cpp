// The OpAMP connection through a real HTTP CONNECT proxy: Debian's tinyproxy, started by the
// test with its own config (basic auth required), carries the supervisor's OpAMP traffic to
// tools/opamp-server, whether the proxy comes from server.proxy, from a connection
// settings offer or from HTTP_PROXY (NO_PROXY naming the server bypasses it). The proxy's own log
// shows each CONNECT; the credentials never reach the supervisor's log.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>

#include "supervisor_fixture.hpp"
#include "support/ports.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
constexpr auto kDeadline = 60s;

// tinyproxy in the foreground on a free loopback port, requiring `user`:`password`.
class TinyProxy {
 public:
  TinyProxy(const TempDir &dir, const std::string &user, const std::string &password)
      : port_(free_tcp_port()) {
    std::string config = "Port " + std::to_string(port_) +
                         "\nListen 127.0.0.1\nTimeout 60\nLogLevel Info\nMaxClients 20\n"
                         "Allow 127.0.0.1\nBasicAuth " +
                         user + " " + password + "\n";
    if (::geteuid() == 0)
      config += "User nobody\nGroup nogroup\n";  // it refuses to keep running as root
    const auto path = dir.write_file("tinyproxy.conf", config);
    ProcessOptions options;
    options.executable = OPSUP_TINYPROXY;
    options.args = {"-d", "-c", path.string()};
    process_ = std::make_unique<ChildProcess>(options);
    ready_ = process_->wait_for_line("Accepting connections", kDeadline).has_value();
  }

  bool ready() const { return ready_; }
  uint16_t port() const { return port_; }
  std::string url(const std::string &userinfo) const {
    return "http://" + userinfo + "127.0.0.1:" + std::to_string(port_);
  }
  ChildProcess &process() { return *process_; }

 private:
  uint16_t port_;
  std::unique_ptr<ChildProcess> process_;
  bool ready_ = false;
};

std::string port_of(const std::string &url) {
  const auto colon = url.rfind(':');
  return url.substr(colon + 1, url.find('/', colon) - colon - 1);
}

// An IPv4 address of this machine that is not loopback ("" when it has none): the
// environment's proxy never applies to loopback, so those tests reach the server here.
std::string non_loopback_ipv4() {
  ifaddrs *list = nullptr;
  if (::getifaddrs(&list) != 0)
    return "";
  std::string found;
  for (ifaddrs *entry = list; entry != nullptr && found.empty(); entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET ||
        (entry->ifa_flags & IFF_UP) == 0 || (entry->ifa_flags & IFF_LOOPBACK) != 0)
      continue;
    char text[INET_ADDRSTRLEN] = "";
    const auto *address = reinterpret_cast<const sockaddr_in *>(entry->ifa_addr);
    if (::inet_ntop(AF_INET, &address->sin_addr, text, sizeof text) != nullptr)
      found = text;
  }
  ::freeifaddrs(list);
  return found;
}

class ProxyE2E : public ::testing::Test {
 protected:
  TempDir dir_;
  TempDir modules_;
  OpampServerProcess server_;

  void SetUp() override {
    std::filesystem::copy_file(OPSUP_CONNECTION_SETTINGS_MODULE,
                               modules_.path() / "connection_settings.so");
  }

  SupervisorRun run(const std::string &server_yaml = "") {
    return {.endpoint = server_.websocket_url(),
            .storage = dir_.path() / "storage",
            .modules_dir = modules_.path(),
            .extra_yaml =
                "capabilities:\n  accepts_opamp_connection_settings: true\n"
                "  reports_connection_settings_status: true\n",
            .server_yaml = server_yaml};
  }
};

// server.proxy: the supervisor reaches the server only through the proxy's CONNECT tunnel,
// with the credentials of the proxy URL and the configured connect header.
TEST_F(ProxyE2E, TheConfiguredProxyCarriesTheOpampTraffic) {
  TinyProxy proxy(dir_, "agent", "pr0xy-s3cret");
  ASSERT_TRUE(proxy.ready()) << proxy.process().output();
  auto supervisor = start_supervisor(run("  proxy:\n    url: " + proxy.url("agent:pr0xy-s3cret@") +
                                         "\n    connect_headers:\n      X-Proxy-Tenant: blue\n"),
                                     dir_.path());
  const std::string uid = wait_for_connected_agent(server_, kDeadline);
  ASSERT_FALSE(uid.empty()) << supervisor->output() << proxy.process().output();
  EXPECT_TRUE(proxy.process()
                  .wait_for_line("CONNECT 127.0.0.1:" + port_of(server_.websocket_url()), 10s)
                  .has_value())
      << proxy.process().output();
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
  EXPECT_EQ(supervisor->output().find("pr0xy-s3cret"), std::string::npos) << supervisor->output();
}

// Wrong credentials: the proxy refuses the tunnel (tinyproxy answers 401) and the supervisor
// says so, naming the proxy and the status.
TEST_F(ProxyE2E, AProxyRefusingTheCredentialsIsNamedInTheLog) {
  TinyProxy proxy(dir_, "agent", "right");
  ASSERT_TRUE(proxy.ready()) << proxy.process().output();
  auto supervisor =
      start_supervisor(run("  proxy:\n    url: " + proxy.url("agent:wrong@") + "\n"), dir_.path());
  EXPECT_TRUE(supervisor
                  ->wait_for_line("proxy 127.0.0.1:" + std::to_string(proxy.port()) +
                                      " refused CONNECT to 127.0.0.1:[0-9]+: 40[17]",
                                  kDeadline)
                  .has_value())
      << supervisor->output();
  EXPECT_EQ(wait_for_connected_agent(server_, 1s), "");
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
}

// An offer's proxy: the switch to the second server goes through the offered proxy.
TEST_F(ProxyE2E, AnOfferedProxyCarriesTheSwitchedConnection) {
  TinyProxy proxy(dir_, "agent", "offered-s3cret");
  ASSERT_TRUE(proxy.ready()) << proxy.process().output();
  OpampServerProcess second;
  auto supervisor = start_supervisor(run(), dir_.path());
  const std::string uid = wait_for_connected_agent(server_, kDeadline);
  ASSERT_FALSE(uid.empty()) << supervisor->output();

  const json::object offer{{"destination_endpoint", second.websocket_url()},
                           {"proxy",
                            {{"url", proxy.url("agent:offered-s3cret@")},
                             {"connect_headers", {{"X-Proxy-Tenant", "blue"}}}}}};
  const auto answer =
      server_.post_json("/api/agents/" + uid + "/connection-settings", json::serialize(offer));
  ASSERT_EQ(answer.status, 200) << json::serialize(answer.body);
  const std::string hash = string_at(answer.body, {"hash"});
  json::value agent;
  eventually(
      [&] {
        agent = second.agent(uid);
        return string_at(agent, {"connection_settings_status", "status"}) == "APPLIED" &&
               string_at(agent, {"connection_settings_status", "last_connection_settings_hash"}) ==
                   hash;
      },
      kDeadline);
  EXPECT_EQ(string_at(agent, {"connection_settings_status", "status"}), "APPLIED")
      << json::serialize(agent) << supervisor->output();
  EXPECT_TRUE(proxy.process()
                  .wait_for_line("CONNECT 127.0.0.1:" + port_of(second.websocket_url()), 10s)
                  .has_value())
      << proxy.process().output();
  // The agent view shows the offered proxy without its credentials.
  const json::value offers = server_.agent(uid);
  EXPECT_EQ(json::serialize(offers).find("offered-s3cret"), std::string::npos);
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
  EXPECT_EQ(supervisor->output().find("offered-s3cret"), std::string::npos);
}

// No server.proxy: HTTP_PROXY (the ws:// endpoint's variable, as Go reads it) names the proxy,
// and NO_PROXY naming the server's address makes the supervisor connect directly.
class ProxyEnvironmentE2E : public ProxyE2E {
 protected:
  // A machine without a network address fails these tests unless the run says it has none.
  static bool allow_no_address() {
    const char *allow = std::getenv("OPSUP_ALLOW_NO_NETWORK_ADDRESS");
    return allow != nullptr && std::string(allow) == "1";
  }

  std::string address_ = non_loopback_ipv4();
  OpampServerProcess any_address_server_{{"--opamp-listen", "0.0.0.0:0"}};

  std::string endpoint() const {
    return "ws://" + address_ + ":" + port_of(any_address_server_.websocket_url()) + "/v1/opamp";
  }
  SupervisorRun environment_run(std::vector<std::pair<std::string, std::string>> env) {
    SupervisorRun result = run();
    result.endpoint = endpoint();
    result.env = std::move(env);
    // The environment of the test runner must not decide: only what the test sets counts.
    for (const char *name :
         {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"}) {
      if (std::none_of(result.env.begin(), result.env.end(),
                       [&](const auto &entry) { return entry.first == name; }))
        result.env.emplace_back(name, "");
    }
    return result;
  }
};

TEST_F(ProxyEnvironmentE2E, HttpProxyCarriesTheOpampTraffic) {
  if (address_.empty()) {
    if (allow_no_address())
      GTEST_SKIP() << "no non-loopback IPv4 address (OPSUP_ALLOW_NO_NETWORK_ADDRESS=1)";
    FAIL() << "this machine has no non-loopback IPv4 address to reach the server on; set "
              "OPSUP_ALLOW_NO_NETWORK_ADDRESS=1 to skip the proxy environment tests";
  }
  TinyProxy proxy(dir_, "agent", "env-s3cret");
  ASSERT_TRUE(proxy.ready()) << proxy.process().output();
  auto supervisor = start_supervisor(
      environment_run({{"HTTP_PROXY", proxy.url("agent:env-s3cret@")}}), dir_.path());
  const std::string uid = wait_for_connected_agent(any_address_server_, kDeadline);
  ASSERT_FALSE(uid.empty()) << supervisor->output() << proxy.process().output();
  EXPECT_TRUE(
      proxy.process()
          .wait_for_line("CONNECT " + address_ + ":" + port_of(any_address_server_.websocket_url()),
                         10s)
          .has_value())
      << proxy.process().output();
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
  EXPECT_EQ(supervisor->output().find("env-s3cret"), std::string::npos) << supervisor->output();
}

TEST_F(ProxyEnvironmentE2E, NoProxyNamingTheServerConnectsDirectly) {
  if (address_.empty()) {
    if (allow_no_address())
      GTEST_SKIP() << "no non-loopback IPv4 address (OPSUP_ALLOW_NO_NETWORK_ADDRESS=1)";
    FAIL() << "this machine has no non-loopback IPv4 address to reach the server on; set "
              "OPSUP_ALLOW_NO_NETWORK_ADDRESS=1 to skip the proxy environment tests";
  }
  TinyProxy proxy(dir_, "agent", "env-s3cret");
  ASSERT_TRUE(proxy.ready()) << proxy.process().output();
  auto supervisor = start_supervisor(
      environment_run({{"HTTP_PROXY", proxy.url("agent:env-s3cret@")}, {"NO_PROXY", address_}}),
      dir_.path());
  const std::string uid = wait_for_connected_agent(any_address_server_, kDeadline);
  ASSERT_FALSE(uid.empty()) << supervisor->output() << proxy.process().output();
  supervisor->send_signal(SIGTERM);
  EXPECT_EQ(supervisor->wait_exit(kDeadline), 0) << supervisor->output();
  EXPECT_EQ(proxy.process().output().find("CONNECT "), std::string::npos)
      << proxy.process().output();
}

}  // namespace
}  // namespace opsup::testing
