// Item 9 of issue 16: request bodies. The memory of all bodies in flight is capped (the
// excess gets 503 and the server's peak memory stays bounded), a body shorter than its
// Content-Length gets 408 after --body-timeout-ms, and refusals are logged at info,
// rate-limited.
#include <gtest/gtest.h>

#include "hostile_support.hpp"
#include "test_fixture.hpp"

namespace opsup::testing {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kMiB = 1024 * 1024;
constexpr std::size_t kBodyBytes = 24 * kMiB;
constexpr std::size_t kInFlightBytes = 2 * kBodyBytes;  // two bodies fit
constexpr std::size_t kRequests = 10;

std::string post_header(const std::string &path, std::size_t content_length) {
  return "POST " + path +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n" +
         "Content-Length: " + std::to_string(content_length) + "\r\n\r\n";
}

TEST(OpampServerBodyBudgetTest, BodiesInFlightAreCappedInTotal) {
  OpampServerProcess server({"--max-body-bytes-in-flight", std::to_string(kInFlightBytes),
                             "--body-timeout-ms", "60000", "--handshake-timeout-ms", "60000"});
  const pid_t pid = server.process().pid();
  const uint64_t peak_before_kib = proc_status_kib(pid, "VmHWM");
  const uint16_t port = port_of(server.http_url());
  const std::string first_part(kMiB, '\0');

  std::vector<RawConnection> connections;
  std::vector<std::string> answers(kRequests);
  for (std::size_t i = 0; i < kRequests; ++i) {
    connections.emplace_back(port);
    ASSERT_TRUE(connections.back().connected());
    ASSERT_TRUE(connections.back().send_all(post_header("/v1/opamp", kBodyBytes) + first_part));
  }
  // Exactly two bodies fit: the other requests are answered at once, without their bodies.
  auto answered = [&] {
    std::size_t count = 0;
    for (std::size_t i = 0; i < kRequests; ++i) {
      connections[i].read_available(answers[i]);
      count += answers[i].find("\r\n\r\n") != std::string::npos ? 1 : 0;
    }
    return count;
  };
  ASSERT_TRUE(eventually([&] { return answered() >= kRequests - 2; }, 30s, 50ms))
      << answered() << " requests answered";
  std::vector<std::size_t> admitted;
  for (std::size_t i = 0; i < kRequests; ++i) {
    if (answers[i].empty()) {
      admitted.push_back(i);
      continue;
    }
    EXPECT_EQ(status_of(answers[i]), 503) << answers[i];
    EXPECT_NE(answers[i].find("Retry-After"), std::string::npos) << answers[i];
  }
  ASSERT_EQ(admitted.size(), 2u);

  const std::string rest(kBodyBytes - kMiB, '\0');
  for (std::size_t i : admitted) {
    ASSERT_TRUE(connections[i].send_all(rest));
    EXPECT_EQ(status_of(connections[i].read_until("\r\n\r\n", 30s)), 200);
  }
  const uint64_t peak_after_kib = proc_status_kib(pid, "VmHWM");
  EXPECT_LT(peak_after_kib - peak_before_kib, 128 * 1024)
      << "peak memory grew from " << peak_before_kib << " to " << peak_after_kib << " KiB";
  std::cout << "[ measured ] " << kRequests << " requests of " << kBodyBytes / kMiB
            << " MiB against a " << kInFlightBytes / kMiB << " MiB cap: VmHWM "
            << peak_before_kib / 1024 << " -> " << peak_after_kib / 1024 << " MiB\n";

  // The budget is back: an agent gets through.
  auto answer =
      post_agent_message(server.http_url(), first_message(random_instance_uid(), "after"));
  EXPECT_EQ(answer.status, 200) << answer.error;
  // Eight refusals: logged at info, at most five in a row.
  const auto logged = server.process().count_lines("refused with 503");
  EXPECT_GE(logged, 1u);
  EXPECT_LE(logged, 5u);
}

TEST(OpampServerBodyBudgetTest, BodyShorterThanItsContentLengthGets408) {
  OpampServerProcess server({"--body-timeout-ms", "300"});
  RawConnection connection(port_of(server.http_url()));
  ASSERT_TRUE(connection.connected());
  ASSERT_TRUE(connection.send_all(post_header("/v1/opamp", 1000) + std::string(10, 'x')));
  auto answer = connection.read_until_closed(30s);
  ASSERT_TRUE(answer.has_value()) << "the connection is still open";
  EXPECT_EQ(status_of(*answer), 408) << *answer;
  EXPECT_TRUE(server.process().wait_for_line("refused with 408", 10s).has_value());
}

}  // namespace
}  // namespace opsup::testing
