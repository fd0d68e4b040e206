#include "server_process.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <regex>
#include <stdexcept>

#include "support/http.hpp"
#include "support/paths.hpp"

namespace opsup::testing {

namespace {
std::string capture(ChildProcess &process, const std::string &pattern) {
  auto line = process.wait_for_line(pattern, std::chrono::seconds(30));
  if (!line) {
    throw std::runtime_error("opamp-server did not print /" + pattern + "/; output:\n" +
                             process.output());
  }
  std::smatch match;
  std::regex_search(*line, match, std::regex(pattern));
  return match[1];
}

boost::json::value parse_or_null(const std::string &text) {
  boost::system::error_code error;
  auto value = boost::json::parse(text, error);
  return error ? boost::json::value(nullptr) : value;
}
}  // namespace

OpampServerProcess::OpampServerProcess(std::vector<std::string> extra_args,
                                       std::vector<std::string> launcher) {
  ProcessOptions options;
  options.executable = binary("opamp-server");
  options.args = {"--opamp-listen", "127.0.0.1:0", "--ui-listen", "127.0.0.1:0"};
  options.args.insert(options.args.end(), extra_args.begin(), extra_args.end());
  if (!launcher.empty()) {
    options.args.insert(options.args.begin(), options.executable.string());
    options.args.insert(options.args.begin(), launcher.begin() + 1, launcher.end());
    options.executable = launcher.front();
  }
  process_ = std::make_unique<ChildProcess>(std::move(options));
  websocket_url_ = capture(*process_, R"(opamp-server: opamp listening on (\S+))");
  http_url_ = capture(*process_, R"(opamp-server: opamp http endpoint (\S+))");
  ui_url_ = capture(*process_, R"(opamp-server: ui listening on (\S+?)/?$)");
  if (std::find(extra_args.begin(), extra_args.end(), "--packages-listen") != extra_args.end())
    packages_url_ = capture(*process_, R"(opamp-server: packages listening on (\S+?)/?$)");
  capture(*process_, R"(opamp-server: (ready))");
}

boost::json::value OpampServerProcess::get_json(const std::string &path) const {
  auto response = http_get(ui_url_ + path);
  if (response.status != 200)
    return nullptr;
  return parse_or_null(response.body);
}

OpampServerProcess::JsonAnswer OpampServerProcess::post_json(const std::string &path,
                                                             const std::string &body) const {
  auto response = http_post(ui_url_ + path, body);
  return {response.status, parse_or_null(response.body)};
}

boost::json::value OpampServerProcess::agent(const std::string &uid) const {
  return get_json("/api/agents/" + uid);
}

const boost::json::value &at(const boost::json::value &value,
                             std::initializer_list<const char *> path) {
  static const boost::json::value kNull;
  const boost::json::value *current = &value;
  for (const char *key : path) {
    if (!current->is_object())
      return kNull;
    current = current->as_object().if_contains(key);
    if (current == nullptr)
      return kNull;
  }
  return *current;
}

std::string string_at(const boost::json::value &value, std::initializer_list<const char *> path) {
  const auto &found = at(value, path);
  return found.is_string() ? std::string(found.as_string()) : std::string();
}

}  // namespace opsup::testing
