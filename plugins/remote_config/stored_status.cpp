#include "stored_status.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>

namespace opsup::remote_config {

std::string status_yaml(const StoredStatus &status) {
  YAML::Emitter out;
  out << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "status" << YAML::Value << status.status;
  out << YAML::Key << "last_remote_config_hash" << YAML::Value << YAML::DoubleQuoted
      << to_hex(status.hash);
  out << YAML::Key << "error_message" << YAML::Value << YAML::DoubleQuoted << status.error_message;
  out << YAML::EndMap;
  return out.c_str();
}

std::optional<StoredStatus> parse_status_yaml(std::string_view yaml) {
  try {
    const YAML::Node node = YAML::Load(std::string(yaml));
    if (!node.IsMap())
      return std::nullopt;
    StoredStatus status;
    if (node["status"])
      status.status = node["status"].as<int>();
    if (node["last_remote_config_hash"]) {
      auto hash = from_hex(node["last_remote_config_hash"].as<std::string>());
      if (!hash)
        return std::nullopt;
      status.hash = *hash;
    }
    if (node["error_message"] && !node["error_message"].IsNull())
      status.error_message = node["error_message"].as<std::string>();
    return status;
  } catch (const YAML::Exception &) {
    return std::nullopt;
  }
}

void FailedHashes::add(const std::string &hash, const std::string &reason) {
  remove(hash);
  entries_.emplace_back(hash, reason);
  while (entries_.size() > kMaxFailedHashes)
    entries_.pop_front();
}

void FailedHashes::remove(const std::string &hash) {
  std::erase_if(entries_, [&](const auto &entry) { return entry.first == hash; });
}

std::optional<std::string> FailedHashes::reason(const std::string &hash) const {
  for (const auto &[known, why] : entries_) {
    if (known == hash)
      return why;
  }
  return std::nullopt;
}

std::string FailedHashes::to_yaml() const {
  YAML::Emitter out;
  out << YAML::BeginSeq;
  for (const auto &[hash, reason] : entries_) {
    out << YAML::BeginMap << YAML::Key << "hash" << YAML::Value << YAML::DoubleQuoted
        << to_hex(hash) << YAML::Key << "reason" << YAML::Value << YAML::DoubleQuoted << reason
        << YAML::EndMap;
  }
  out << YAML::EndSeq;
  return out.c_str();
}

FailedHashes FailedHashes::from_yaml(std::string_view yaml) {
  FailedHashes hashes;
  try {
    const YAML::Node node = YAML::Load(std::string(yaml));
    if (!node.IsSequence())
      return hashes;
    for (const auto &entry : node) {
      if (!entry.IsMap() || !entry["hash"])
        continue;
      const auto hash = from_hex(entry["hash"].as<std::string>());
      if (!hash || hash->empty())
        continue;
      hashes.add(*hash, entry["reason"] ? entry["reason"].as<std::string>() : std::string());
    }
  } catch (const YAML::Exception &) {
  }
  return hashes;
}

}  // namespace opsup::remote_config
