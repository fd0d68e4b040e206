#include "session/agent_description.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

#include "common/uuid.hpp"
#include "storage/atomic_file.hpp"

namespace opsup::session {
namespace {

namespace proto = ::opamp::proto::v1;
using KeyValues = google::protobuf::RepeatedPtrField<proto::KeyValue>;

void set_string_attribute(KeyValues &attributes, const std::string &key, const std::string &value) {
  for (proto::KeyValue &attribute : attributes) {
    if (attribute.key() == key) {
      attribute.mutable_value()->set_string_value(value);
      return;
    }
  }
  proto::KeyValue *attribute = attributes.Add();
  attribute->set_key(key);
  attribute->mutable_value()->set_string_value(value);
}

void sort_by_key(KeyValues &attributes) {
  std::stable_sort(
      attributes.begin(), attributes.end(),
      [](const proto::KeyValue &a, const proto::KeyValue &b) { return a.key() < b.key(); });
}

std::string unquote_os_release_value(std::string_view value) {
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
      value.back() == value.front()) {
    value = value.substr(1, value.size() - 2);
  }
  std::string result;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 1 < value.size())
      ++i;  // shell-style escape
    result.push_back(value[i]);
  }
  return result;
}

}  // namespace

std::string os_release_pretty_name(std::string_view text) {
  constexpr std::string_view kKey = "PRETTY_NAME=";
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (line.starts_with(kKey))
      return unquote_os_release_value(line.substr(kKey.size()));
  }
  return {};
}

std::string go_arch_name() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__i386__)
  return "386";
#elif defined(__arm__)
  return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "ppc64le";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#else
  struct utsname name {};
  return ::uname(&name) == 0 ? name.machine : "unknown";
#endif
}

HostFacts read_host_facts(const std::filesystem::path &os_release) {
  HostFacts facts;
  char host_name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host_name, sizeof(host_name) - 1) == 0)
    facts.host_name = host_name;
  facts.os_type = "linux";
  facts.host_arch = go_arch_name();
  try {
    if (auto text = storage::read_file_if_exists(os_release)) {
      facts.os_description = os_release_pretty_name(*text);
    }
  } catch (const std::exception &) {
    // An unreadable os-release only leaves os.description empty.
  }
  if (facts.os_description.empty()) {
    struct utsname name {};
    if (::uname(&name) == 0)
      facts.os_description = std::string(name.sysname) + " " + name.release;
  }
  return facts;
}

proto::AgentDescription host_facts_description(const HostFacts &facts,
                                               std::string_view service_name,
                                               const InstanceUid &uid) {
  proto::AgentDescription description;
  auto &identifying = *description.mutable_identifying_attributes();
  if (!service_name.empty())
    set_string_attribute(identifying, "service.name", std::string(service_name));
  set_string_attribute(identifying, "service.instance.id", common::format_uuid(uid));
  auto &non_identifying = *description.mutable_non_identifying_attributes();
  if (!facts.host_name.empty())
    set_string_attribute(non_identifying, "host.name", facts.host_name);
  set_string_attribute(non_identifying, "os.type", facts.os_type);
  set_string_attribute(non_identifying, "host.arch", facts.host_arch);
  if (!facts.os_description.empty()) {
    set_string_attribute(non_identifying, "os.description", facts.os_description);
  }
  sort_by_key(identifying);
  sort_by_key(non_identifying);
  return description;
}

void apply_description_overrides(proto::AgentDescription &description,
                                 const DescriptionOverrides &overrides) {
  for (const auto &[key, value] : overrides.identifying_attributes) {
    set_string_attribute(*description.mutable_identifying_attributes(), key, value);
  }
  for (const auto &[key, value] : overrides.non_identifying_attributes) {
    set_string_attribute(*description.mutable_non_identifying_attributes(), key, value);
  }
  sort_by_key(*description.mutable_identifying_attributes());
  sort_by_key(*description.mutable_non_identifying_attributes());
}

void replace_service_instance_id(proto::AgentDescription &description, const InstanceUid &uid) {
  for (proto::KeyValue &attribute : *description.mutable_identifying_attributes()) {
    if (attribute.key() == "service.instance.id") {
      attribute.mutable_value()->set_string_value(common::format_uuid(uid));
    }
  }
}

}  // namespace opsup::session
