// The UI listener: JSON API under /api, the web page, and package downloads under
// /packages. Endpoints and shapes are documented in README.md.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "agent_list_render.hpp"
#include "transport/http_server.hpp"

namespace opsup::opamp_server {

class AgentRegistry;
class Actions;
class PackageStore;

struct ServerUrls {
  std::string opamp_websocket;  // "ws://127.0.0.1:4320/v1/opamp"
  std::string opamp_http;       // "http://127.0.0.1:4320/v1/opamp"
  std::string ui;               // "http://127.0.0.1:4321"
};

class HttpApi {
 public:
  // `defer` runs work later on the event loop (long renders yield through it).
  HttpApi(AgentRegistry &registry, Actions &actions, PackageStore &packages, Defer defer);
  void set_urls(ServerUrls urls) { urls_ = std::move(urls); }

  void handle(const transport::HttpServerRequest &request,
              std::function<void(transport::HttpServerResponse)> respond);

 private:
  void handle_agent_route(const transport::HttpServerRequest &request, const std::string &uid,
                          const std::string &sub_route,
                          std::function<void(transport::HttpServerResponse)> &respond);
  void handle_packages_api(const transport::HttpServerRequest &request,
                           std::function<void(transport::HttpServerResponse)> &respond);
  transport::HttpServerResponse download(const transport::HttpServerRequest &request,
                                         const std::string &encoded_name);

  AgentRegistry &registry_;
  Actions &actions_;
  PackageStore &packages_;
  Defer defer_;
  ServerUrls urls_;
  std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
};

}  // namespace opsup::opamp_server
