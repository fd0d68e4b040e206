// Starts opamp-server as a real process on free ports and talks to its JSON API.
#pragma once

#include <boost/json/value.hpp>

#include <memory>
#include <string>
#include <vector>

#include "support/child_process.hpp"

namespace opsup::testing {

class OpampServerProcess {
 public:
  // Listens on 127.0.0.1:0 for both OpAMP and the UI; `extra_args` are appended. With a
  // `launcher` (say {"/usr/bin/prlimit", "--nofile=256:256", "--"}) the server runs under
  // it; the launcher must exec the server so that the process id stays the server's.
  explicit OpampServerProcess(std::vector<std::string> extra_args = {},
                              std::vector<std::string> launcher = {});

  const std::string &websocket_url() const { return websocket_url_; }  // ws(s)://.../v1/opamp
  const std::string &http_url() const { return http_url_; }            // http(s)://.../v1/opamp
  const std::string &ui_url() const { return ui_url_; }                // http://host:port (no /)
  // With --packages-listen: http(s)://host:port (no /) of that listener; else "".
  const std::string &packages_url() const { return packages_url_; }
  ChildProcess &process() { return *process_; }

  // GET ui_url + path; the parsed JSON, or null when the status is not 200.
  boost::json::value get_json(const std::string &path) const;
  struct JsonAnswer {
    int status = 0;
    boost::json::value body;
  };
  JsonAnswer post_json(const std::string &path, const std::string &body) const;
  // GET /api/agents/<uid>, or null when unknown.
  boost::json::value agent(const std::string &uid) const;

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string websocket_url_;
  std::string http_url_;
  std::string ui_url_;
  std::string packages_url_;
};

// Reads a nested member: at(value, {"remote_config_status", "status"}); a null value when
// absent. The result refers into `value`: keep `value` alive while using it.
const boost::json::value &at(const boost::json::value &value,
                             std::initializer_list<const char *> path);
std::string string_at(const boost::json::value &value, std::initializer_list<const char *> path);

}  // namespace opsup::testing
