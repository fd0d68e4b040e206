#include "telemetry/supervisor_telemetry.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <random>

#include "common/log_throttle.hpp"
#include "common/logging.hpp"
#include "telemetry/internal/batch_exporter.hpp"
#include "telemetry/internal/log_record_sink.hpp"
#include "telemetry/internal/metric_store.hpp"
#include "telemetry/internal/otlp_encoding.hpp"
#include "telemetry/internal/otlp_post.hpp"

namespace opsup::telemetry {
namespace {

using internal::LogRecord;
using internal::MetricKind;
using internal::SpanRecord;

constexpr const char *kScopeName = "opamp-supervisor";

uint64_t now_unix_nano() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// The metric table: the Metric enum's order.
std::vector<internal::MetricDefinition> metric_definitions() {
  const std::vector<double> seconds{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
  return {
      {"supervisor.agent.health_status",
       "1 while the agent (the Collector) is healthy, else 0",
       "1",
       MetricKind::kUpDownCounter,
       {}},
      {"supervisor.agent.fallback_status",
       "1 while the Collector runs on the startup fallback config, else 0",
       "1",
       MetricKind::kUpDownCounter,
       {}},
      {"supervisor.collector.restarts",
       "Collector starts after the first one",
       "{restart}",
       MetricKind::kCounter,
       {}},
      {"supervisor.collector.crashes",
       "Collector exits the supervisor did not ask for",
       "{crash}",
       MetricKind::kCounter,
       {}},
      {"supervisor.config.applies",
       "Remote configs applied, by outcome (applied, failed)",
       "{config}",
       MetricKind::kCounter,
       {}},
      {"supervisor.config.apply.duration",
       "Time from receiving a remote config to its APPLIED or FAILED status", "s",
       MetricKind::kHistogram, seconds},
      {"supervisor.opamp.connection.status",
       "1 while connected to the OpAMP server, else 0",
       "1",
       MetricKind::kUpDownCounter,
       {}},
      {"supervisor.opamp.reconnects",
       "Connections to the OpAMP server after the first one",
       "{connection}",
       MetricKind::kCounter,
       {}},
      {"supervisor.opamp.connection.failures",
       "Failed attempts to connect to the OpAMP server",
       "{attempt}",
       MetricKind::kCounter,
       {}},
      {"supervisor.opamp.messages",
       "OpAMP messages exchanged with the server, by direction (received, sent)",
       "{message}",
       MetricKind::kCounter,
       {}},
      {"supervisor.modules.load_failures",
       "Capability modules refused at load or failed to be created or started",
       "{module}",
       MetricKind::kCounter,
       {}},
  };
}

Attributes one_attribute(std::string_view key, std::string_view value) {
  if (key.empty())
    return {};
  return {{std::string(key), std::string(value)}};
}

}  // namespace

struct SupervisorTelemetry::Impl : std::enable_shared_from_this<Impl> {
  boost::asio::io_context &io;
  TelemetrySettings settings;
  internal::Origin origin;
  internal::MetricStore metrics;
  std::size_t dropped_metric = 0;
  std::shared_ptr<internal::BatchExporter<SpanRecord>> spans;
  std::shared_ptr<internal::BatchExporter<LogRecord>> logs;
  std::shared_ptr<internal::LogRecordSink> log_sink;
  boost::asio::steady_timer metrics_timer;
  bool metrics_in_flight = false;
  uint64_t metrics_failed = 0;
  const uint64_t start_unix_nano = now_unix_nano();
  std::mt19937_64 random{std::random_device{}()};
  common::LogThrottle failure_log{std::chrono::seconds(30), 1};

  Impl(boost::asio::io_context &io_context, TelemetrySettings telemetry_settings)
      : io(io_context), settings(std::move(telemetry_settings)), metrics_timer(io_context) {}

  void log_failure(const char *signal, std::size_t count, const std::string &error,
                   uint64_t total) {
    uint64_t suppressed = 0;
    if (!failure_log.admit(suppressed))
      return;
    spdlog::warn("Own telemetry: could not export {} {} ({}); dropped, {} {} dropped so far{}",
                 count, signal, error, total, signal,
                 suppressed > 0
                     ? " (" + std::to_string(suppressed) + " similar messages suppressed)"
                     : std::string());
  }

