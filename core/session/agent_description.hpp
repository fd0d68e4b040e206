// AgentDescription before the Collector has described itself, built from host facts, and
// the `agent.description` overrides applied to any description. Session-internal.
//
// Host-facts description (our choice; the Go supervisor sends none before bootstrap):
//   identifying:     service.name = SessionOptions::default_service_name
//                    ("io.opentelemetry.collector"), service.instance.id = the instance UID
//                    (the value the supervisor injects into the Collector's resource, so
//                    it matches what the Collector reports later)
//   non-identifying: host.name, os.type ("linux"), host.arch (Go's GOARCH names: amd64,
//                    arm64...), os.description (/etc/os-release PRETTY_NAME)
// The same keys the Collector's opamp extension reports, so a server sees no change in
// shape when the Collector's own description replaces this one.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "opamp.pb.h"
#include "session/session_options.hpp"

namespace opsup::session {

struct HostFacts {
  std::string host_name;
  std::string os_type;
  std::string host_arch;
  std::string os_description;
};

HostFacts read_host_facts(const std::filesystem::path &os_release = "/etc/os-release");

// PRETTY_NAME from os-release text (quotes and escapes removed); "" when absent.
std::string os_release_pretty_name(std::string_view os_release_text);

// The architecture name Go uses (GOARCH) for the running binary.
std::string go_arch_name();

::opamp::proto::v1::AgentDescription host_facts_description(const HostFacts &facts,
                                                            std::string_view service_name,
                                                            const InstanceUid &uid);

// Override values win; both attribute lists end up sorted by key.
void apply_description_overrides(::opamp::proto::v1::AgentDescription &description,
                                 const DescriptionOverrides &overrides);

// Sets identifying service.instance.id to `uid` if the description has that key.
void replace_service_instance_id(::opamp::proto::v1::AgentDescription &description,
                                 const InstanceUid &uid);

}  // namespace opsup::session
