// Short summaries of the messages exchanged with one agent, kept in a bounded log for the
// JSON API (tests assert on them) and the web page.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "opamp.pb.h"

namespace opsup::opamp_server {

namespace proto = opamp::proto::v1;

struct ReceivedSummary {
  std::chrono::system_clock::time_point time;
  uint64_t sequence_num = 0;
  std::vector<std::string> fields;  // proto names of the fields present, in field order
  uint64_t capabilities = 0;
  uint64_t flags = 0;
  bool agent_disconnect = false;
  bool heartbeat = false;  // nothing but instance_uid, sequence_num and capabilities
  std::string transport;   // "ws" or "http"
  std::size_t bytes = 0;
  std::optional<int> remote_config_status;               // its status, when present
  std::optional<std::string> remote_config_status_hash;  // raw bytes
  bool available_components_full = false;                // the full map was included
  std::optional<std::string> custom_message_capability;
  std::optional<std::string> custom_message_type;
};

struct SentSummary {
  std::chrono::system_clock::time_point time;
  std::vector<std::string> fields;  // proto names of the fields present, in field order
  uint64_t flags = 0;
  uint64_t capabilities = 0;
  bool reply = false;  // an answer to an AgentToServer (else pushed by an action)
  std::string transport;
  std::size_t bytes = 0;
  std::optional<std::string> remote_config_hash;  // raw bytes
  std::optional<std::string> command;             // "Restart"
  std::optional<std::string> error;               // error_response message
};

ReceivedSummary summarize(const proto::AgentToServer &message, std::string transport,
                          std::size_t bytes);
SentSummary summarize(const proto::ServerToAgent &message, bool reply, std::string transport,
                      std::size_t bytes);

template <typename Entry>
class BoundedLog {
 public:
  explicit BoundedLog(std::size_t capacity = 200) : capacity_(capacity) {}
  void add(Entry entry) {
    entries_.push_back(std::move(entry));
    while (entries_.size() > capacity_)
      entries_.pop_front();
  }
  const std::deque<Entry> &entries() const { return entries_; }
  void set_capacity(std::size_t capacity) { capacity_ = capacity == 0 ? 1 : capacity; }

 private:
  std::size_t capacity_;
  std::deque<Entry> entries_;
};

}  // namespace opsup::opamp_server
