// A coarse periodic timer that makes the registry forget disconnected agents (plain-HTTP
// agents go quiet without any event, so forgetting cannot rely on disconnects alone).
#pragma once

#include <chrono>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace opsup::opamp_server {

class AgentRegistry;

class AgentSweeper {
 public:
  // Sweeps every forget_disconnected_after / 4, clamped to 1..60 s.
  AgentSweeper(boost::asio::io_context &io, AgentRegistry &registry);
  ~AgentSweeper();
  AgentSweeper(const AgentSweeper &) = delete;
  AgentSweeper &operator=(const AgentSweeper &) = delete;

  void start();
  void stop();

  static std::chrono::milliseconds period_for(std::chrono::seconds forget_after);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace opsup::opamp_server
