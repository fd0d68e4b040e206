// Free loopback ports for tests that must pass a port to another process.
#pragma once

#include <cstdint>

namespace opsup::testing {

// Binds 127.0.0.1:0, reads the port, closes. Throws std::runtime_error on failure.
uint16_t free_tcp_port();

}  // namespace opsup::testing
