#include "telemetry/internal/metric_store.hpp"

#include <gtest/gtest.h>

namespace opsup::telemetry::internal {
namespace {

TEST(MetricStore, CountersAddPerAttributeSetAndRefuseNegativeDeltas) {
  MetricStore store;
  const auto messages = store.define({"m", "", "1", MetricKind::kCounter, {}});
  store.add(messages, 1, {{"direction", std::string("sent")}});
  store.add(messages, 2, {{"direction", std::string("sent")}});
  store.add(messages, 1, {{"direction", std::string("received")}});
  store.add(messages, -5, {{"direction", std::string("sent")}});
  const auto snapshot = store.snapshot();
  ASSERT_EQ(snapshot.size(), 1u);
  ASSERT_EQ(snapshot[0].points.size(), 2u);
  for (const auto &point : snapshot[0].points) {
    const auto &direction = std::get<std::string>(point.attributes.at(0).value);
    EXPECT_EQ(point.value, direction == "sent" ? 3 : 1);
  }
}

TEST(MetricStore, UpDownCountersHoldTheLastStateAndUntouchedMetricsAreLeftOut) {
  MetricStore store;
  store.define({"unused", "", "1", MetricKind::kCounter, {}});
  const auto health = store.define({"health", "", "1", MetricKind::kUpDownCounter, {}});
  store.set(health, 1);
  store.set(health, 0);
  const auto snapshot = store.snapshot();
  ASSERT_EQ(snapshot.size(), 1u);
  EXPECT_EQ(snapshot[0].name, "health");
  EXPECT_EQ(snapshot[0].points.at(0).value, 0);
}

TEST(MetricStore, HistogramsCountIntoExplicitBucketsWithSumMinAndMax) {
  MetricStore store;
  const auto latency = store.define({"latency", "", "s", MetricKind::kHistogram, {1, 0.1, 10}});
  for (double value : {0.05, 0.1, 0.5, 20.0})
    store.record(latency, value);
  const auto snapshot = store.snapshot();
  ASSERT_EQ(snapshot.size(), 1u);
  EXPECT_EQ(snapshot[0].bounds, (std::vector<double>{0.1, 1, 10}));  // sorted
  const MetricPoint &point = snapshot[0].points.at(0);
  // (-inf, 0.1], (0.1, 1], (1, 10], (10, +inf)
  EXPECT_EQ(point.bucket_counts, (std::vector<uint64_t>{2, 1, 0, 1}));
  EXPECT_EQ(point.count, 4u);
  EXPECT_DOUBLE_EQ(point.sum, 20.65);
  EXPECT_DOUBLE_EQ(point.min, 0.05);
  EXPECT_DOUBLE_EQ(point.max, 20.0);
}

TEST(MetricStore, CallsOfTheWrongKindOrAnUnknownIndexChangeNothing) {
  MetricStore store;
  const auto counter = store.define({"c", "", "1", MetricKind::kCounter, {}});
  store.record(counter, 1.5);
  store.add(42, 1);
  EXPECT_TRUE(store.snapshot().empty());
}

}  // namespace
}  // namespace opsup::telemetry::internal
