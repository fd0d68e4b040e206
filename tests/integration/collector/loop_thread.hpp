// An io_context running on its own thread, for driving loop-bound objects (CollectorProcess,
// CollectorRunner) from a test, and a thread-safe record of what they reported.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace opsup::collector::testing {

class LoopThread {
 public:
  LoopThread() : work_(boost::asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~LoopThread() {
    work_.reset();
    thread_.join();
  }
  boost::asio::io_context &io() { return io_; }

  // Runs `task` on the loop and waits for it; its exception is rethrown here.
  void on_loop(const std::function<void()> &task) {
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      try {
        task();
        done.set_value();
      } catch (...) {
        done.set_exception(std::current_exception());
      }
    });
    done.get_future().get();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

template <class T>
class Recorder {
 public:
  void add(T item) {
    std::lock_guard lock(mutex_);
    items_.push_back(std::move(item));
    changed_.notify_all();
  }
  // The first recorded item (from index `from` on) matching `predicate`, or nullopt at the
  // deadline.
  std::optional<T> wait_for(const std::function<bool(const T &)> &predicate,
                            std::chrono::milliseconds timeout, std::size_t from = 0) {
    std::unique_lock lock(mutex_);
    std::optional<T> found;
    changed_.wait_for(lock, timeout, [&] {
      for (std::size_t i = from; i < items_.size(); ++i) {
        if (predicate(items_[i])) {
          found = items_[i];
          return true;
        }
      }
      return false;
    });
    return found;
  }
  std::vector<T> all() const {
    std::lock_guard lock(mutex_);
    return items_;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<T> items_;
};

}  // namespace opsup::collector::testing
