// The cumulative state of the supervisor's metrics, one point per attribute set, read as a
// snapshot by the periodic reader. Used on the io_context thread only.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/internal/signal_data.hpp"

namespace opsup::telemetry::internal {

struct MetricDefinition {
  std::string name;
  std::string description;
  std::string unit;
  MetricKind kind = MetricKind::kCounter;
  std::vector<double> bounds;  // histograms: explicit bucket upper bounds, ascending
};

class MetricStore {
 public:
  // Returns the metric's index for the calls below.
  std::size_t define(MetricDefinition definition);

  // Counters: adds a non-negative delta. Up-down counters: adds any delta.
  void add(std::size_t metric, int64_t delta, const Attributes &attributes = {});
  // Up-down counters (1/0 states): sets the value, as adding the difference would.
  // Counters fed from a total kept elsewhere (drops): sets the cumulative value.
  void set(std::size_t metric, int64_t value, const Attributes &attributes = {});
  // Histograms.
  void record(std::size_t metric, double value, const Attributes &attributes = {});

  // Every metric with at least one point, in definition order.
  std::vector<MetricSnapshot> snapshot() const;

 private:
  struct Entry {
    MetricDefinition definition;
    std::map<std::string, MetricPoint> points;  // by a key made of the attributes
  };
  MetricPoint &point(Entry &entry, const Attributes &attributes);

  std::vector<Entry> entries_;
};

}  // namespace opsup::telemetry::internal