  // The drop counters live in the exporters (log records are dropped on any thread);
  // they are copied into the metric before each snapshot.
  void update_drop_metric() {
    auto set = [this](std::string_view signal, std::string_view reason, uint64_t value) {
      if (value == 0)
        return;
      metrics.set(dropped_metric, static_cast<int64_t>(value),
                  {{"signal", std::string(signal)}, {"reason", std::string(reason)}});
    };
    if (spans) {
      set("traces", "queue_full", spans->dropped_queue_full());
      set("traces", "export_failed", spans->dropped_export_failed());
    }
    if (logs) {
      set("logs", "queue_full", logs->dropped_queue_full());
      set("logs", "export_failed", logs->dropped_export_failed());
    }
    set("metrics", "export_failed", metrics_failed);
  }

  void arm_metrics_timer() {
    metrics_timer.expires_after(settings.metrics->interval);
    metrics_timer.async_wait([weak = weak_from_this()](boost::system::error_code error) {
      auto self = weak.lock();
      if (!self || error)
        return;
      self->export_metrics([] {});
      self->arm_metrics_timer();
    });
  }

  void export_metrics(std::function<void()> done) {
    if (metrics_in_flight) {
      done();
      return;
    }
    update_drop_metric();
    const std::vector<internal::MetricSnapshot> snapshot = metrics.snapshot();
    if (snapshot.empty()) {
      done();
      return;
    }
    metrics_in_flight = true;
    internal::post_otlp(
        io, settings.metrics->target,
        internal::encode_metrics(origin, snapshot, start_unix_nano, now_unix_nano()),
        [weak = weak_from_this(), done = std::move(done)](const std::string &error) {
          if (auto self = weak.lock()) {
            self->metrics_in_flight = false;
            if (!error.empty()) {
              ++self->metrics_failed;
              self->log_failure("metric snapshots", 1, error, self->metrics_failed);
            }
          }
          done();
        });
  }

  void start() {
    for (auto &definition : metric_definitions())
      metrics.define(std::move(definition));
    dropped_metric = metrics.define({"supervisor.telemetry.dropped",
                                     "Own telemetry not exported, by signal (logs, traces, "
                                     "metrics) and reason (queue_full, export_failed)",
                                     "{record}",
                                     MetricKind::kCounter,
                                     {}});
    std::weak_ptr<Impl> weak = weak_from_this();
    if (settings.traces) {
      spans = std::make_shared<internal::BatchExporter<SpanRecord>>(
          io, *settings.traces,
          [this](std::span<const SpanRecord> batch) {
            return internal::encode_spans(origin, batch);
          },
          [weak](std::size_t count, const std::string &error) {
            if (auto self = weak.lock())
              self->log_failure("spans", count, error, self->spans->dropped_export_failed());
          });
    }
    if (settings.logs) {
      logs = std::make_shared<internal::BatchExporter<LogRecord>>(
          io, *settings.logs,
          [this](std::span<const LogRecord> batch) { return internal::encode_logs(origin, batch); },
          [weak](std::size_t count, const std::string &error) {
            if (auto self = weak.lock())
              self->log_failure("log records", count, error, self->logs->dropped_export_failed());
          });
      log_sink = std::make_shared<internal::LogRecordSink>(
          [exporter = logs](LogRecord record) { exporter->push(std::move(record)); });
      common::add_extra_log_sink(log_sink);
    }
    if (settings.metrics)
      arm_metrics_timer();
  }

  void stop() {
    if (log_sink) {
      common::remove_extra_log_sink(log_sink);
      log_sink->detach();
      log_sink.reset();
    }
    metrics_timer.cancel();
    if (spans)
      spans->stop();
    if (logs)
      logs->stop();
  }

