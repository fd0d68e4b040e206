// An OpAMP server for session tests, built on opsup_transport's ServerTransport in the
// test process: records every AgentToServer and connection event with its arrival time
// and answers like a plain server unless a test installs its own reply policy.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "opamp.pb.h"
#include "transport/server_transport.hpp"

namespace opsup::testing {

namespace proto = ::opamp::proto::v1;
using Clock = std::chrono::steady_clock;

struct ReceivedMessage {
  proto::AgentToServer message;
  Clock::time_point at;
  uint64_t connection_id = 0;
  transport::RequestInfo request;  // the upgrade request (WS) or this POST (HTTP)
};

struct AdmittedRequest {
  Clock::time_point at;
  transport::RequestInfo request;
  bool rejected = false;
};

// True for a message holding only instance_uid, sequence_num and capabilities.
bool is_heartbeat(const proto::AgentToServer &message);

class TestOpampServer final : public transport::ServerHandler {
 public:
  static constexpr uint64_t kServerCapabilities = 0x7;  // AcceptsStatus|OffersRemoteConfig|...

  explicit TestOpampServer(boost::asio::io_context &io, uint16_t port = 0);
  ~TestOpampServer() override;

  void start();
  void stop();
  // Stops, then listens again on the same port.
  void restart();
  uint16_t port() const { return port_; }
  std::string ws_url() const;
  std::string http_url() const;

  // Decides each request before any message; nullopt accepts.
  std::function<std::optional<transport::Rejection>(const transport::RequestInfo &)> admit_policy;
  // Answers one message; the default sends default_reply(). HTTP: reply inside only.
  std::function<void(const std::shared_ptr<transport::ServerConnection> &,
                     const proto::AgentToServer &)>
      reply_policy;

  // instance_uid + capabilities, as a plain server answers a status report.
  static proto::ServerToAgent default_reply(const proto::AgentToServer &message);
  static void send(const std::shared_ptr<transport::ServerConnection> &connection,
                   const proto::ServerToAgent &message);

  std::vector<ReceivedMessage> messages;
  std::vector<AdmittedRequest> requests;
  std::vector<Clock::time_point> connects;
  std::vector<Clock::time_point> closes;
  std::shared_ptr<transport::ServerConnection> last_connection;

  // transport::ServerHandler
  std::optional<transport::Rejection> admit(const transport::RequestInfo &request) override;
  void on_connected(const std::shared_ptr<transport::ServerConnection> &connection) override;
  void on_message(const std::shared_ptr<transport::ServerConnection> &connection,
                  std::string_view agent_to_server) override;
  void on_closed(const std::shared_ptr<transport::ServerConnection> &connection,
                 std::string_view reason) override;

 private:
  void create_transport();

  boost::asio::io_context &io_;
  uint16_t port_;
  std::unique_ptr<transport::ServerTransport> transport_;
};

// Runs `io` until `done()` holds or `timeout` passes; true when it holds.
bool run_until(boost::asio::io_context &io, const std::function<bool()> &done,
               std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Runs `io` for `duration` (to observe that something does NOT happen, or to let a
// time window under test pass).
void run_for(boost::asio::io_context &io, std::chrono::milliseconds duration);

}  // namespace opsup::testing
