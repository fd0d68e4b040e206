// Helpers of the hostile-traffic tests of opamp-server: one-shot plain-HTTP agent messages,
// raw loopback sockets that misbehave on purpose, and the server's memory use.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "opamp.pb.h"

namespace opsup::testing {

namespace proto = opamp::proto::v1;

struct AgentRoundTrip {
  int status = 0;  // 0: no answer
  proto::ServerToAgent reply;
  std::string error;
};

// POSTs one AgentToServer to the OpAMP HTTP endpoint and parses the answer.
AgentRoundTrip post_agent_message(const std::string &http_url, const proto::AgentToServer &message,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(20));

// A message of a new agent: instance_uid, sequence_num 1, a description with service.name.
proto::AgentToServer first_message(const std::string &instance_uid, const std::string &name);

// "VmHWM" or "VmRSS" of /proc/<pid>/status in KiB; 0 when unreadable.
uint64_t proc_status_kib(pid_t pid, const std::string &field);

// A blocking TCP client socket on 127.0.0.1 for sending raw bytes.
class RawConnection {
 public:
  // Connects within `timeout`; connected() tells whether it worked.
  RawConnection(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~RawConnection();
  RawConnection(const RawConnection &) = delete;
  RawConnection &operator=(const RawConnection &) = delete;
  RawConnection(RawConnection &&other) noexcept;

  bool connected() const { return fd_ >= 0; }
  // Writes all of `bytes`; false when the peer closed or reset.
  bool send_all(const std::string &bytes);
  // Reads until the peer closes or `timeout` passes. nullopt on timeout (connection still
  // open); otherwise everything read before end of file or reset.
  std::optional<std::string> read_until_closed(std::chrono::milliseconds timeout);
  // Appends what has arrived so far (without waiting) to `received`; false once the peer
  // closed.
  bool read_available(std::string &received);
  // Reads until `marker` appears in what was read, or end of file, or `timeout`.
  std::string read_until(const std::string &marker, std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
};

// The port of "http://127.0.0.1:1234/..." URLs.
uint16_t port_of(const std::string &url);
// The status code of a raw "HTTP/1.1 503 ..." response; 0 if it does not start like one.
int status_of(const std::string &raw_response);

}  // namespace opsup::testing
