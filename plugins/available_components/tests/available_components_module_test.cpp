// The built available_components.so in the SDK's FakeHost: hash first, the full map when
// the server sets ReportAvailableComponents, changes forwarded.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include <opsup/testing/loaded_module.hpp>
#include "opamp.pb.h"

namespace {

namespace proto = ::opamp::proto::v1;

using Kinds = std::initializer_list<std::pair<const char *, std::initializer_list<const char *>>>;

// AvailableComponents as the Collector's extension builds them: kind -> type -> metadata.
proto::AvailableComponents components(const std::string &hash, Kinds kinds) {
  proto::AvailableComponents available;
  available.set_hash(hash);
  for (const auto &[kind, types] : kinds) {
    auto &by_type = *(*available.mutable_components())[kind].mutable_sub_component_map();
    for (const char *type : types) {
      auto *metadata = by_type[type].add_metadata();
      metadata->set_key("code.namespace");
      metadata->mutable_value()->set_string_value(std::string("example.com/") + type);
    }
  }
  return available;
}

proto::AvailableComponents first_set() {
  return components("hash-1", {{"receivers", {"otlp", "filelog"}},
                               {"processors", {"batch"}},
                               {"exporters", {"debug"}},
                               {"extensions", {"opamp"}},
                               {"connectors", {"forward"}}});
}

proto::AvailableComponents hash_alone(const std::string &hash) {
  proto::AvailableComponents available;
  available.set_hash(hash);
  return available;
}

// Map entries in key order, so equal messages compare equal.
std::string bytes_of(const proto::AvailableComponents &available) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    available.SerializeToCodedStream(&coded);
  }
  return bytes;
}

std::string collector_message(const proto::AvailableComponents &available) {
  proto::AgentToServer message;
  message.set_instance_uid(std::string(16, '\x01'));
  *message.mutable_available_components() = available;
  return message.SerializeAsString();
}

std::string server_message(uint64_t flags) {
  proto::ServerToAgent message;
  message.set_instance_uid(std::string(16, '\x01'));
  message.set_flags(flags);
  return message.SerializeAsString();
}

const std::string kAskForComponents =
    server_message(proto::ServerToAgentFlags_ReportAvailableComponents);

class AvailableComponentsModule : public opsup::testing::LoadedModule {
 protected:
  AvailableComponentsModule() : LoadedModule(OPSUP_AVAILABLE_COMPONENTS_MODULE) {}

  size_t sent() { return host().agent_fields().size(); }

  // The available_components field of the module's latest set_agent_fields.
  proto::AvailableComponents last_reported() {
    EXPECT_FALSE(host().agent_fields().empty());
    proto::AgentToServer fields;
    EXPECT_TRUE(fields.ParseFromString(host().agent_fields().back()));
    EXPECT_TRUE(fields.has_available_components());
    return fields.available_components();
  }
};

TEST_F(AvailableComponentsModule, OwnsReportsAvailableComponentsAndReadsFlags) {
  const opsup_module_descriptor &descriptor = host().descriptor();
  EXPECT_STREQ(descriptor.id, "available_components");
  EXPECT_EQ(descriptor.abi_minor, 2u);
  EXPECT_EQ(descriptor.capabilities, OPSUP_CAP_REPORTS_AVAILABLE_COMPONENTS);
  ASSERT_EQ(descriptor.agent_to_server_field_count, 1u);
  EXPECT_EQ(descriptor.agent_to_server_fields[0], uint32_t{OPSUP_A2S_AVAILABLE_COMPONENTS});
  ASSERT_EQ(descriptor.server_to_agent_field_count, 1u);
  EXPECT_EQ(descriptor.server_to_agent_fields[0], uint32_t{OPSUP_S2A_FLAGS});
}

TEST_F(AvailableComponentsModule, ReportsNothingUntilTheCollectorDescribesItsComponents) {
  start();
  host().deliver_server_message(kAskForComponents);
  EXPECT_EQ(sent(), 0u);
}

TEST_F(AvailableComponentsModule, ReportsTheHashFirst) {
  start();
  host().deliver_collector_message(collector_message(first_set()));
  ASSERT_EQ(sent(), 1u);
  EXPECT_EQ(opsup::testing::FakeHost::top_level_fields(host().agent_fields().back()),
            std::vector<uint32_t>{OPSUP_A2S_AVAILABLE_COMPONENTS});
  const proto::AvailableComponents reported = last_reported();
  EXPECT_EQ(reported.hash(), "hash-1");
  EXPECT_TRUE(reported.components().empty());
}

TEST_F(AvailableComponentsModule, TheServersFlagGetsTheFullMap) {
  start();
  host().deliver_collector_message(collector_message(first_set()));
  host().deliver_server_message(kAskForComponents);
  ASSERT_EQ(sent(), 2u);
  const proto::AvailableComponents reported = last_reported();
  EXPECT_EQ(reported.hash(), "hash-1");
  EXPECT_EQ(reported.components().size(), 5u);
  EXPECT_TRUE(reported.components().at("extensions").sub_component_map().contains("opamp"));
  EXPECT_EQ(bytes_of(reported), bytes_of(first_set()));
}

TEST_F(AvailableComponentsModule, OtherFlagsChangeNothing) {
  start();
  host().deliver_collector_message(collector_message(first_set()));
  host().deliver_server_message(server_message(proto::ServerToAgentFlags_ReportFullState));
  host().deliver_server_message(server_message(0));
  EXPECT_EQ(sent(), 1u);
}

