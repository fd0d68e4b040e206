// A module's descriptor as the host keeps it: copied out of the module's static storage
// and checked, so nothing the module returned is trusted or referenced later except the
// hook pointers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "opsup/module.h"

namespace opsup::modules {

struct ModuleInfo {
  std::string id;
  std::string version;
  std::string description;
  uint32_t abi_minor = 0;  // the minor the module was built against
  uint64_t capabilities = 0;
  std::vector<std::string> custom_capabilities;
  std::vector<uint32_t> server_to_agent_fields;
  std::vector<uint32_t> agent_to_server_fields;
};

// The smallest descriptor accepted: everything up to `capabilities`. Later fields of a
// smaller descriptor count as absent.
inline constexpr uint32_t kMinimalDescriptorSize =
    offsetof(opsup_module_descriptor, capabilities) + sizeof(uint64_t);

// True when `id` is a usable module id: 1-128 characters of [A-Za-z0-9._-], starting
// with a letter or digit.
bool valid_module_id(const std::string &id);

// Copies `raw` (min(struct_size, sizeof) bytes, the rest zero) and its hooks the same
// way into `info` and `hooks`, checking sizes, ABI major, id, capability bits and lists.
// Returns what is wrong, or nullopt.
std::optional<std::string> read_descriptor(const opsup_module_descriptor *raw, ModuleInfo &info,
                                           opsup_module_hooks &hooks);

}  // namespace opsup::modules
