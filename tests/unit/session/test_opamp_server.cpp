#include "test_opamp_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>

namespace opsup::testing {

bool is_heartbeat(const proto::AgentToServer &message) {
  proto::AgentToServer only_identity;
  only_identity.set_instance_uid(message.instance_uid());
  only_identity.set_sequence_num(message.sequence_num());
  only_identity.set_capabilities(message.capabilities());
  return only_identity.SerializeAsString() == message.SerializeAsString();
}

TestOpampServer::TestOpampServer(boost::asio::io_context &io, uint16_t port)
    : io_(io), port_(port) {}

TestOpampServer::~TestOpampServer() {
  stop();
}

void TestOpampServer::create_transport() {
  transport::ServerOptions options;
  options.port = port_;
  transport_ = transport::ServerTransport::create(io_, options, *this);
  transport_->start();
  port_ = transport_->port();
}

void TestOpampServer::start() {
  create_transport();
}

void TestOpampServer::stop() {
  if (transport_) {
    transport_->stop();
    transport_.reset();
  }
  last_connection.reset();
}

void TestOpampServer::restart() {
  stop();
  create_transport();
}

std::string TestOpampServer::ws_url() const {
  return "ws://127.0.0.1:" + std::to_string(port_) + "/v1/opamp";
}

std::string TestOpampServer::http_url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/v1/opamp";
}

proto::ServerToAgent TestOpampServer::default_reply(const proto::AgentToServer &message) {
  proto::ServerToAgent reply;
  reply.set_instance_uid(message.instance_uid());
  reply.set_capabilities(kServerCapabilities);
  return reply;
}

void TestOpampServer::send(const std::shared_ptr<transport::ServerConnection> &connection,
                           const proto::ServerToAgent &message) {
  connection->send(message.SerializeAsString());
}

std::optional<transport::Rejection> TestOpampServer::admit(const transport::RequestInfo &request) {
  std::optional<transport::Rejection> decision;
  if (admit_policy)
    decision = admit_policy(request);
  requests.push_back({Clock::now(), request, decision.has_value()});
  return decision;
}

void TestOpampServer::on_connected(const std::shared_ptr<transport::ServerConnection> &connection) {
  connects.push_back(Clock::now());
  last_connection = connection;
}

void TestOpampServer::on_message(const std::shared_ptr<transport::ServerConnection> &connection,
                                 std::string_view agent_to_server) {
  ReceivedMessage received;
  if (!received.message.ParseFromArray(agent_to_server.data(),
                                       static_cast<int>(agent_to_server.size()))) {
    ADD_FAILURE() << "the test server got an AgentToServer that does not parse";
    return;
  }
  received.at = Clock::now();
  received.connection_id = connection->id();
  received.request = connection->request();
  messages.push_back(received);
  last_connection = connection;
  if (reply_policy) {
    reply_policy(connection, received.message);
  } else {
    send(connection, default_reply(received.message));
  }
}

void TestOpampServer::on_closed(const std::shared_ptr<transport::ServerConnection> &,
                                std::string_view) {
  closes.push_back(Clock::now());
}

bool run_until(boost::asio::io_context &io, const std::function<bool()> &done,
               std::chrono::milliseconds timeout) {
  auto guard = boost::asio::make_work_guard(io);
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline)
      return false;
    if (io.stopped())
      io.restart();
    io.run_one_for(std::chrono::milliseconds(50));
  }
  return true;
}

void run_for(boost::asio::io_context &io, std::chrono::milliseconds duration) {
  const auto deadline = Clock::now() + duration;
  run_until(
      io, [deadline] { return Clock::now() >= deadline; }, duration + std::chrono::seconds(1));
}

}  // namespace opsup::testing