TEST_F(AvailableComponentsModule, ABareHashOfTheSameSetKeepsTheMap) {
  start();
  host().deliver_collector_message(collector_message(first_set()));  // the bootstrap's
  // The running Collector's extension sends the hash alone, as opamp-go does.
  host().deliver_collector_message(collector_message(hash_alone("hash-1")));
  EXPECT_EQ(sent(), 1u);
  host().deliver_server_message(kAskForComponents);
  EXPECT_EQ(bytes_of(last_reported()), bytes_of(first_set()));
}

TEST_F(AvailableComponentsModule, AChangedSetGoesOutAsItsNewHashThenItsMapOnRequest) {
  start();
  host().deliver_collector_message(collector_message(first_set()));
  host().deliver_server_message(kAskForComponents);

  const proto::AvailableComponents second =
      components("hash-2", {{"receivers", {"otlp"}}, {"exporters", {"debug", "file"}}});
  host().deliver_collector_message(collector_message(second));
  proto::AvailableComponents reported = last_reported();
  EXPECT_EQ(reported.hash(), "hash-2");
  EXPECT_TRUE(reported.components().empty());

  host().deliver_server_message(kAskForComponents);
  EXPECT_EQ(bytes_of(last_reported()), bytes_of(second));
}

TEST_F(AvailableComponentsModule, AnUnchangedSetIsNotSentAgain) {
  start();
  host().deliver_collector_message(collector_message(first_set()));
  host().deliver_server_message(kAskForComponents);
  const size_t before = sent();
  host().deliver_collector_message(collector_message(first_set()));
  EXPECT_EQ(sent(), before);
  EXPECT_EQ(bytes_of(last_reported()), bytes_of(first_set()));  // still the full map
}

TEST_F(AvailableComponentsModule, ARepeatedRequestSendsTheMapAgain) {
  start();
  host().deliver_collector_message(collector_message(first_set()));
  host().deliver_server_message(kAskForComponents);
  const size_t before = sent();
  host().deliver_server_message(kAskForComponents);
  // The hash alone, then the map: the host sees the field change and sends the map.
  ASSERT_EQ(sent(), before + 2);
  EXPECT_EQ(last_reported().components().size(), 5u);
}

TEST_F(AvailableComponentsModule, ARequestWaitsForAMapThatIsNotKnownYet) {
  start();
  host().deliver_collector_message(collector_message(hash_alone("hash-1")));
  ASSERT_EQ(sent(), 1u);
  host().deliver_server_message(kAskForComponents);
  host().deliver_server_message(kAskForComponents);
  EXPECT_EQ(sent(), 1u);  // nothing more to give: no message loop with the server
  size_t said = 0;
  for (const auto &line : host().logs())
    said += line.message.find("reported only their hash") != std::string::npos;
  EXPECT_EQ(said, 1u);

  host().deliver_collector_message(collector_message(first_set()));
  ASSERT_EQ(sent(), 2u);
  EXPECT_EQ(bytes_of(last_reported()), bytes_of(first_set()));
}

TEST_F(AvailableComponentsModule, WithoutAHashTheCollectorsReportIsForwardedWhole) {
  start();
  const proto::AvailableComponents unhashed = components("", {{"receivers", {"otlp"}}});
  host().deliver_collector_message(collector_message(unhashed));
  ASSERT_EQ(sent(), 1u);
  EXPECT_EQ(bytes_of(last_reported()), bytes_of(unhashed));
  EXPECT_TRUE(last_reported().hash().empty());  // none computed

  host().deliver_collector_message(collector_message(unhashed));
  EXPECT_EQ(sent(), 1u);
  const proto::AvailableComponents changed = components("", {{"receivers", {"filelog"}}});
  host().deliver_collector_message(collector_message(changed));
  ASSERT_EQ(sent(), 2u);
  EXPECT_EQ(bytes_of(last_reported()), bytes_of(changed));
}

TEST_F(AvailableComponentsModule, AnEmptyReportSaysNothing) {
  start();
  // The core's start-up message when the bootstrap learned no components.
  host().deliver_collector_message(collector_message(proto::AvailableComponents()));
  EXPECT_EQ(sent(), 0u);
  host().deliver_collector_message(collector_message(first_set()));
  host().deliver_collector_message(collector_message(proto::AvailableComponents()));
  ASSERT_EQ(sent(), 1u);
  EXPECT_EQ(last_reported().hash(), "hash-1");
}

TEST_F(AvailableComponentsModule, WhatCameBeforeTheStartIsReportedAtTheStart) {
  ASSERT_EQ(host().create(), OPSUP_OK);
  host().deliver_collector_message(collector_message(first_set()));
  EXPECT_EQ(sent(), 0u);
  ASSERT_EQ(host().start(), OPSUP_OK);
  ASSERT_EQ(sent(), 1u);
  EXPECT_EQ(last_reported().hash(), "hash-1");
}

TEST_F(AvailableComponentsModule, IgnoresMessagesWithoutComponentsAndOnesThatDoNotParse) {
  start();
  proto::AgentToServer without;
  without.mutable_health()->set_healthy(true);
  host().deliver_collector_message(without.SerializeAsString());
  host().deliver_collector_message("\xff\xff\xff");
  host().deliver_server_message("\xff\xff\xff");
  EXPECT_EQ(sent(), 0u);
  EXPECT_TRUE(host().logged("AgentToServer that does not parse", OPSUP_LOG_WARN));
  EXPECT_TRUE(host().logged("ServerToAgent that does not parse", OPSUP_LOG_WARN));
}

}  // namespace
