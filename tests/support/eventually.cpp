#include "support/eventually.hpp"

#include <thread>

namespace opsup::testing {

bool eventually(const std::function<bool()> &condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition())
      return true;
    std::this_thread::sleep_for(interval);
  }
  return condition();
}

}  // namespace opsup::testing
