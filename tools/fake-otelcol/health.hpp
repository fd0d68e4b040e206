// The ComponentHealth tree the opamp extension reports: an aggregate per pipeline
// ("pipeline:traces" -> "receiver:otlp", ...) and for "extensions", like pkg/status.
#pragma once

#include <cstdint>

#include "service_model.hpp"

namespace opamp::proto::v1 {
class ComponentHealth;
}

namespace opsup::fakeotelcol {

enum class HealthPhase {
  kInitial,   // before any component started: {healthy: false}
  kStarting,  // every component StatusStarting
  kReady,     // every component StatusOK, unless the fault extension says never_healthy
};

void build_health(const ServiceModel &model, HealthPhase phase, uint64_t start_time_unix_nano,
                  uint64_t now_unix_nano, opamp::proto::v1::ComponentHealth *out);

uint64_t now_unix_nano();

}  // namespace opsup::fakeotelcol
