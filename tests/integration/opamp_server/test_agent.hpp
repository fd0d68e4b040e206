// A scriptable OpAMP agent built on ClientTransport, for the reference server's tests and
// the opamp-test-agent executable. It reports a realistic status, answers what the server
// sends (remote config → APPLIED + effective config, custom message → reply, connection
// settings → ConnectionSettingsStatus, packages → package statuses, ReportFullState → full
// report, ReportAvailableComponents → the full map) and records everything it receives.
// It runs on the given io_context; its public methods may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "opamp.pb.h"
#include "transport/client_transport.hpp"

namespace boost::asio {
class io_context;
}

namespace opsup::testing {

namespace proto = opamp::proto::v1;

struct TestAgentOptions {
  std::string endpoint;      // ws://, wss://, http://, https://
  std::string instance_uid;  // 16 bytes; empty picks a random one
  std::string service_name = "opamp-test-agent";
  uint64_t capabilities = 0;  // 0: every capability the test agent implements
  std::vector<std::string> custom_capabilities{"io.opsup.test.echo"};
  // The first report carries only the components hash (the server should ask for the map).
  bool report_available_components = true;
  bool answer_remote_config = true;
  // The first message on every connection is a full report, as OpAMP clients send it; false:
  // the agent sends only what the test queues (a reconnect that lost its state).
  bool full_report_on_connect = true;
  // sequence_num of the agent's first message (an agent continuing an earlier session).
  uint64_t first_sequence_num = 1;
  std::chrono::milliseconds http_poll_interval{200};
  transport::ClientTlsSettings tls;
};

// Everything the agent received, in order, plus derived counters.
struct TestAgentObservations {
  std::vector<proto::ServerToAgent> messages;
  int connects = 0;
  int disconnects = 0;
  int restarts = 0;
  bool connected = false;
  std::string last_disconnect_reason;
};

class TestAgent {
 public:
  TestAgent(boost::asio::io_context &io, TestAgentOptions options);
  ~TestAgent();
  TestAgent(const TestAgent &) = delete;
  TestAgent &operator=(const TestAgent &) = delete;

  void start();
  // Sends agent_disconnect and closes; blocks the calling thread (not the io thread) until
  // done or `timeout`.
  void stop(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Posts stop without waiting (for use on the io thread).
  void stop_async(std::function<void()> done);

  std::string instance_uid() const;  // 16 bytes (changes when the server assigns one)
  std::string instance_uid_string() const;
  TestAgentObservations observations() const;
  // Counts received messages matching `predicate`.
  std::size_t count_received(
      const std::function<bool(const proto::ServerToAgent &)> &predicate) const;

  // Queues a message: `fill` sets fields; instance_uid, sequence_num and capabilities are set
  // by the agent.
  void send(std::function<void(proto::AgentToServer &)> fill);
  // The next message's sequence_num skips one value (a gap the server should notice).
  void skip_sequence_number();
  // Sends a full status report (as on connect).
  void send_full_state();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Random 16 bytes shaped as a UUIDv7.
std::string random_instance_uid();
std::string uid_to_uuid_string(const std::string &bytes);

}  // namespace opsup::testing
