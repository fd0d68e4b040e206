// The proxy of an OpAMP connection: which one the environment names for an endpoint
// (HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as Go reads them), and how a proxy URL becomes the
// CONNECT request's target and headers.
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>

#include "transport/internal/proxy_target.hpp"
#include "transport/proxy_environment.hpp"

namespace opsup::transport {
namespace {

EnvironmentLookup env(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const char *name) -> std::optional<std::string> {
    auto found = values.find(name);
    if (found == values.end())
      return std::nullopt;
    return found->second;
  };
}

TEST(ProxyFromEnvironment, TheSchemeChoosesTheVariable) {
  const auto lookup = env({{"HTTPS_PROXY", "http://secure:3128"}, {"HTTP_PROXY", "plain:8080"}});
  EXPECT_EQ(proxy_from_environment("wss://opamp.example.com/v1/opamp", lookup).url,
            "http://secure:3128");
  EXPECT_EQ(proxy_from_environment("https://opamp.example.com/v1/opamp", lookup).url,
            "http://secure:3128");
  // A proxy without a scheme is http://.
  EXPECT_EQ(proxy_from_environment("ws://opamp.example.com/v1/opamp", lookup).url,
            "http://plain:8080");
  EXPECT_EQ(proxy_from_environment("http://opamp.example.com/v1/opamp", env({})).url, "");
}

TEST(ProxyFromEnvironment, UpperCaseWinsAndLowerCaseIsRead) {
  EXPECT_EQ(
      proxy_from_environment("wss://a.example/v1/opamp", env({{"https_proxy", "http://lower:1"}}))
          .url,
      "http://lower:1");
  EXPECT_EQ(proxy_from_environment(
                "wss://a.example/v1/opamp",
                env({{"HTTPS_PROXY", "http://upper:1"}, {"https_proxy", "http://lower:1"}}))
                .url,
            "http://upper:1");
}

TEST(ProxyFromEnvironment, NoProxyAndLoopbackConnectDirectly) {
  const std::map<std::string, std::string> base{{"HTTPS_PROXY", "http://proxy:3128"}};
  auto with_no_proxy = [&](const std::string &list) {
    auto values = base;
    values["NO_PROXY"] = list;
    return env(values);
  };
  EXPECT_EQ(proxy_from_environment("wss://127.0.0.1:4320/v1/opamp", env(base)).url, "");
  EXPECT_EQ(proxy_from_environment("wss://localhost/v1/opamp", env(base)).url, "");
  EXPECT_EQ(proxy_from_environment("wss://[::1]:4320/v1/opamp", env(base)).url, "");
  EXPECT_EQ(proxy_from_environment("wss://opamp.example.com/v1/opamp", with_no_proxy("*")).url, "");
  EXPECT_EQ(proxy_from_environment("wss://opamp.example.com/v1/opamp",
                                   with_no_proxy("other.org, example.com"))
                .url,
            "");
  EXPECT_EQ(
      proxy_from_environment("wss://opamp.example.com/v1/opamp", with_no_proxy(".example.com")).url,
      "");
  // Not a suffix at a dot boundary, another port, another host: proxied.
  EXPECT_EQ(
      proxy_from_environment("wss://opamp.badexample.com/v1/opamp", with_no_proxy("example.com"))
          .url,
      "http://proxy:3128");
  EXPECT_EQ(proxy_from_environment("wss://opamp.example.com:4320/v1/opamp",
                                   with_no_proxy("opamp.example.com:443"))
                .url,
            "http://proxy:3128");
  EXPECT_EQ(proxy_from_environment("wss://opamp.example.com/v1/opamp",
                                   with_no_proxy("opamp.example.com:443"))
                .url,
            "");
  EXPECT_EQ(proxy_from_environment("wss://10.1.2.3/v1/opamp", with_no_proxy("10.1.2.3")).url, "");
}

TEST(ProxyTarget, CarriesTheHostPortHeadersAndBasicCredentials) {
  const auto target = internal::parse_proxy(
      ProxySettings{"http://agent:s3cret@proxy.example:3128", {{"X-Proxy-Tenant", "blue"}}});
  ASSERT_TRUE(target);
  EXPECT_EQ(target->host, "proxy.example");
  EXPECT_EQ(target->port, 3128);
  ASSERT_EQ(target->headers.size(), 2u);
  EXPECT_EQ(target->headers[0].name, "X-Proxy-Tenant");
  EXPECT_EQ(target->headers[1].name, "Proxy-Authorization");
  EXPECT_EQ(target->headers[1].value, "Basic YWdlbnQ6czNjcmV0");  // agent:s3cret
  EXPECT_EQ(target->describe().find("s3cret"), std::string::npos);
  EXPECT_EQ(internal::parse_proxy(ProxySettings{"http://[::1]", {}})->port, 80);
  EXPECT_FALSE(internal::parse_proxy(ProxySettings{}));
}

TEST(ProxyTarget, RefusesWhatItCannotUseNamingTheKey) {
  for (const char *url : {"https://proxy:3128", "socks5://proxy:1080", "http://", "not a url"}) {
    try {
      internal::parse_proxy(ProxySettings{url, {}});
      ADD_FAILURE() << url << " accepted";
    } catch (const std::invalid_argument &error) {
      EXPECT_NE(std::string(error.what()).find("proxy.url"), std::string::npos) << error.what();
    }
  }
}

}  // namespace
}  // namespace opsup::transport
