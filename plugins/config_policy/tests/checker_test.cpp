#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "checker.hpp"
#include "endpoint_rules.hpp"
#include "temp_dir.hpp"

namespace opsup::config_policy {
namespace {
using testing::TempDir;

std::vector<Violation> check(const std::string &config, const std::string &settings) {
  return check_config(parse_config(config), parse_settings(settings));
}

constexpr const char *kEverything = R"(
receivers:
  filelog/sys: {include: [/etc/shadow, /var/log/*.log]}
  exec: {command: /bin/true}
  otlp: {protocols: {grpc: {endpoint: "0.0.0.0:4317", tls: {cert_file: /etc/ssl/x.pem}}}}
  hostmetrics: {root_path: /}
exporters:
  file: {path: /tmp/out.json}
  otlphttp: {endpoint: "https://collector.evil.test:4318"}
extensions:
  file_storage: {directory: /var/lib/x}
service:
  extensions: [file_storage]
  pipelines:
    logs: {receivers: [filelog/sys, exec, otlp], exporters: [file, otlphttp]}
)";

TEST(ConfigPolicyChecker, DefaultsChangeNothing) {
  EXPECT_TRUE(check(kEverything, "").empty());
}

TEST(ConfigPolicyChecker, FilelogIncludeOfEtcShadowIsRefusedAndNamed) {
  const auto v = check(kEverything, "access_dirs: {read: {deny: [/etc/shadow]}}");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(describe(v[0]),
            "receivers/filelog/sys include[0]=/etc/shadow breaks access_dirs.read.deny: "
            "/etc/shadow");
}

TEST(ConfigPolicyChecker, FileLogAliasIsCheckedLikeFilelog) {
  const auto v = check("receivers: {file_log: {include: /etc/shadow}}",
                       "access_dirs: {read: {allow: [/var/log]}}");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].component, "file_log");
  EXPECT_EQ(v[0].field, "include");
}

TEST(ConfigPolicyChecker, FileExporterOutsideWriteAllowIsRefused) {
  TempDir dir;
  const auto v = check("exporters: {file: {path: /tmp/../etc/out.json}}",
                       "access_dirs: {write: {allow: [" + dir.str() + "]}}");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, "exporters");
  EXPECT_EQ(v[0].field, "path");
  EXPECT_EQ(v[0].rule, "access_dirs.write.allow (resolves to /etc/out.json)");
  EXPECT_TRUE(check("exporters: {file: {path: " + dir.str("out.json") + "}}",
                    "access_dirs: {write: {allow: [" + dir.str() + "]}}")
                  .empty());
}

TEST(ConfigPolicyChecker, TlsFilesAnywhereAreReadPaths) {
  const auto v = check(kEverything, "access_dirs: {read: {allow: [/var/log]}}");
  std::vector<std::string> fields;
  for (const auto &x : v)
    fields.push_back(x.component + " " + x.field);
  EXPECT_EQ(fields,
            (std::vector<std::string>{"filelog/sys include[0]", "otlp protocols.grpc.tls.cert_file",
                                      "hostmetrics root_path"}));
}

TEST(ConfigPolicyChecker, DeniedComponentTypeIsCaughtAlsoThroughAlias) {
  auto v = check(kEverything, "components: {receivers: {deny: [exec]}}");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(describe(v[0]), "receivers/exec type=exec breaks components.receivers.deny: exec");
  v = check("receivers: {otlp_grpc/in: {}}\nexporters: {otlp_http: {}}",
            "components: {receivers: {deny: [otlp]}, exporters: {deny: [otlphttp]}}");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].rule, "components.receivers.deny: otlp");
  EXPECT_EQ(v[1].rule, "components.exporters.deny: otlphttp");
  v = check("receivers: {filelog: {}}", "components: {receivers: {allow: [file_log]}}");
  EXPECT_TRUE(v.empty());
  v = check("receivers: {exec: {}}", "components: {receivers: {allow: [otlp]}}");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].rule, "components.receivers.allow");
}

TEST(ConfigPolicyChecker, ExporterEndpointOutsideAllowedHostsIsCaught) {
  const auto v = check(kEverything, "endpoints: {allowed_hosts: [0.0.0.0, '*.example.com']}");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(describe(v[0]),
            "exporters/otlphttp endpoint=https://collector.evil.test:4318 breaks "
            "endpoints.allowed_hosts (host collector.evil.test)");
  EXPECT_TRUE(check("exporters: {otlp: {endpoints: ['a.example.com:4317']}}",
                    "endpoints: {allowed_hosts: ['*.example.com']}")
                  .empty());
  EXPECT_EQ(check("exporters: {otlp: {endpoints: ['example.com.evil:1']}}",
                  "endpoints: {allowed_hosts: ['*.example.com']}")
                .size(),
            1u);
}

TEST(ConfigPolicyChecker, EndpointHosts) {
  EXPECT_EQ(endpoint_host("http://user@Host.Example:80/x"), "host.example");
  EXPECT_EQ(endpoint_host("[::1]:4317"), "::1");
  EXPECT_EQ(endpoint_host(":4317"), "0.0.0.0");
  EXPECT_EQ(endpoint_host("localhost:4317"), "localhost");
}

TEST(ConfigPolicyChecker, ThreeBrokenRulesAreAllListed) {
  const auto v = check(kEverything, R"(
access_dirs: {read: {deny: [/etc]}}
components: {receivers: {deny: [exec]}}
endpoints: {allowed_hosts: [0.0.0.0]}
)");
  ASSERT_EQ(v.size(), 4u);  // /etc/shadow, exec, the cert_file under /etc, the endpoint
  const std::string text = describe_all(v);
  EXPECT_NE(text.find("4 policy violations: 1) receivers/filelog/sys include[0]=/etc/shadow"),
            std::string::npos);
  EXPECT_NE(text.find("2) receivers/exec type=exec breaks components.receivers.deny: exec"),
            std::string::npos);
  EXPECT_NE(text.find("3) receivers/otlp protocols.grpc.tls.cert_file=/etc/ssl/x.pem"),
            std::string::npos);
  EXPECT_NE(text.find("4) exporters/otlphttp endpoint="), std::string::npos);
}

TEST(ConfigPolicyChecker, LongListsEndWithHowManyMoreWithinTheLimit) {
  std::string config = "receivers:\n";
  for (int i = 0; i < 50; ++i)
    config += "  exec/" + std::to_string(i) + ": {}\n";
  const auto v = check(config, "components: {receivers: {deny: [exec]}}");
  ASSERT_EQ(v.size(), 50u);
  const std::string text = describe_all(v, 1000);
  EXPECT_LE(text.size(), 1000u);
  EXPECT_EQ(text.rfind("50 policy violations: 1) receivers/exec/0 type=exec", 0), 0u);
  const size_t more = text.find("; and ");
  ASSERT_NE(more, std::string::npos);
  EXPECT_TRUE(text.ends_with(" more (see the log)")) << text;
  // The items shown plus "N more" account for all 50.
  const size_t shown = static_cast<size_t>(std::count(text.begin(), text.end(), ')')) - 1;
  EXPECT_EQ(shown + std::stoul(text.substr(more + 6)), 50u) << text;
  EXPECT_EQ(describe_all(v).find("and"), std::string::npos);
}

TEST(ConfigPolicyChecker, BoundsInput) {
  EXPECT_THROW(parse_config(std::string(kMaxConfigBytes + 1, ' ')), std::invalid_argument);
  EXPECT_THROW(parse_config("receivers: [unclosed"), std::invalid_argument);
  std::string deep = "receivers: {otlp: ";
  for (int i = 0; i < kMaxDepth + 2; ++i)
    deep += "{a: ";
  deep += "1" + std::string(kMaxDepth + 2, '}') + "}";
  const auto v = check(deep, "");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].rule.find("nesting limit"), std::string::npos);
}

}  // namespace
}  // namespace opsup::config_policy
