// What the agent.run_as tests share: they need root (to create a user, to switch to one).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

// Fails the test when not root (CI runs as root), unless OPSUP_ALLOW_NO_ROOT=1 makes it
// skip.
#define OPSUP_REQUIRE_ROOT()                                                          \
  do {                                                                                \
    if (::geteuid() != 0) {                                                           \
      const char *allow = std::getenv("OPSUP_ALLOW_NO_ROOT");                         \
      if (allow != nullptr && std::string(allow) == "1")                              \
        GTEST_SKIP() << "not root (OPSUP_ALLOW_NO_ROOT=1)";                           \
      FAIL() << "agent.run_as tests need root to create a user and switch to it (CI " \
                "runs as root); set OPSUP_ALLOW_NO_ROOT=1 to skip them";              \
    }                                                                                 \
  } while (false)
