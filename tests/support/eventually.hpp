// Waiting on a condition with a deadline instead of sleeping and hoping.
#pragma once

#include <chrono>
#include <functional>

namespace opsup::testing {

// Calls `condition` every `interval` until it returns true (-> true) or `timeout` passes
// (-> false, after one last check).
bool eventually(const std::function<bool()> &condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(50));

}  // namespace opsup::testing
