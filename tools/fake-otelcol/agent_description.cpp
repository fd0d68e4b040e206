#include "agent_description.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>

#include "components.hpp"
#include "opamp.pb.h"

namespace opsup::fakeotelcol {
namespace {

namespace pb = opamp::proto::v1;

void add(google::protobuf::RepeatedPtrField<pb::KeyValue> *list, const std::string &key,
         const std::string &value) {
  pb::KeyValue *kv = list->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

std::string host_arch() {
  utsname name{};
  if (uname(&name) != 0)
    return "unknown";
  std::string machine = name.machine;
  if (machine == "x86_64")
    return "amd64";
  if (machine == "aarch64")
    return "arm64";
  if (machine == "i686" || machine == "i386")
    return "386";
  return machine;
}

std::string host_name() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0)
    return "";
  return buffer;
}

// Like gopsutil on Linux: "<Platform> <version>", e.g. "Debian 12".
std::string os_description() {
  std::ifstream in("/etc/os-release");
  std::string line, id, version;
  while (std::getline(in, line)) {
    auto value = [&](const std::string &prefix) {
      std::string v = line.substr(prefix.size());
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
        v = v.substr(1, v.size() - 2);
      return v;
    };
    if (line.rfind("ID=", 0) == 0)
      id = value("ID=");
    if (line.rfind("VERSION_ID=", 0) == 0)
      version = value("VERSION_ID=");
  }
  if (id.empty())
    return "linux";
  id[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(id[0])));
  return version.empty() ? id : id + " " + version;
}

}  // namespace

void build_agent_description(const OpampSettings &settings,
                             const std::map<std::string, std::string> &resource, const Uid &uid,
                             pb::AgentDescription *out) {
  out->Clear();
  auto from_resource = [&](const std::string &key, const std::string &fallback) {
    auto found = resource.find(key);
    return found != resource.end() ? found->second : fallback;
  };
  add(out->mutable_identifying_attributes(), "service.instance.id", format_uuid(uid));
  add(out->mutable_identifying_attributes(), "service.name",
      from_resource("service.name", kBuildCommand));
  add(out->mutable_identifying_attributes(), "service.version",
      from_resource("service.version", kBuildVersion));

  std::map<std::string, std::string> non_identifying = {{"os.type", "linux"},
                                                        {"host.arch", host_arch()},
                                                        {"host.name", host_name()},
                                                        {"os.description", os_description()}};
  for (const auto &[key, value] : settings.non_identifying_attributes) {
    non_identifying[key] = value;
  }
  if (settings.include_resource_attributes) {
    for (const auto &[key, value] : resource) {
      if (key == "service.name" || key == "service.version" || key == "service.instance.id") {
        continue;
      }
      non_identifying[key] = value;
    }
  }
  for (const auto &[key, value] : non_identifying) {
    add(out->mutable_non_identifying_attributes(), key, value);
  }
}

}  // namespace opsup::fakeotelcol
