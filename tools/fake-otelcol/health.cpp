#include "health.hpp"

#include <chrono>
#include <string>

#include "opamp.pb.h"

namespace opsup::fakeotelcol {
namespace {

namespace pb = opamp::proto::v1;

constexpr const char *kStatusStarting = "StatusStarting";
constexpr const char *kStatusOk = "StatusOK";
constexpr const char *kStatusRecoverable = "StatusRecoverableError";
constexpr const char *kNeverHealthyError = "fault extension: configured to never become healthy";

std::string type_of(const std::string &id) {
  return id.substr(0, id.find('/'));
}

void set_status(pb::ComponentHealth *health, const char *status, uint64_t now,
                const std::string &error = "") {
  health->set_status(status);
  health->set_healthy(std::string(status) == kStatusOk);
  health->set_status_time_unix_nano(now);
  if (!error.empty())
    health->set_last_error(error);
}

// An aggregate takes the worst status of its children, and that child's error.
void aggregate(pb::ComponentHealth *parent, uint64_t now) {
  const char *status = kStatusOk;
  std::string error;
  for (const auto &[name, child] : parent->component_health_map()) {
    if (child.status() == kStatusRecoverable) {
      status = kStatusRecoverable;
      error = child.last_error();
    } else if (child.status() == kStatusStarting && status == std::string(kStatusOk)) {
      status = kStatusStarting;
    }
  }
  set_status(parent, status, now, error);
}

}  // namespace

uint64_t now_unix_nano() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

void build_health(const ServiceModel &model, HealthPhase phase, uint64_t start_time_unix_nano,
                  uint64_t now, pb::ComponentHealth *out) {
  out->Clear();
  if (phase == HealthPhase::kInitial) {
    out->set_healthy(false);
    return;
  }
  const bool starting = phase == HealthPhase::kStarting;
  auto leaf = [&](pb::ComponentHealth *parent, const std::string &key, bool faulty) {
    pb::ComponentHealth &node = (*parent->mutable_component_health_map())[key];
    if (starting) {
      set_status(&node, kStatusStarting, now);
    } else if (faulty) {
      set_status(&node, kStatusRecoverable, now, kNeverHealthyError);
    } else {
      set_status(&node, kStatusOk, now);
    }
  };
  auto component_key = [&](const char *kind, const std::string &id) {
    for (const auto &connector : model.connectors) {
      if (connector == id)
        return "connector:" + id;
    }
    return std::string(kind) + ":" + id;
  };
  for (const auto &pipeline : model.pipelines) {
    pb::ComponentHealth &node = (*out->mutable_component_health_map())["pipeline:" + pipeline.id];
    for (const auto &id : pipeline.receivers)
      leaf(&node, component_key("receiver", id), false);
    for (const auto &id : pipeline.processors)
      leaf(&node, "processor:" + id, false);
    for (const auto &id : pipeline.exporters)
      leaf(&node, component_key("exporter", id), false);
    aggregate(&node, now);
  }
  if (!model.extensions.empty()) {
    pb::ComponentHealth &node = (*out->mutable_component_health_map())["extensions"];
    for (const auto &id : model.extensions) {
      const bool faulty = type_of(id) == "fault" && model.fault && model.fault->never_healthy;
      leaf(&node, "extension:" + id, faulty);
    }
    aggregate(&node, now);
  }
  aggregate(out, now);
  if (out->healthy())
    out->set_start_time_unix_nano(start_time_unix_nano);
}

}  // namespace opsup::fakeotelcol
