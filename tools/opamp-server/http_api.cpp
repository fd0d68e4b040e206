#include "http_api.hpp"

#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>
#include <boost/url/pct_string_view.hpp>

#include <charconv>

#include "actions.hpp"
#include "agent_registry.hpp"
#include "encoding.hpp"
#include "json_requests.hpp"
#include "json_views.hpp"
#include "package_signer.hpp"
#include "package_store.hpp"
#include "protocol_names.hpp"
#include "web_page.hpp"

namespace opsup::opamp_server {

namespace json = boost::json;
using transport::HttpServerRequest;
using transport::HttpServerResponse;
using Respond = std::function<void(HttpServerResponse)>;

namespace {
HttpServerResponse json_response(int status, const json::value &value) {
  HttpServerResponse response;
  response.status = status;
  response.body = json::serialize(value);
  response.body.push_back('\n');
  response.headers.push_back({"Content-Type", "application/json"});
  response.headers.push_back({"Cache-Control", "no-store"});
  return response;
}

HttpServerResponse error_response(int status, const std::string &message) {
  return json_response(status, json::object{{"error", message}});
}

HttpServerResponse html_response(std::string body) {
  HttpServerResponse response =
      HttpServerResponse::text(200, std::move(body), "text/html; charset=utf-8");
  response.headers.push_back({"Cache-Control", "no-store"});
  return response;
}

std::vector<std::string> split_path(const std::string &path) {
  std::vector<std::string> segments;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos)
      end = path.size();
    if (end > start)
      segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

// The value of `key` in a query string, not decoded (only numbers are read from it).
std::optional<std::string> query_value(const std::string &query, const std::string &key) {
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string::npos)
      end = query.size();
    std::string pair = query.substr(start, end - start);
    std::size_t equals = pair.find('=');
    if (pair.substr(0, equals) == key) {
      return equals == std::string::npos ? std::string() : pair.substr(equals + 1);
    }
    start = end + 1;
  }
  return std::nullopt;
}

std::size_t limit_from(const HttpServerRequest &request, std::size_t fallback) {
  auto text = query_value(request.query, "limit");
  std::size_t limit = fallback;
  if (text)
    std::from_chars(text->data(), text->data() + text->size(), limit);
  return limit;
}

