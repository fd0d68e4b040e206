#include "stored_status.hpp"

#include <yaml-cpp/yaml.h>

namespace opsup::connection_settings {
namespace {

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0)
    return std::nullopt;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  std::string bytes;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int high = digit(hex[i]);
    const int low = digit(hex[i + 1]);
    if (high < 0 || low < 0)
      return std::nullopt;
    bytes.push_back(static_cast<char>(high * 16 + low));
  }
  return bytes;
}

}  // namespace

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0xF]);
  }
  return hex;
}

std::string status_yaml(const StoredStatus &status) {
  YAML::Emitter out;
  out << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "status" << YAML::Value << status.status;
  out << YAML::Key << "last_connection_settings_hash" << YAML::Value << YAML::DoubleQuoted
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
    status.status = node["status"] ? node["status"].as<int>() : 0;
    if (status.status < 0 || status.status > 3)
      return std::nullopt;
    if (const YAML::Node hash = node["last_connection_settings_hash"]; hash) {
      auto bytes = from_hex(hash.as<std::string>());
      if (!bytes)
        return std::nullopt;
      status.hash = std::move(*bytes);
    }
    if (const YAML::Node message = node["error_message"]; message)
      status.error_message = message.as<std::string>();
    return status;
  } catch (const YAML::Exception &) {
    return std::nullopt;
  }
}

}  // namespace opsup::connection_settings
