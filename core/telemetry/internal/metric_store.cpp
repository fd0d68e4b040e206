#include "telemetry/internal/metric_store.hpp"

#include <algorithm>
#include <variant>

namespace opsup::telemetry::internal {
namespace {

std::string attributes_key(const Attributes &attributes) {
  std::string key;
  for (const Attribute &attribute : attributes) {
    key += attribute.key;
    key += '\x1f';
    if (const auto *text = std::get_if<std::string>(&attribute.value))
      key += *text;
    else if (const auto *flag = std::get_if<bool>(&attribute.value))
      key += *flag ? "true" : "false";
    else if (const auto *number = std::get_if<int64_t>(&attribute.value))
      key += std::to_string(*number);
    else
      key += std::to_string(std::get<double>(attribute.value));
    key += '\x1e';
  }
  return key;
}

}  // namespace

std::size_t MetricStore::define(MetricDefinition definition) {
  std::sort(definition.bounds.begin(), definition.bounds.end());
  entries_.push_back({std::move(definition), {}});
  return entries_.size() - 1;
}

MetricPoint &MetricStore::point(Entry &entry, const Attributes &attributes) {
  auto [it, inserted] = entry.points.try_emplace(attributes_key(attributes));
  if (inserted) {
    it->second.attributes = attributes;
    if (entry.definition.kind == MetricKind::kHistogram)
      it->second.bucket_counts.assign(entry.definition.bounds.size() + 1, 0);
  }
  return it->second;
}

void MetricStore::add(std::size_t metric, int64_t delta, const Attributes &attributes) {
  if (metric >= entries_.size())
    return;
  Entry &entry = entries_[metric];
  if (entry.definition.kind == MetricKind::kHistogram ||
      (entry.definition.kind == MetricKind::kCounter && delta < 0))
    return;
  point(entry, attributes).value += delta;
}

void MetricStore::set(std::size_t metric, int64_t value, const Attributes &attributes) {
  if (metric >= entries_.size() || entries_[metric].definition.kind == MetricKind::kHistogram)
    return;
  point(entries_[metric], attributes).value = value;
}

void MetricStore::record(std::size_t metric, double value, const Attributes &attributes) {
  if (metric >= entries_.size() || entries_[metric].definition.kind != MetricKind::kHistogram)
    return;
  Entry &entry = entries_[metric];
  MetricPoint &p = point(entry, attributes);
  const auto &bounds = entry.definition.bounds;
  // OTLP explicit buckets: bucket i holds (bounds[i-1], bounds[i]]; the last is above all.
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
  ++p.bucket_counts[bucket];
  p.min = p.count == 0 ? value : std::min(p.min, value);
  p.max = p.count == 0 ? value : std::max(p.max, value);
  p.sum += value;
  ++p.count;
}

std::vector<MetricSnapshot> MetricStore::snapshot() const {
  std::vector<MetricSnapshot> result;
  for (const Entry &entry : entries_) {
    if (entry.points.empty())
      continue;
    MetricSnapshot snapshot{entry.definition.name,   entry.definition.description,
                            entry.definition.unit,   entry.definition.kind,
                            entry.definition.bounds, {}};
    for (const auto &[key, point] : entry.points)
      snapshot.points.push_back(point);
    result.push_back(std::move(snapshot));
  }
  return result;
}

}  // namespace opsup::telemetry::internal
