#include "support/opamp_test_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "transport/server_transport.hpp"

namespace opsup::testing {

struct OpampTestServer::State : transport::ServerHandler {
  boost::asio::io_context io;
  std::unique_ptr<transport::ServerTransport> server;
  std::thread thread;

  mutable std::mutex mutex;
  std::condition_variable changed;
  std::vector<AgentToServer> messages;
  std::vector<std::string> pending;  // serialized ServerToAgent waiting for a request
  std::map<uint64_t, std::shared_ptr<transport::ServerConnection>> open;  // io thread only
  std::size_t opened = 0;
  std::size_t open_count = 0;
  std::vector<transport::RequestInfo> requests;

  void on_connected(const std::shared_ptr<transport::ServerConnection> &connection) override {
    std::lock_guard lock(mutex);
    if (connection->is_websocket())
      open[connection->id()] = connection;
    ++opened;
    open_count = open.size();
    requests.push_back(connection->request());
    changed.notify_all();
  }

  void on_message(const std::shared_ptr<transport::ServerConnection> &connection,
                  std::string_view data) override {
    AgentToServer message;
    std::vector<std::string> replies;
    {
      std::lock_guard lock(mutex);
      if (message.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
        messages.push_back(message);
      }
      replies.swap(pending);
      changed.notify_all();
    }
    if (!connection->is_websocket()) {
      // HTTP: one reply per request; extra queued messages wait for the next poll.
      if (!replies.empty()) {
        connection->send(replies.front());
        std::lock_guard lock(mutex);
        pending.insert(pending.begin(), replies.begin() + 1, replies.end());
      }
      return;
    }
    for (auto &reply : replies)
      connection->send(std::move(reply));
  }

  void on_closed(const std::shared_ptr<transport::ServerConnection> &connection,
                 std::string_view) override {
    std::lock_guard lock(mutex);
    open.erase(connection->id());
    open_count = open.size();
    changed.notify_all();
  }
};

OpampTestServer::OpampTestServer(OpampTestServerOptions options)
    : state_(std::make_shared<State>()) {
  transport::ServerOptions server_options;
  server_options.unix_socket_path = options.unix_socket_path;
  server_options.tls = options.tls;
  server_options.port = options.port;
  state_->server = transport::ServerTransport::create(state_->io, server_options, *state_);
  state_->server->start();
  state_->thread = std::thread([state = state_] {
    auto guard = boost::asio::make_work_guard(state->io);
    state->io.run();
  });
}

OpampTestServer::~OpampTestServer() {
  std::promise<void> stopped;
  boost::asio::post(state_->io, [this, &stopped] {
    state_->server->stop();
    {
      std::lock_guard lock(state_->mutex);
      state_->open.clear();
    }
    stopped.set_value();
  });
  stopped.get_future().wait_for(std::chrono::seconds(10));
  state_->io.stop();
  state_->thread.join();
  state_->server.reset();
}

std::string OpampTestServer::ws_url() const {
  return state_->server->websocket_url();
}
std::string OpampTestServer::http_url() const {
  return state_->server->http_url();
}
uint16_t OpampTestServer::port() const {
  return state_->server->port();
}

std::vector<OpampTestServer::AgentToServer> OpampTestServer::messages() const {
  std::lock_guard lock(state_->mutex);
  return state_->messages;
}

std::optional<OpampTestServer::AgentToServer> OpampTestServer::wait_for_message(
    const std::function<bool(const AgentToServer &)> &predicate,
    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(state_->mutex);
  size_t checked = 0;
  while (true) {
    for (; checked < state_->messages.size(); ++checked) {
      if (predicate(state_->messages[checked]))
        return state_->messages[checked];
    }
    if (state_->changed.wait_until(lock, deadline) == std::cv_status::timeout) {
      for (; checked < state_->messages.size(); ++checked) {
        if (predicate(state_->messages[checked]))
          return state_->messages[checked];
      }
      return std::nullopt;
    }
  }
}

void OpampTestServer::send(const ServerToAgent &message) {
  std::string serialized = message.SerializeAsString();
  boost::asio::post(state_->io, [state = state_, serialized = std::move(serialized)] {
    std::vector<std::shared_ptr<transport::ServerConnection>> targets;
    {
      std::lock_guard lock(state->mutex);
      for (auto &[id, connection] : state->open)
        targets.push_back(connection);
      if (targets.empty()) {
        state->pending.push_back(serialized);
        return;
      }
    }
    for (auto &connection : targets)
      connection->send(serialized);
  });
}

std::size_t OpampTestServer::connections_opened() const {
  std::lock_guard lock(state_->mutex);
  return state_->opened;
}

std::size_t OpampTestServer::open_connections() const {
  std::lock_guard lock(state_->mutex);
  return state_->open_count;
}

std::vector<std::string> OpampTestServer::request_headers(const std::string &name) const {
  std::lock_guard lock(state_->mutex);
  std::vector<std::string> values;
  for (const auto &request : state_->requests) {
    if (auto value = request.header(name))
      values.push_back(*value);
  }
  return values;
}

}  // namespace opsup::testing
