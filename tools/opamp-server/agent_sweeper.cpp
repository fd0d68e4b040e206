#include "agent_sweeper.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>

#include "agent_registry.hpp"

namespace opsup::opamp_server {

struct AgentSweeper::Impl : std::enable_shared_from_this<Impl> {
  Impl(boost::asio::io_context &io, AgentRegistry &registry)
      : timer(io),
        registry(registry),
        period(period_for(registry.options().forget_disconnected_after)) {}

  void arm() {
    timer.expires_after(period);
    timer.async_wait([weak = weak_from_this()](const boost::system::error_code &error) {
      auto self = weak.lock();
      if (error || !self || self->stopped)
        return;
      self->registry.forget_disconnected(std::chrono::system_clock::now());
      self->arm();
    });
  }

  boost::asio::steady_timer timer;
  AgentRegistry &registry;
  std::chrono::milliseconds period;
  bool stopped = false;
};

AgentSweeper::AgentSweeper(boost::asio::io_context &io, AgentRegistry &registry)
    : impl_(std::make_shared<Impl>(io, registry)) {}

AgentSweeper::~AgentSweeper() {
  stop();
}

void AgentSweeper::start() {
  impl_->stopped = false;
  impl_->arm();
}

void AgentSweeper::stop() {
  impl_->stopped = true;
  impl_->timer.cancel();
}

std::chrono::milliseconds AgentSweeper::period_for(std::chrono::seconds forget_after) {
  using std::chrono::milliseconds;
  return std::clamp<milliseconds>(std::chrono::duration_cast<milliseconds>(forget_after) / 4,
                                  milliseconds(1000), milliseconds(60000));
}

}  // namespace opsup::opamp_server
