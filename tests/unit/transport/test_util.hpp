// Shared pieces of the transport tests: recording handlers, waiting on conditions with a
// deadline while the io_context runs on the test thread, temporary directories.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"
#include "transport/client_transport.hpp"
#include "transport/server_transport.hpp"

namespace opsup::transport::test {

inline constexpr std::chrono::milliseconds kWaitDeadline{20000};

// Runs the io_context until `done()` holds or the deadline passes; returns done().
bool run_until(boost::asio::io_context &io, const std::function<bool()> &done,
               std::chrono::milliseconds deadline = kWaitDeadline);

class ClientRecorder : public ClientTransportHandler {
 public:
  void on_connected() override { ++connected_count; }
  void on_message(std::string_view message) override { received.emplace_back(message); }
  void on_disconnected(const DisconnectInfo &info) override { disconnects.push_back(info); }
  std::optional<std::string> next_message() override {
    if (outbox.empty())
      return std::nullopt;
    std::string message = std::move(outbox.front());
    outbox.pop_front();
    return message;
  }
  void send(ClientTransport &transport, std::string message) {
    outbox.push_back(std::move(message));
    transport.notify_pending();
  }

  int connected_count = 0;
  std::deque<std::string> outbox;
  std::vector<std::string> received;
  std::vector<DisconnectInfo> disconnects;
};

// Echoes "echo:<payload>" unless `on_message_fn` says otherwise.
class ServerRecorder : public ServerHandler {
 public:
  struct Received {
    uint64_t connection_id;
    std::string payload;
  };
  struct Closed {
    uint64_t connection_id;
    std::string reason;
  };

  std::optional<Rejection> admit(const RequestInfo &request) override {
    admitted.push_back(request);
    auto result = admit_fn ? admit_fn(request) : std::nullopt;
    notify();
    return result;
  }
  void on_connected(const std::shared_ptr<ServerConnection> &connection) override {
    connections.push_back(connection);
    notify();
  }
  void on_message(const std::shared_ptr<ServerConnection> &connection,
                  std::string_view message) override {
    messages.push_back({connection->id(), std::string(message)});
    if (on_message_fn) {
      on_message_fn(connection, message);
    } else {
      connection->send("echo:" + std::string(message));
    }
    notify();
  }
  void on_closed(const std::shared_ptr<ServerConnection> &connection,
                 std::string_view reason) override {
    closed.push_back({connection->id(), std::string(reason)});
    notify();
  }
  void notify() {
    if (on_event)
      on_event();
  }

  std::function<std::optional<Rejection>(const RequestInfo &)> admit_fn;
  std::function<void(const std::shared_ptr<ServerConnection> &, std::string_view)> on_message_fn;
  std::vector<RequestInfo> admitted;
  std::vector<std::shared_ptr<ServerConnection>> connections;
  std::vector<Received> messages;
  std::vector<Closed> closed;
  std::function<void()> on_event;  // after every callback
};

using opsup::testing::TempDir;  // tests/support

// A message of `size` bytes with varied content.
std::string make_payload(std::size_t size, char seed = 'a');

bool contains(const std::string &text, const std::string &part);

}  // namespace opsup::transport::test

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include <boost/asio/post.hpp>

namespace opsup::transport::test {

// A server running on its own io_context thread, for tests that drive a synchronous raw
// client from the test thread.
class ThreadedServer {
 public:
  explicit ThreadedServer(ServerOptions options) {
    server = ServerTransport::create(io, std::move(options), recorder);
    server->start();
    thread_ = std::thread([this] { io.run(); });
  }
  ~ThreadedServer() { stop(); }

  // Runs `work` on the server thread and returns its result.
  template <class Work>
  auto call(Work work) {
    std::packaged_task<decltype(work())()> task(std::move(work));
    auto result = task.get_future();
    boost::asio::post(io, [&task] { task(); });
    return result.get();
  }

  // Waits until `condition` (evaluated on the server thread) holds; false on timeout.
  bool wait_for(std::function<bool()> condition,
                std::chrono::milliseconds deadline = kWaitDeadline) {
    std::unique_lock lock(mutex_);
    bool satisfied = false;
    call([&] {
      recorder.on_event = [&, condition] {
        std::lock_guard event_lock(mutex_);
        if (!satisfied && condition()) {
          satisfied = true;
          changed_.notify_all();
        }
      };
      return 0;
    });
    lock.unlock();
    call([&] {
      recorder.notify();
      return 0;
    });
    lock.lock();
    const bool ok = changed_.wait_for(lock, deadline, [&] { return satisfied; });
    lock.unlock();
    call([&] {
      recorder.on_event = nullptr;
      return 0;
    });
    return ok;
  }

  // Stops the server and joins its thread; the recorder is then safe to read.
  void stop() {
    if (!thread_.joinable())
      return;
    call([this] {
      server->stop();
      return 0;
    });
    io.stop();
    thread_.join();
  }

  boost::asio::io_context io;
  ServerRecorder recorder;
  std::unique_ptr<ServerTransport> server;

 private:
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
};

}  // namespace opsup::transport::test
