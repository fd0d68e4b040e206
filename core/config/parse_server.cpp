// `server:` — the upstream OpAMP server, plus the session keys the Go supervisor lacks.
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>

#include "common/redact.hpp"
#include "config/component_id.hpp"
#include "config/internal/sections.hpp"

namespace opsup::config::internal {
namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

void check_endpoint(MapReader &section, const std::string &endpoint) {
  const auto url = boost::urls::parse_uri(endpoint);
  if (!url) {
    section.error("endpoint", "must be a URL such as \"wss://example.com:4320/v1/opamp\", got " +
                                  quote_for_message(common::url_for_logs(endpoint)));
    return;
  }
  const std::string scheme = lowercase(std::string(url->scheme()));
  if (scheme != "ws" && scheme != "wss" && scheme != "http" && scheme != "https") {
    section.error("endpoint", "invalid scheme \"" + scheme +
                                  "\": must be one of \"http\", \"https\", \"ws\" or \"wss\"");
    return;
  }
  if (url->host().empty()) {
    section.error("endpoint",
                  "the URL has no host: " + quote_for_message(common::url_for_logs(endpoint)));
  }
}

void read_headers(MapReader &section, std::vector<Header> &headers, const char *key = "headers") {
  auto entry = section.take(key);
  if (!entry)
    return;
  MapReader map(entry->value, entry->path, entry->key_line, section.sink());
  if (!map.is_mapping())
    return;
  for (const auto &item : map.entries()) {
    if (is_null_value(item.value)) {
      headers.push_back(Header{item.key, ""});
      continue;
    }
    // http.Header: a single value or a list of values.
    auto values = read_scalar_list(item.value, item.path, item.value_line, section.sink());
    if (!values)
      continue;
    for (auto &value : *values)
      headers.push_back(Header{item.key, std::move(value)});
  }
}

void parse_proxy(MapReader section, ProxyConfig &proxy) {
  if (!section.is_mapping())
    return;
  if (section.read_string("url", proxy.url) && !proxy.url.empty()) {
    auto url = boost::urls::parse_uri(proxy.url);
    if (!url) {
      section.error("url", "not a URL: " + quote_for_message(common::url_for_logs(proxy.url)));
    } else if (url->scheme() != "http") {
      section.error("url",
                    "must be an http:// URL (TLS to the server goes through the proxy's "
                    "CONNECT tunnel), got " +
                        quote_for_message(common::url_for_logs(proxy.url)));
    } else if (url->host().empty()) {
      section.error("url",
                    "the URL has no host: " + quote_for_message(common::url_for_logs(proxy.url)));
    }
  }
  read_headers(section, proxy.connect_headers, "connect_headers");
  section.finish();
}

}  // namespace

void parse_server(MapReader section, ServerConfig &server) {
  if (!section.is_mapping())
    return;  // already reported; one error is enough
  const bool endpoint_written = section.has("endpoint");
  const bool endpoint_read = section.read_string("endpoint", server.endpoint);
  if (endpoint_read && !server.endpoint.empty()) {
    check_endpoint(section, server.endpoint);
  } else if (!endpoint_written || endpoint_read) {
    section.sink().error(section.line_of_key("endpoint"), section.key_path("endpoint"),
                         "must be specified (the OpAMP server URL, e.g. "
                         "\"wss://example.com:4320/v1/opamp\")");
  }
  read_headers(section, server.headers);
  parse_client_tls(section.section("tls"), server.tls);
  parse_proxy(section.section("proxy"), server.proxy);

  if (section.read_string("auth", server.auth) && !server.auth.empty()) {
    std::string why;
    if (!parse_component_id(server.auth, why))
      section.error("auth", why);
  }

  int64_t max_message = 0;
  if (section.read_int("max_message_size_bytes", 1024, int64_t{1} << 32, max_message)) {
    server.max_message_size_bytes = static_cast<uint64_t>(max_message);
  }
  section.read_duration("connect_timeout", DurationRule::kPositive, server.connect_timeout);
  section.read_duration("shutdown_timeout", DurationRule::kPositive, server.shutdown_timeout);
  section.read_duration("heartbeat_interval", DurationRule::kPositive, server.heartbeat_interval);

  MapReader reconnect = section.section("reconnect");
  const bool initial_read = reconnect.read_duration("initial_interval", DurationRule::kPositive,
                                                    server.reconnect.initial_interval);
  const bool max_read = reconnect.read_duration("max_interval", DurationRule::kPositive,
                                                server.reconnect.max_interval);
  if ((initial_read || max_read) &&
      server.reconnect.max_interval < server.reconnect.initial_interval) {
    reconnect.error(max_read ? "max_interval" : "initial_interval",
                    "max_interval (" + format_go_duration(server.reconnect.max_interval) +
                        ") must not be shorter than initial_interval (" +
                        format_go_duration(server.reconnect.initial_interval) + ")");
  }
  Duration max_server_delay{};
  if (reconnect.read_duration("max_server_delay", DurationRule::kPositive, max_server_delay)) {
    if (max_server_delay > kMaxServerDelayLimit) {
      reconnect.error("max_server_delay", "must be at most " +
                                              format_go_duration(kMaxServerDelayLimit) + ", got " +
                                              format_go_duration(max_server_delay));
    } else {
      server.reconnect.max_server_delay = max_server_delay;
    }
  }
  reconnect.finish();
  section.finish();
}

}  // namespace opsup::config::internal
