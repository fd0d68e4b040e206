#include "collector/bootstrap_cache.hpp"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/sha256.hpp"
#include "storage/atomic_file.hpp"

namespace opsup::collector {
namespace {

constexpr int kFormatVersion = 1;

std::string hex(const std::string &bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  for (unsigned char byte : bytes) {
    text.push_back(kDigits[byte >> 4]);
    text.push_back(kDigits[byte & 0xf]);
  }
  return text;
}

// One length-prefixed field: no value can be mistaken for the next one.
void add_field(std::string &canonical, const std::string &name, const std::string &value) {
  canonical += name + ":" + std::to_string(value.size()) + ":" + value + "\n";
}

YAML::Node binary(const std::string &bytes) {
  return YAML::Node(
      YAML::Binary(reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size()));
}

std::string bytes_of(const YAML::Node &node) {
  const YAML::Binary data = node.as<YAML::Binary>();
  return std::string(reinterpret_cast<const char *>(data.data()), data.size());
}

}  // namespace

std::string bootstrap_key(const BootstrapInputs &inputs) {
  std::error_code error;
  const auto path = std::filesystem::canonical(inputs.executable, error);
  if (error) {
    throw std::runtime_error("cannot inspect the Collector executable " +
                             inputs.executable.string() + ": " + error.message());
  }
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    throw std::runtime_error("cannot inspect the Collector executable " + path.string() + ": " +
                             std::strerror(errno));
  }
  std::string canonical;
  add_field(canonical, "format", std::to_string(kFormatVersion));
  add_field(canonical, "path", path.string());
  add_field(canonical, "size", std::to_string(info.st_size));
  add_field(canonical, "mtime_ns",
            std::to_string(static_cast<long long>(info.st_mtim.tv_sec) * 1000000000LL +
                           info.st_mtim.tv_nsec));
  add_field(canonical, "sha256", hex(common::sha256_file(path)));
  for (const auto &arg : inputs.args)
    add_field(canonical, "arg", arg);
  add_field(canonical, "env", inputs.env ? "set" : "inherited");
  if (inputs.env) {
    for (const auto &[name, value] : *inputs.env)
      add_field(canonical, "env." + name, value);
  }
  for (const auto &gate : inputs.feature_gates)
    add_field(canonical, "gate", gate);
  for (const auto &[name, value] : inputs.identifying_overrides)
    add_field(canonical, "identifying." + name, value);
  for (const auto &[name, value] : inputs.non_identifying_overrides)
    add_field(canonical, "non_identifying." + name, value);
  return hex(common::sha256(canonical));
}

std::optional<BootstrapResult> read_bootstrap_cache(const std::filesystem::path &storage_directory,
                                                    const std::string &key, std::string *problem) {
  const auto path = storage_directory / kBootstrapCacheFile;
  auto fail = [&](const std::string &why) -> std::optional<BootstrapResult> {
    if (problem != nullptr)
      *problem = path.string() + ": " + why + "; the Collector is bootstrapped again";
    return std::nullopt;
  };
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error == std::errc::no_such_file_or_directory)
    return std::nullopt;
  if (error)
    return fail(error.message());
  if (size > kMaxBootstrapCacheBytes)
    return fail("larger than " + std::to_string(kMaxBootstrapCacheBytes) + " bytes");
  try {
    const auto text = storage::read_file_if_exists(path);
    if (!text)
      return std::nullopt;
    const YAML::Node cache = YAML::Load(*text);
    if (!cache.IsMap() || !cache["key"] || !cache["agent_description"] ||
        !cache["available_components"] || !cache["format"]) {
      return fail("not a bootstrap cache (a key is missing)");
    }
    if (cache["format"].as<int>() != kFormatVersion)
      return fail("format " + cache["format"].as<std::string>() + " is not " +
                  std::to_string(kFormatVersion));
    if (cache["key"].as<std::string>() != key)
      return std::nullopt;  // another executable or other settings: not a problem
    BootstrapResult result;
    result.agent_description = bytes_of(cache["agent_description"]);
    result.available_components = bytes_of(cache["available_components"]);
    return result;
  } catch (const YAML::Exception &yaml_error) {
    return fail("line " + std::to_string(yaml_error.mark.line + 1) + ": " + yaml_error.msg);
  } catch (const std::runtime_error &read_error) {
    return fail(read_error.what());
  }
}

void write_bootstrap_cache(const std::filesystem::path &storage_directory, const std::string &key,
                           const BootstrapResult &result) {
  YAML::Node cache(YAML::NodeType::Map);
  cache["format"] = kFormatVersion;
  cache["key"] = key;
  cache["agent_description"] = binary(result.agent_description);
  cache["available_components"] = binary(result.available_components);
  YAML::Emitter out;
  out << cache;
  storage::write_file_atomically(storage_directory / kBootstrapCacheFile,
                                 std::string(out.c_str()) + "\n");
}

}  // namespace opsup::collector
