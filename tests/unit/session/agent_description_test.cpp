#include "session/agent_description.hpp"

#include <gtest/gtest.h>

#include "common/uuid.hpp"

namespace opsup::session {
namespace {

namespace proto = ::opamp::proto::v1;

std::vector<std::pair<std::string, std::string>> pairs(
    const google::protobuf::RepeatedPtrField<proto::KeyValue> &attributes) {
  std::vector<std::pair<std::string, std::string>> result;
  for (const auto &attribute : attributes) {
    result.emplace_back(attribute.key(), attribute.value().string_value());
  }
  return result;
}

TEST(AgentDescription, PrettyNameFromOsRelease) {
  EXPECT_EQ(os_release_pretty_name("NAME=\"Debian GNU/Linux\"\n"
                                   "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n"),
            "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(os_release_pretty_name("PRETTY_NAME='Alpine \\\"edge\\\"'\n"), "Alpine \"edge\"");
  EXPECT_EQ(os_release_pretty_name("PRETTY_NAME=Plain\n"), "Plain");
  EXPECT_EQ(os_release_pretty_name("NAME=x\n"), "");
}

TEST(AgentDescription, GoArchNameForThisMachine) {
#if defined(__x86_64__)
  EXPECT_EQ(go_arch_name(), "amd64");
#elif defined(__aarch64__)
  EXPECT_EQ(go_arch_name(), "arm64");
#else
  EXPECT_FALSE(go_arch_name().empty());
#endif
}

TEST(AgentDescription, HostFactsAreReadFromTheMachine) {
  const HostFacts facts = read_host_facts();
  EXPECT_FALSE(facts.host_name.empty());
  EXPECT_EQ(facts.os_type, "linux");
  EXPECT_EQ(facts.host_arch, go_arch_name());
  EXPECT_FALSE(facts.os_description.empty());
}

TEST(AgentDescription, HostFactsDescriptionHasIdentityAndHostAttributesSorted) {
  const InstanceUid uid = common::generate_uuid_v7();
  const HostFacts facts{"box", "linux", "amd64", "Debian GNU/Linux 12 (bookworm)"};
  const proto::AgentDescription description =
      host_facts_description(facts, "io.opentelemetry.collector", uid);
  EXPECT_EQ(pairs(description.identifying_attributes()),
            (std::vector<std::pair<std::string, std::string>>{
                {"service.instance.id", common::format_uuid(uid)},
                {"service.name", "io.opentelemetry.collector"}}));
  EXPECT_EQ(pairs(description.non_identifying_attributes()),
            (std::vector<std::pair<std::string, std::string>>{
                {"host.arch", "amd64"},
                {"host.name", "box"},
                {"os.description", "Debian GNU/Linux 12 (bookworm)"},
                {"os.type", "linux"}}));
}

TEST(AgentDescription, OverridesWinAndKeysEndSorted) {
  proto::AgentDescription description;
  auto *name = description.add_identifying_attributes();
  name->set_key("service.name");
  name->mutable_value()->set_string_value("otelcol-contrib");
  auto *host = description.add_non_identifying_attributes();
  host->set_key("host.name");
  host->mutable_value()->set_string_value("box");
  DescriptionOverrides overrides;
  overrides.identifying_attributes = {{"service.name", "edge"}, {"deployment", "eu"}};
  overrides.non_identifying_attributes = {{"a.first", "1"}, {"host.name", "renamed"}};
  apply_description_overrides(description, overrides);
  EXPECT_EQ(pairs(description.identifying_attributes()),
            (std::vector<std::pair<std::string, std::string>>{{"deployment", "eu"},
                                                              {"service.name", "edge"}}));
  EXPECT_EQ(pairs(description.non_identifying_attributes()),
            (std::vector<std::pair<std::string, std::string>>{{"a.first", "1"},
                                                              {"host.name", "renamed"}}));
}

TEST(AgentDescription, ReplaceServiceInstanceIdOnlyWhenPresent) {
  const InstanceUid uid = common::generate_uuid_v7();
  proto::AgentDescription with_id = host_facts_description(HostFacts{"h", "linux", "amd64", ""},
                                                           "svc", common::generate_uuid_v7());
  replace_service_instance_id(with_id, uid);
  EXPECT_EQ(with_id.identifying_attributes(0).value().string_value(), common::format_uuid(uid));
  proto::AgentDescription without_id;
  replace_service_instance_id(without_id, uid);
  EXPECT_EQ(without_id.identifying_attributes_size(), 0);
}

}  // namespace
}  // namespace opsup::session
