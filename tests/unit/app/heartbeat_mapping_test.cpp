// server.heartbeat_interval becomes whole seconds for the session, never 0 by rounding.
#include <gtest/gtest.h>

#include "app/session_options_mapping.hpp"
#include "config/config_loader.hpp"

namespace opsup::app {
namespace {

std::chrono::seconds mapped_heartbeat(const std::string &interval) {
  auto result = config::load_supervisor_config_from_string(
      "server:\n  endpoint: ws://127.0.0.1:1/v1/opamp\n  heartbeat_interval: " + interval +
          "\nagent:\n  executable: /bin/true\n",
      "sup.yaml", {});
  EXPECT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors[0].to_string());
  return make_session_options(*result.config, 0x2001).heartbeat_interval;
}

TEST(HeartbeatMapping, WholeSecondsAreKept) {
  EXPECT_EQ(mapped_heartbeat("45s"), std::chrono::seconds(45));
}

TEST(HeartbeatMapping, FractionsRoundUpSoHeartbeatsStayOn) {
  EXPECT_EQ(mapped_heartbeat("500ms"), std::chrono::seconds(1));
  EXPECT_EQ(mapped_heartbeat("1500ms"), std::chrono::seconds(2));
}

}  // namespace
}  // namespace opsup::app
