// A batch processor and its OTLP/HTTP exporter for one signal (spans or log records):
// records wait in a bounded queue; a batch leaves when it is full or when the schedule
// delay after the first queued record passes; one export is in flight at a time. Nothing
// here blocks: a slow or unreachable receiver only fills the queue, and what does not fit,
// or fails to export, is dropped and counted. The timer runs only while records wait.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "telemetry/internal/batch_queue.hpp"
#include "telemetry/internal/otlp_post.hpp"
#include "telemetry/telemetry_settings.hpp"

namespace opsup::telemetry::internal {

template <class T>
class BatchExporter : public std::enable_shared_from_this<BatchExporter<T>> {
 public:
  using Encode = std::function<std::string(std::span<const T>)>;
  // Called on the io_context after a failed export, with the count dropped and the reason.
  using OnFailure = std::function<void(std::size_t dropped, const std::string &error)>;

  BatchExporter(boost::asio::io_context &io, SignalSettings settings, Encode encode,
                OnFailure on_failure)
      : io_(io),
        settings_(std::move(settings)),
        encode_(std::move(encode)),
        on_failure_(std::move(on_failure)),
        queue_(settings_.batch.max_queue_size, settings_.batch.max_export_batch_size),
        timer_(io) {}

  // Any thread. Never blocks on the network.
  void push(T record) {
    const auto pushed = queue_.push(std::move(record));
    if (pushed == BatchQueue<T>::Pushed::kFirst || pushed == BatchQueue<T>::Pushed::kBatchReady) {
      boost::asio::post(io_, [weak = this->weak_from_this(),
                              ready = pushed == BatchQueue<T>::Pushed::kBatchReady] {
        if (auto self = weak.lock())
          ready ? self->export_batch() : self->arm_timer();
      });
    }
  }

  // Exports everything queued in one request and calls `done` when it completes (at once
  // when nothing waits). For shutdown; the caller bounds the wait.
  void flush(std::function<void()> done) {
    stopped_ = true;
    timer_.cancel();
    std::vector<T> all = queue_.take_all();
    if (all.empty()) {
      done();
      return;
    }
    send(std::move(all), std::move(done));
  }

  void stop() {
    stopped_ = true;
    timer_.cancel();
  }

  uint64_t dropped_queue_full() const { return queue_.dropped(); }
  uint64_t dropped_export_failed() const { return failed_; }
  uint64_t exported() const { return exported_; }

 private:
  void arm_timer() {
    if (stopped_ || timer_armed_ || in_flight_)
      return;
    timer_armed_ = true;
    timer_.expires_after(settings_.batch.schedule_delay);
    timer_.async_wait([weak = this->weak_from_this()](boost::system::error_code error) {
      auto self = weak.lock();
      if (!self)
        return;
      self->timer_armed_ = false;
      if (!error)
        self->export_batch();
    });
  }

  void export_batch() {
    if (stopped_ || in_flight_)
      return;  // the export in flight looks again when it completes
    std::vector<T> batch = queue_.take_batch();
    if (batch.empty())
      return;
    timer_.cancel();
    send(std::move(batch), [weak = this->weak_from_this()] {
      if (auto self = weak.lock()) {
        if (self->queue_.batch_ready())
          self->export_batch();
        else if (self->queue_.size() > 0)
          self->arm_timer();
      }
    });
  }

  void send(std::vector<T> batch, std::function<void()> then) {
    in_flight_ = true;
    const std::size_t count = batch.size();
    std::string body = encode_(std::span<const T>(batch));
    post_otlp(
        io_, settings_.target, std::move(body),
        [weak = this->weak_from_this(), count, then = std::move(then)](const std::string &error) {
          auto self = weak.lock();
          if (!self)
            return;
          self->in_flight_ = false;
          if (error.empty()) {
            self->exported_ += count;
          } else {
            self->failed_ += count;
            if (self->on_failure_)
              self->on_failure_(count, error);
          }
          then();
        });
  }

  boost::asio::io_context &io_;
  const SignalSettings settings_;
  const Encode encode_;
  const OnFailure on_failure_;
  BatchQueue<T> queue_;
  boost::asio::steady_timer timer_;
  bool timer_armed_ = false;
  bool in_flight_ = false;
  bool stopped_ = false;
  uint64_t failed_ = 0;
  uint64_t exported_ = 0;
};

}  // namespace opsup::telemetry::internal