// Canonical form of a UID given in a URL: any case, with or without dashes.
std::string normalize_uid(const std::string &text) {
  if (auto bytes = uid_from_string(text))
    return uid_to_string(*bytes);
  std::string lower = text;
  for (char &c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

const char *delivery(bool sent_now) {
  return sent_now ? "sent" : "pending";
}

json::object action_answer(const AgentRecord &agent, const AgentRegistry &registry,
                           const std::string &action, bool sent_now) {
  return {{"instance_uid", agent.uid_key},
          {"action", action},
          {"delivery", delivery(sent_now)},
          {"agent_connected", registry.is_connected(agent)},
          {"transport", agent.connection.websocket ? "ws" : "http"}};
}
}  // namespace

HttpApi::HttpApi(AgentRegistry &registry, Actions &actions, PackageStore &packages, Defer defer)
    : registry_(registry), actions_(actions), packages_(packages), defer_(std::move(defer)) {}

void HttpApi::handle(const HttpServerRequest &request, Respond respond) {
  try {
    const std::vector<std::string> segments = split_path(request.path);
    const bool get = request.method == "GET" || request.method == "HEAD";

    if (segments.empty()) {
      if (!get)
        return respond(error_response(405, "use GET for /"));
      return respond(html_response(render_index_page(registry_, urls_.opamp_websocket)));
    }
    if (segments[0] == "agents" && segments.size() == 2 && get) {
      AgentRecord *agent = registry_.find(normalize_uid(segments[1]));
      if (agent == nullptr) {
        return respond(HttpServerResponse::text(404, "unknown agent " + segments[1] + "\n"));
      }
      return respond(html_response(render_agent_page(*agent, registry_)));
    }
    if (segments[0] == "packages" && segments.size() == 2) {
      if (!get)
        return respond(error_response(405, "use GET to download a package"));
      return respond(download(request, segments[1]));
    }
    if (segments[0] == "healthz")
      return respond(HttpServerResponse::text(200, "ok\n"));
    if (segments[0] != "api" || segments.size() < 2) {
      return respond(error_response(404, "no route for " + request.path));
    }

    if (segments[1] == "server" && segments.size() == 2) {
      return respond(json_response(
          200, json::object{{"opamp_websocket_url", urls_.opamp_websocket},
                            {"opamp_http_url", urls_.opamp_http},
                            {"ui_url", urls_.ui},
                            {"started", format_time(started_)},
                            {"agent_count", registry_.agents().size()},
                            {"connected_count", registry_.connected_count()},
                            {"capabilities", json::object{{"value", server_capabilities()},
                                                          {"names", [] {
                                                             json::array names;
                                                             for (auto &name :
                                                                  server_capability_names(
                                                                      server_capabilities()))
                                                               names.emplace_back(name);
                                                             return names;
                                                           }()}}}}));
    }
    if (segments[1] == "package-signing-key" && segments.size() == 2) {
      if (!get)
        return respond(error_response(405, "use GET for the package signing key"));
      return respond(HttpServerResponse::text(200, actions_.package_signer().public_key_pem(),
                                              "application/x-pem-file"));
    }
    if (segments[1] == "packages" && segments.size() == 2) {
      return handle_packages_api(request, respond);
    }
    if (segments[1] == "agents" && segments.size() == 2) {
      if (!get)
        return respond(error_response(405, "use GET for /api/agents"));
      AgentListQuery query;
      query.after = normalize_uid(query_value(request.query, "after").value_or(""));
      query.limit = limit_from(request, query.limit);
      if (query.limit == 0)
        throw RequestError("limit: must be at least 1");
      render_agent_list(registry_, defer_, std::move(query),
                        [respond = std::move(respond)](std::string body) {
                          HttpServerResponse response;
                          response.body = std::move(body);
                          response.headers.push_back({"Content-Type", "application/json"});
                          response.headers.push_back({"Cache-Control", "no-store"});
                          respond(std::move(response));
                        });
      return;
    }
    if (segments[1] == "agents" && segments.size() <= 4) {
      return handle_agent_route(request, normalize_uid(segments[2]),
                                segments.size() == 4 ? segments[3] : "", respond);
    }
    return respond(error_response(404, "no route for " + request.path));
  } catch (const RequestError &error) {
    return respond(error_response(400, error.what()));
  } catch (const std::exception &error) {
    spdlog::error("ui: {} {} failed: {}", request.method, request.path, error.what());
    return respond(error_response(500, error.what()));
  }
}

void HttpApi::handle_agent_route(const HttpServerRequest &request, const std::string &uid,
                                 const std::string &sub_route, Respond &respond) {
  AgentRecord *agent = registry_.find(uid);
  if (agent == nullptr)
    return respond(error_response(404, "unknown agent " + uid));
  const bool get = request.method == "GET" || request.method == "HEAD";

  if (sub_route.empty()) {
    if (request.method == "DELETE") {
      registry_.erase(uid);
      return respond(json_response(200, json::object{{"deleted", uid}}));
    }
    if (!get)
      return respond(error_response(405, "use GET or DELETE for an agent"));
    return respond(json_response(200, agent_json(*agent, registry_, true)));
  }
  if (sub_route == "messages" || sub_route == "sent") {
    if (!get)
      return respond(error_response(405, "use GET for " + sub_route));
    std::size_t limit = limit_from(request, 200);
    json::array entries = sub_route == "messages" ? received_messages_json(*agent, limit)
                                                  : sent_messages_json(*agent, limit);
    return respond(
        json_response(200, json::object{{"instance_uid", uid}, {"messages", std::move(entries)}}));
  }

  if (request.method != "POST")
    return respond(error_response(405, "use POST for actions"));
  json::object body = parse_json_object(request.body);

  if (sub_route == "config") {
    bool sent = actions_.set_remote_config(*agent, parse_remote_config(body));
    json::object answer = action_answer(*agent, registry_, sub_route, sent);
    answer["hash"] = to_hex(agent->desired.remote_config()->config_hash());
    return respond(json_response(200, answer));
  }
  if (sub_route == "restart") {
    bool sent = actions_.restart(*agent);
    return respond(json_response(200, action_answer(*agent, registry_, sub_route, sent)));
  }
  if (sub_route == "full-state") {
    bool sent = actions_.request_full_state(*agent);
    return respond(json_response(200, action_answer(*agent, registry_, sub_route, sent)));
  }
  if (sub_route == "custom-message") {
    bool sent = actions_.send_custom_message(*agent, parse_custom_message(body));
    return respond(json_response(200, action_answer(*agent, registry_, sub_route, sent)));
  }
  if (sub_route == "connection-settings" || sub_route == "own-telemetry" ||
      sub_route == "other-connections") {
    bool sent = false;
    if (sub_route == "connection-settings") {
      sent = actions_.set_opamp_settings(*agent, parse_opamp_settings(body));
    } else if (sub_route == "own-telemetry") {
      sent = actions_.set_own_telemetry(*agent, parse_own_telemetry(body));
    } else {
      sent = actions_.set_other_connections(*agent, parse_other_connections(body));
    }
    json::object answer = action_answer(*agent, registry_, sub_route, sent);
    answer["hash"] = to_hex(agent->desired.offers().hash());
    return respond(json_response(200, answer));
  }
  if (sub_route == "packages") {
    // Parsed before `respond` moves into the callback, so a RequestError still answers 400.
    PackagesChange change = parse_package_offer(body);
    actions_.offer_packages(
        uid, std::move(change),
        [this, uid, respond = std::move(respond)](Actions::PackagesOutcome outcome) {
          if (!outcome.offer)
            return respond(error_response(400, outcome.error));
          AgentRecord *agent = registry_.find(uid);
          if (agent == nullptr)
            return respond(error_response(404, "unknown agent " + uid));
          json::object answer = action_answer(*agent, registry_, "packages", outcome.sent_now);
          answer["all_packages_hash"] = to_hex(outcome.offer->all_packages_hash());
          json::object packages;
          for (const auto &[name, package] : outcome.offer->packages()) {
            packages[name] = json::object{{"hash", to_hex(package.hash())},
                                          {"content_hash", to_hex(package.file().content_hash())},
                                          {"download_url", package.file().download_url()}};
          }
          answer["packages"] = std::move(packages);
          respond(json_response(200, answer));
        });
    return;
  }
  return respond(error_response(404, "unknown action " + sub_route));
}

void HttpApi::handle_packages_api(const HttpServerRequest &request, Respond &respond) {
  if (request.method == "GET" || request.method == "HEAD") {
    json::array list;
    for (const auto &[name, package] : packages_.packages())
      list.push_back(package_json(package));
    return respond(json_response(200, json::object{{"packages", std::move(list)}}));
  }
  if (request.method != "POST")
    return respond(error_response(405, "use GET or POST"));
  json::object body = parse_json_object(request.body);
  PackageRequest package = parse_package(body, "", "");
  if (!package.content && !package.file_path) {
    throw RequestError("give content_base64 (or content) or file_path");
  }
  actions_.store_package(
      std::move(package),
      [respond = std::move(respond)](const StoredPackage *stored, const std::string &error) {
        if (stored == nullptr)
          return respond(error_response(400, error));
        respond(json_response(200, package_json(*stored)));
      });
}

HttpServerResponse HttpApi::download(const HttpServerRequest &request,
                                     const std::string &encoded_name) {
  auto encoded = boost::urls::make_pct_string_view(encoded_name);
  if (!encoded)
    return error_response(400, "malformed package name in the URL");
  std::string name = encoded->decode();
  StoredPackage *package = packages_.find(name);
  if (package == nullptr)
    return error_response(404, "no package named " + name);
  ++package->download_count;
  package->last_download_headers = request.headers;
  spdlog::info("packages: {} downloads {}", request.peer, name);
  HttpServerResponse response;
  response.file_path = package->file.string();
  response.headers.push_back({"Content-Type", "application/octet-stream"});
  return response;
}

}  // namespace opsup::opamp_server
