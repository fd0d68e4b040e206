#include "test_util.hpp"

#include <stdlib.h>

#include <boost/asio/executor_work_guard.hpp>
#include <stdexcept>

namespace opsup::transport::test {

bool run_until(boost::asio::io_context &io, const std::function<bool()> &done,
               std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  // Keeps run_one_for blocking (instead of returning at once) while nothing is queued.
  auto guard = boost::asio::make_work_guard(io);
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until)
      return false;
    if (io.stopped())
      io.restart();
    io.run_one_for(
        std::min<std::chrono::steady_clock::duration>(until - now, std::chrono::milliseconds(200)));
  }
  return true;
}

std::string make_payload(std::size_t size, char seed) {
  std::string payload(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    payload[i] = static_cast<char>(seed + (i * 7) % 23);
  return payload;
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

}  // namespace opsup::transport::test
