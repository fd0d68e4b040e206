// Shared pieces of the opamp-server integration tests: an io_context thread for test
// agents, and waiting on the server's JSON API.
#pragma once

#include <gtest/gtest.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "server_process.hpp"
#include "support/eventually.hpp"
#include "test_agent.hpp"

namespace opsup::testing {

inline constexpr std::chrono::seconds kDeadline{30};

// Runs test agents; declare it before the agents so they are destroyed first.
class IoThread {
 public:
  IoThread() : guard_(io_.get_executor()), thread_([this] { io_.run(); }) {}
  ~IoThread() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  boost::asio::io_context &io() { return io_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

// Polls the agent's JSON view until `condition` holds; returns the last view.
inline boost::json::value wait_for_agent(
    const OpampServerProcess &server, const std::string &uid,
    const std::function<bool(const boost::json::value &)> &condition,
    std::chrono::milliseconds timeout = kDeadline) {
  boost::json::value last;
  eventually(
      [&] {
        last = server.agent(uid);
        return !last.is_null() && condition(last);
      },
      timeout, std::chrono::milliseconds(50));
  return last;
}

inline std::string json_text(const boost::json::value &value) {
  return boost::json::serialize(value);
}

}  // namespace opsup::testing