  template <std::size_t N>
  void fill_random(std::array<uint8_t, N> &id) {
    for (std::size_t i = 0; i < N; i += 8) {
      const uint64_t value = random();
      for (std::size_t j = 0; j < 8 && i + j < N; ++j)
        id[i + j] = static_cast<uint8_t>(value >> (8 * j));
    }
  }
};

SupervisorTelemetry::SupervisorTelemetry(boost::asio::io_context &io, TelemetrySettings settings,
                                         const ResourceDefaults &defaults) {
  if (!settings.any())
    return;  // off: no exporter, no timer, no sink
  impl_ = std::make_shared<Impl>(io, std::move(settings));
  Attributes resource{{"service.name", std::string("opamp-supervisor")},
                      {"service.instance.id", defaults.instance_uid}};
  if (!defaults.version.empty())
    resource.push_back({"service.version", defaults.version});
  for (const Attribute &configured : impl_->settings.resource) {
    auto same = [&configured](const Attribute &a) { return a.key == configured.key; };
    if (auto it = std::find_if(resource.begin(), resource.end(), same); it != resource.end())
      it->value = configured.value;
    else
      resource.push_back(configured);
  }
  impl_->origin = {std::move(resource), impl_->settings.schema_url, kScopeName, defaults.version};
  impl_->start();
}

SupervisorTelemetry::~SupervisorTelemetry() {
  if (impl_)
    impl_->stop();
}

void SupervisorTelemetry::add(Metric metric, int64_t delta, std::string_view attribute_key,
                              std::string_view attribute_value) {
  if (impl_ && impl_->settings.metrics) {
    impl_->metrics.add(static_cast<std::size_t>(metric), delta,
                       one_attribute(attribute_key, attribute_value));
  }
}

void SupervisorTelemetry::set(Metric metric, int64_t value) {
  if (impl_ && impl_->settings.metrics)
    impl_->metrics.set(static_cast<std::size_t>(metric), value);
}

void SupervisorTelemetry::record(Metric metric, double value, std::string_view attribute_key,
                                 std::string_view attribute_value) {
  if (impl_ && impl_->settings.metrics) {
    impl_->metrics.record(static_cast<std::size_t>(metric), value,
                          one_attribute(attribute_key, attribute_value));
  }
}

bool SupervisorTelemetry::traces_enabled() const {
  return impl_ && impl_->spans;
}

SpanHandle SupervisorTelemetry::start_span(std::string_view name, const SpanHandle *parent) {
  SpanHandle span;
  if (!traces_enabled())
    return span;
  span.name = std::string(name);
  span.start_unix_nano = now_unix_nano();
  if (parent != nullptr && parent->active) {
    span.trace_id = parent->trace_id;
    span.parent_span_id = parent->span_id;
  } else {
    impl_->fill_random(span.trace_id);
  }
  impl_->fill_random(span.span_id);
  span.active = true;
  return span;
}

namespace {

SpanRecord finished(SpanHandle &span) {
  SpanRecord record;
  record.trace_id = span.trace_id;
  record.span_id = span.span_id;
  record.parent_span_id = span.parent_span_id;
  record.name = std::move(span.name);
  record.start_unix_nano = span.start_unix_nano;
  record.end_unix_nano = now_unix_nano();
  span.active = false;
  return record;
}

}  // namespace

void SupervisorTelemetry::end_span(SpanHandle &span, std::string_view error) {
  if (!span.active || !traces_enabled())
    return;
  SpanRecord record = finished(span);
  record.status = error.empty() ? internal::SpanStatus::kOk : internal::SpanStatus::kError;
  record.status_message = std::string(error);
  impl_->spans->push(std::move(record));
}

void SupervisorTelemetry::end_span_unset(SpanHandle &span) {
  if (!span.active || !traces_enabled())
    return;
  impl_->spans->push(finished(span));
}

void SupervisorTelemetry::shutdown(std::chrono::milliseconds within, std::function<void()> done) {
  if (!impl_) {
    done();
    return;
  }
  // Called once when every export answered or at the deadline, whichever is first.
  struct Wait {
    std::function<void()> done;
    int pending = 0;
    std::unique_ptr<boost::asio::steady_timer> deadline;
    void finish() {
      if (!done)
        return;
      deadline->cancel();
      auto call = std::move(done);
      done = nullptr;
      call();
    }
    void one_done() {
      if (--pending == 0)
        finish();
    }
  };
  auto wait = std::make_shared<Wait>();
  wait->done = std::move(done);
  wait->pending = 1;  // released below, after every flush has started
  wait->deadline = std::make_unique<boost::asio::steady_timer>(impl_->io, within);
  wait->deadline->async_wait([wait](boost::system::error_code error) {
    if (!error)
      wait->finish();
  });
  Impl &impl = *impl_;
  // Stop teeing logs first: the records logged while flushing stay local.
  if (impl.log_sink) {
    common::remove_extra_log_sink(impl.log_sink);
    impl.log_sink->detach();
    impl.log_sink.reset();
  }
  if (impl.spans) {
    ++wait->pending;
    impl.spans->flush([wait] { wait->one_done(); });
  }
  if (impl.logs) {
    ++wait->pending;
    impl.logs->flush([wait] { wait->one_done(); });
  }
  if (impl.settings.metrics) {
    impl.metrics_timer.cancel();
    ++wait->pending;
    impl.export_metrics([wait] { wait->one_done(); });
  }
  wait->one_done();
}

}  // namespace opsup::telemetry
