#include "modules/module_descriptor.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "modules/opamp_names.hpp"
#include "opsup/opamp_constants.h"

namespace opsup::modules {
namespace {

// Bounds that catch a missing NULL terminator or a garbage count early.
constexpr size_t kMaxCustomCapabilities = 256;
constexpr size_t kMaxWantedFields = 64;
constexpr size_t kMaxTextLength = 4096;
// The field numbers OpAMP can ever use (protobuf's maximum).
constexpr uint32_t kMaxFieldNumber = (1u << 29) - 1;

std::optional<std::string> copy_text(const char *text, const char *what, std::string &out) {
  out.clear();
  if (text == nullptr)
    return std::nullopt;
  const size_t length = strnlen(text, kMaxTextLength + 1);
  if (length > kMaxTextLength) {
    return std::string("descriptor ") + what + " is longer than " + std::to_string(kMaxTextLength) +
           " bytes";
  }
  out.assign(text, length);
  return std::nullopt;
}

std::optional<std::string> copy_fields(const uint32_t *fields, size_t count, const char *what,
                                       std::vector<uint32_t> &out) {
  out.clear();
  if (count == 0)
    return std::nullopt;
  if (fields == nullptr) {
    return std::string("descriptor ") + what + " has " + std::to_string(count) +
           " entries but no array";
  }
  if (count > kMaxWantedFields) {
    return std::string("descriptor ") + what + " lists " + std::to_string(count) +
           " fields (at most " + std::to_string(kMaxWantedFields) + ")";
  }
  for (size_t i = 0; i < count; ++i) {
    if (fields[i] == 0 || fields[i] > kMaxFieldNumber) {
      return std::string("descriptor ") + what + " holds invalid field number " +
             std::to_string(fields[i]);
    }
    out.push_back(fields[i]);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return std::nullopt;
}

}  // namespace

bool valid_module_id(const std::string &id) {
  if (id.empty() || id.size() > 128)
    return false;
  if (!std::isalnum(static_cast<unsigned char>(id.front())))
    return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

std::optional<std::string> read_descriptor(const opsup_module_descriptor *raw, ModuleInfo &info,
                                           opsup_module_hooks &hooks) {
  info = ModuleInfo{};
  hooks = opsup_module_hooks{};
  if (raw == nullptr)
    return "the entry returned OPSUP_OK but no descriptor";
  if (raw->struct_size < kMinimalDescriptorSize) {
    return "descriptor struct_size " + std::to_string(raw->struct_size) +
           " is smaller than the minimum " + std::to_string(kMinimalDescriptorSize);
  }
  opsup_module_descriptor descriptor{};
  std::memcpy(&descriptor, raw, std::min<size_t>(raw->struct_size, sizeof descriptor));

  if (descriptor.abi_major != OPSUP_ABI_MAJOR) {
    return "descriptor declares ABI major " + std::to_string(descriptor.abi_major) +
           ", this supervisor supports major " + std::to_string(OPSUP_ABI_MAJOR);
  }
  info.abi_minor = descriptor.abi_minor;
  if (auto problem = copy_text(descriptor.id, "id", info.id))
    return problem;
  if (!valid_module_id(info.id)) {
    return "descriptor id \"" + info.id +
           "\" is not a valid module id (1-128 characters of A-Z a-z 0-9 . _ -, starting "
           "with a letter or digit)";
  }
  if (auto problem = copy_text(descriptor.version, "version", info.version))
    return problem;
  if (auto problem = copy_text(descriptor.description, "description", info.description)) {
    return problem;
  }

  info.capabilities = descriptor.capabilities;
  if ((info.capabilities & ~OPSUP_CAP_ALL_DEFINED) != 0) {
    return "descriptor claims capability bits the OpAMP spec does not define (" +
           capability_names(info.capabilities & ~OPSUP_CAP_ALL_DEFINED) + ")";
  }

  if (descriptor.custom_capabilities != nullptr) {
    for (size_t i = 0; descriptor.custom_capabilities[i] != nullptr; ++i) {
      if (i == kMaxCustomCapabilities) {
        return "descriptor lists more than " + std::to_string(kMaxCustomCapabilities) +
               " custom capabilities (missing NULL terminator?)";
      }
      std::string name;
      if (auto problem = copy_text(descriptor.custom_capabilities[i], "custom capability", name)) {
        return problem;
      }
      if (name.empty())
        return "descriptor lists an empty custom capability name";
      if (std::find(info.custom_capabilities.begin(), info.custom_capabilities.end(), name) ==
          info.custom_capabilities.end()) {
        info.custom_capabilities.push_back(std::move(name));
      }
    }
  }

  if (auto problem =
          copy_fields(descriptor.server_to_agent_fields, descriptor.server_to_agent_field_count,
                      "server_to_agent_fields", info.server_to_agent_fields)) {
    return problem;
  }
  if (auto problem =
          copy_fields(descriptor.agent_to_server_fields, descriptor.agent_to_server_field_count,
                      "agent_to_server_fields", info.agent_to_server_fields)) {
    return problem;
  }

  if (descriptor.hooks != nullptr) {
    const uint32_t hooks_size = descriptor.hooks->struct_size;
    if (hooks_size < offsetof(opsup_module_hooks, create)) {
      return "hooks struct_size " + std::to_string(hooks_size) + " is smaller than its header";
    }
    std::memcpy(&hooks, descriptor.hooks, std::min<size_t>(hooks_size, sizeof hooks));
  }
  return std::nullopt;
}

}  // namespace opsup::modules
