// The AgentDescription the opamp extension builds: identifying service.* attributes and
// non-identifying host/OS attributes plus configured and (optionally) resource attributes.
#pragma once

#include <map>
#include <string>

#include "opamp_settings.hpp"
#include "uuid.hpp"

namespace opamp::proto::v1 {
class AgentDescription;
}

namespace opsup::fakeotelcol {

void build_agent_description(const OpampSettings &settings,
                             const std::map<std::string, std::string> &resource, const Uid &uid,
                             opamp::proto::v1::AgentDescription *out);

}  // namespace opsup::fakeotelcol
