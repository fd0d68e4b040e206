#include "checker.hpp"

#include <optional>
#include <stdexcept>
#include <string>

#include "component_rules.hpp"
#include "endpoint_rules.hpp"
#include "paths.hpp"

namespace opsup::config_policy {
namespace {

struct Context {
  const Settings &settings;
  std::string kind;
  std::string id;
  std::vector<Violation> &out;

  void add(const std::string &field, const std::string &value, std::optional<std::string> rule) {
    if (rule)
      out.push_back(Violation{kind, id, field, value, std::move(*rule)});
  }
};

bool looks_like_path(const std::string &value) {
  return !value.empty() && (value.front() == '/' || value.front() == '.');
}

// Checks a scalar or a list of scalars as paths.
void check_paths(Context &ctx, const YAML::Node &node, const std::string &field, bool write) {
  const AllowDeny &rules = write ? ctx.settings.write_dirs : ctx.settings.read_dirs;
  const std::string key = write ? "write" : "read";
  if (node.IsScalar()) {
    const std::string value = node.as<std::string>();
    ctx.add(field, value, check_path(value, rules, key));
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      if (node[i].IsScalar()) {
        const std::string value = node[i].as<std::string>();
        ctx.add(field + "[" + std::to_string(i) + "]", value, check_path(value, rules, key));
      }
    }
  }
}

void check_endpoints(Context &ctx, const YAML::Node &node, const std::string &field) {
  const auto &hosts = ctx.settings.allowed_hosts;
  if (node.IsScalar()) {
    const std::string value = node.as<std::string>();
    ctx.add(field, value, check_endpoint(value, hosts));
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      if (node[i].IsScalar()) {
        const std::string value = node[i].as<std::string>();
        ctx.add(field + "[" + std::to_string(i) + "]", value, check_endpoint(value, hosts));
      }
    }
  }
}

// Fields anywhere in a component: TLS files, and endpoints of receivers and exporters.
void walk(Context &ctx, const YAML::Node &node, const std::string &prefix, int depth) {
  if (depth > kMaxDepth) {
    ctx.add(prefix, "", "the nesting limit of " + std::to_string(kMaxDepth) + " levels");
    return;
  }
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i)
      walk(ctx, node[i], prefix + "[" + std::to_string(i) + "]", depth + 1);
    return;
  }
  if (!node.IsMap())
    return;
  const bool network = ctx.kind == "receivers" || ctx.kind == "exporters";
  for (const auto &entry : node) {
    const std::string key = entry.first.Scalar();
    const std::string field = prefix.empty() ? key : prefix + "." + key;
    if (key == "ca_file" || key == "cert_file" || key == "key_file")
      check_paths(ctx, entry.second, field, false);
    else if (network && (key == "endpoint" || key == "endpoints" || key == "url"))
      check_endpoints(ctx, entry.second, field);
    else
      walk(ctx, entry.second, field, depth + 1);
  }
}

void check_component(Context &ctx, const YAML::Node &body) {
  const std::string type = canonical_type(component_type(ctx.id));
  ctx.add("type", component_type(ctx.id), check_component_type(ctx.settings, ctx.kind, type));
  if (!body.IsMap()) {
    return;
  }
  if (ctx.kind == "receivers" && type == "filelog") {
    for (const char *field : {"include", "exclude"})
      if (const YAML::Node node = body[field])
        check_paths(ctx, node, field, false);
    // storage names a storage extension; only a path-like value is a directory itself.
    if (const YAML::Node storage = body["storage"];
        storage && storage.IsScalar() && looks_like_path(storage.Scalar()))
      check_paths(ctx, storage, "storage", true);
  } else if (ctx.kind == "receivers" && type == "hostmetrics") {
    if (const YAML::Node node = body["root_path"])
      check_paths(ctx, node, "root_path", false);
  } else if (ctx.kind == "exporters" && type == "file") {
    if (const YAML::Node node = body["path"])
      check_paths(ctx, node, "path", true);
  } else if (ctx.kind == "extensions" && type == "file_storage") {
    if (const YAML::Node node = body["directory"])
      check_paths(ctx, node, "directory", true);
  }
  walk(ctx, body, "", 0);
}

}  // namespace

std::vector<Violation> check_config(const YAML::Node &config, const Settings &settings) {
  std::vector<Violation> out;
  if (!config.IsMap())
    return out;
  for (std::string_view kind : kKinds) {
    const YAML::Node section = config[std::string(kind)];
    if (!section || !section.IsMap())
      continue;
    for (const auto &entry : section) {
      Context ctx{settings, std::string(kind), entry.first.Scalar(), out};
      check_component(ctx, entry.second);
    }
  }
  return out;
}

YAML::Node parse_config(std::string_view yaml) {
  if (yaml.size() > kMaxConfigBytes)
    throw std::invalid_argument("the Collector config is longer than " +
                                std::to_string(kMaxConfigBytes) + " bytes");
  try {
    return YAML::Load(std::string(yaml));
  } catch (const YAML::Exception &e) {
    throw std::invalid_argument(std::string("the Collector config is not YAML: ") + e.what());
  }
}

}  // namespace opsup::config_policy
