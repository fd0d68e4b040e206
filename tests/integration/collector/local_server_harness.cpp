#include "local_server_harness.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "transport/client_transport.hpp"

namespace opsup::testing {
namespace {

// Waits on `changed` until `done()` holds (true) or the deadline (false, after a last check).
bool wait_until(std::unique_lock<std::mutex> &lock, std::condition_variable &changed,
                std::chrono::milliseconds timeout, const std::function<bool()> &done) {
  return changed.wait_for(lock, timeout, done);
}

}  // namespace

struct LocalServerHarness::State {
  boost::asio::io_context io;
  std::unique_ptr<collector::LocalOpampServer> server;
  std::thread thread;

  mutable std::mutex mutex;
  std::condition_variable changed;
  std::vector<AgentToServer> messages;
  std::vector<std::string> peers;
  std::size_t connects = 0;
  std::size_t disconnects = 0;
};

LocalServerHarness::LocalServerHarness(collector::LocalOpampServerOptions options)
    : state_(std::make_shared<State>()) {
  collector::LocalOpampServerCallbacks callbacks;
  State *state = state_.get();
  callbacks.on_connected = [state](const std::string &peer) {
    std::lock_guard lock(state->mutex);
    ++state->connects;
    state->peers.push_back(peer);
    state->changed.notify_all();
  };
  callbacks.on_disconnected = [state](const std::string &, const std::string &) {
    std::lock_guard lock(state->mutex);
    ++state->disconnects;
    state->changed.notify_all();
  };
  callbacks.on_message = [state](const AgentToServer &message) {
    std::lock_guard lock(state->mutex);
    state->messages.push_back(message);
    state->changed.notify_all();
  };
  state_->server = std::make_unique<collector::LocalOpampServer>(state_->io, std::move(options),
                                                                 std::move(callbacks));
  state_->server->start();
  state_->thread = std::thread([state = state_] {
    auto guard = boost::asio::make_work_guard(state->io);
    state->io.run();
  });
}

LocalServerHarness::~LocalServerHarness() {
  on_io([](collector::LocalOpampServer &server) { server.stop(); });
  state_->io.stop();
  state_->thread.join();
  state_->server.reset();
}

void LocalServerHarness::on_io(const std::function<void(collector::LocalOpampServer &)> &work) {
  std::promise<void> done;
  boost::asio::post(state_->io, [&] {
    work(*state_->server);
    done.set_value();
  });
  done.get_future().wait();
}

std::optional<LocalServerHarness::AgentToServer> LocalServerHarness::wait_for_message(
    const std::function<bool(const AgentToServer &)> &predicate,
    std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mutex);
  std::optional<AgentToServer> found;
  std::size_t checked = 0;
  wait_until(lock, state_->changed, timeout, [&] {
    for (; checked < state_->messages.size(); ++checked) {
      if (predicate(state_->messages[checked])) {
        found = state_->messages[checked];
        return true;
      }
    }
    return false;
  });
  return found;
}

std::size_t LocalServerHarness::message_count() const {
  std::lock_guard lock(state_->mutex);
  return state_->messages.size();
}

bool LocalServerHarness::wait_connects(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mutex);
  return wait_until(lock, state_->changed, timeout, [&] { return state_->connects >= count; });
}

bool LocalServerHarness::wait_disconnects(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mutex);
  return wait_until(lock, state_->changed, timeout, [&] { return state_->disconnects >= count; });
}

std::size_t LocalServerHarness::connects() const {
  std::lock_guard lock(state_->mutex);
  return state_->connects;
}

std::size_t LocalServerHarness::disconnects() const {
  std::lock_guard lock(state_->mutex);
  return state_->disconnects;
}

std::vector<std::string> LocalServerHarness::connected_peers() const {
  std::lock_guard lock(state_->mutex);
  return state_->peers;
}

struct RawOpampClient::State : transport::ClientTransportHandler {
  boost::asio::io_context io;
  std::unique_ptr<transport::ClientTransport> client;
  std::thread thread;

  std::mutex mutex;
  std::condition_variable changed;
  bool connected = false;
  std::optional<transport::DisconnectInfo> disconnected;
  std::vector<ServerToAgent> received;
  std::deque<std::string> outgoing;  // io thread only

  void on_connected() override {
    std::lock_guard lock(mutex);
    connected = true;
    changed.notify_all();
  }
  void on_message(std::string_view data) override {
    ServerToAgent message;
    if (!message.ParseFromArray(data.data(), static_cast<int>(data.size())))
      return;
    std::lock_guard lock(mutex);
    received.push_back(std::move(message));
    changed.notify_all();
  }
  void on_disconnected(const transport::DisconnectInfo &info) override {
    std::lock_guard lock(mutex);
    disconnected = info;
    changed.notify_all();
  }
  std::optional<std::string> next_message() override {
    if (outgoing.empty())
      return std::nullopt;
    std::string next = std::move(outgoing.front());
    outgoing.pop_front();
    return next;
  }
};

RawOpampClient::RawOpampClient(const std::string &endpoint, const std::string &unix_socket_path)
    : state_(std::make_shared<State>()) {
  transport::ClientOptions options;
  options.endpoint = endpoint;
  options.unix_socket_path = unix_socket_path;
  options.connect_timeout = std::chrono::seconds(30);
  state_->client = transport::ClientTransport::create(state_->io, options, *state_);
  state_->client->connect();
  state_->thread = std::thread([state = state_] {
    auto guard = boost::asio::make_work_guard(state->io);
    state->io.run();
  });
}

RawOpampClient::~RawOpampClient() {
  std::promise<void> done;
  boost::asio::post(state_->io, [&] {
    state_->client->abort();
    done.set_value();
  });
  done.get_future().wait();
  state_->io.stop();
  state_->thread.join();
  state_->client.reset();
}

void RawOpampClient::send(const opamp::proto::v1::AgentToServer &message) {
  send_raw(message.SerializeAsString());
}

void RawOpampClient::send_raw(std::string bytes) {
  boost::asio::post(state_->io, [state = state_, data = std::move(bytes)] {
    state->outgoing.push_back(data);
    state->client->notify_pending();
  });
}

bool RawOpampClient::wait_connected(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mutex);
  return wait_until(lock, state_->changed, timeout,
                    [&] { return state_->connected || state_->disconnected.has_value(); }) &&
         state_->connected;
}

std::optional<transport::DisconnectInfo> RawOpampClient::wait_disconnected(
    std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mutex);
  wait_until(lock, state_->changed, timeout, [&] { return state_->disconnected.has_value(); });
  return state_->disconnected;
}

std::optional<RawOpampClient::ServerToAgent> RawOpampClient::wait_for_message(
    const std::function<bool(const ServerToAgent &)> &predicate,
    std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mutex);
  std::optional<ServerToAgent> found;
  wait_until(lock, state_->changed, timeout, [&] {
    for (const auto &message : state_->received) {
      if (predicate(message)) {
        found = message;
        return true;
      }
    }
    return false;
  });
  return found;
}

}  // namespace opsup::testing
