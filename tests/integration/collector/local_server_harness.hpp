// Test harness for core/collector's LocalOpampServer: the server on its own io_context
// thread, with everything it reports recorded for condition waits; and a raw OpAMP client
// (core/transport's ClientTransport) on another thread, to play a second or foreign peer.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collector/local_opamp_server.hpp"
#include "opamp.pb.h"
#include "transport/transport_types.hpp"

namespace opsup::testing {

inline constexpr std::chrono::milliseconds kGenerousTimeout{60000};

class LocalServerHarness {
 public:
  using AgentToServer = opamp::proto::v1::AgentToServer;

  // Constructs and starts the server (throws as start() does), then runs its io_context.
  explicit LocalServerHarness(collector::LocalOpampServerOptions options);
  ~LocalServerHarness();
  LocalServerHarness(const LocalServerHarness &) = delete;
  LocalServerHarness &operator=(const LocalServerHarness &) = delete;

  // Runs `work` on the server's io_context thread and waits for it.
  void on_io(const std::function<void(collector::LocalOpampServer &)> &work);

  // The first message received (from the start) matching `predicate`, or nullopt.
  std::optional<AgentToServer> wait_for_message(
      const std::function<bool(const AgentToServer &)> &predicate,
      std::chrono::milliseconds timeout = kGenerousTimeout);
  std::size_t message_count() const;
  // Waits until at least `count` connects (disconnects) were reported.
  bool wait_connects(std::size_t count, std::chrono::milliseconds timeout = kGenerousTimeout);
  bool wait_disconnects(std::size_t count, std::chrono::milliseconds timeout = kGenerousTimeout);
  std::size_t connects() const;
  std::size_t disconnects() const;
  std::vector<std::string> connected_peers() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// A raw OpAMP client: connects at once and sends what it is given.
class RawOpampClient {
 public:
  using ServerToAgent = opamp::proto::v1::ServerToAgent;

  // `endpoint` ws:// or http://; `unix_socket_path` optional.
  RawOpampClient(const std::string &endpoint, const std::string &unix_socket_path = {});
  ~RawOpampClient();
  RawOpampClient(const RawOpampClient &) = delete;
  RawOpampClient &operator=(const RawOpampClient &) = delete;

  void send(const opamp::proto::v1::AgentToServer &message);
  void send_raw(std::string bytes);  // sent as they are, e.g. not an AgentToServer
  bool wait_connected(std::chrono::milliseconds timeout = kGenerousTimeout);
  // The disconnect (refusal) info, once reported; nullopt at the deadline.
  std::optional<transport::DisconnectInfo> wait_disconnected(
      std::chrono::milliseconds timeout = kGenerousTimeout);
  std::optional<ServerToAgent> wait_for_message(
      const std::function<bool(const ServerToAgent &)> &predicate,
      std::chrono::milliseconds timeout = kGenerousTimeout);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace opsup::testing
