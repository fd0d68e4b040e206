// `extensions:` — Collector-style auth extensions hosted by the supervisor (for
// `server.auth`): bearertokenauth, basicauth (client_auth) and oauth2client.
#include "config/component_id.hpp"
#include "config/internal/sections.hpp"

namespace opsup::config::internal {
namespace {

BearerTokenAuthConfig read_bearer(MapReader &section) {
  BearerTokenAuthConfig bearer;
  section.read_string("token", bearer.token);
  section.read_string_list("tokens", bearer.tokens);
  section.read_string("filename", bearer.filename);
  section.read_string("header", bearer.header);
  section.read_string("scheme", bearer.scheme);
  const int sources = !bearer.token.empty() + !bearer.tokens.empty() + !bearer.filename.empty();
  if (sources == 0) {
    section.section_error("no bearer token provided: set token, tokens or filename");
  } else if (sources > 1) {
    section.section_error("set only one of token, tokens or filename");
  }
  if (section.has("header") && bearer.header.empty())
    section.error("header", "must not be empty");
  return bearer;
}

BasicAuthConfig read_basic(MapReader &section) {
  BasicAuthConfig basic;
  if (section.has("htpasswd")) {
    section.take("htpasswd");
    section.error("htpasswd",
                  "htpasswd authenticates incoming requests; the supervisor is a client: use "
                  "client_auth");
  }
  if (!section.has("client_auth")) {
    section.section_error(
        "no credential source provided: set client_auth.username and "
        "client_auth.password");
  }
  MapReader client = section.section("client_auth");
  client.read_string("username", basic.username);
  client.read_string("username_file", basic.username_file);
  client.read_string("password", basic.password);
  client.read_string("password_file", basic.password_file);
  client.finish();
  return basic;
}

void read_endpoint_params(MapReader &section, OAuth2ClientConfig &oauth) {
  auto entry = section.take("endpoint_params");
  if (!entry)
    return;
  MapReader params(entry->value, entry->path, entry->key_line, section.sink());
  for (const auto &item : params.entries()) {
    if (is_null_value(item.value)) {
      oauth.endpoint_params[item.key] = {};
      continue;
    }
    if (auto values = read_scalar_list(item.value, item.path, item.value_line, section.sink())) {
      oauth.endpoint_params[item.key] = std::move(*values);
    }
  }
}

OAuth2ClientConfig read_oauth2(MapReader &section) {
  OAuth2ClientConfig oauth;
  section.read_string("client_id", oauth.client_id);
  section.read_string("client_id_file", oauth.client_id_file);
  section.read_string("client_secret", oauth.client_secret);
  section.read_string("client_secret_file", oauth.client_secret_file);
  section.read_string("token_url", oauth.token_url);
  section.read_string_list("scopes", oauth.scopes);
  read_endpoint_params(section, oauth);
  if (section.read_string("grant_type", oauth.grant_type) &&
      oauth.grant_type != "client_credentials") {
    section.error("grant_type", "only \"client_credentials\" is supported, got " +
                                    quote_for_message(oauth.grant_type));
  }
  section.read_duration("timeout", DurationRule::kNonNegative, oauth.timeout);
  section.read_duration("expiry_buffer", DurationRule::kNonNegative, oauth.expiry_buffer);
  parse_client_tls(section.section("tls"), oauth.tls);

  if (oauth.client_id.empty() && oauth.client_id_file.empty()) {
    section.section_error("no client_id provided: set client_id or client_id_file");
  }
  if (oauth.client_secret.empty() && oauth.client_secret_file.empty()) {
    section.section_error("no client_secret provided: set client_secret or client_secret_file");
  }
  if (oauth.token_url.empty()) {
    section.section_error("no token_url provided");
  } else if (!oauth.token_url.starts_with("http://") && !oauth.token_url.starts_with("https://")) {
    section.error("token_url",
                  "must be an http:// or https:// URL, got " + quote_for_message(oauth.token_url));
  }
  return oauth;
}

}  // namespace

void parse_extensions(MapReader section, std::vector<ExtensionConfig> &extensions) {
  for (const auto &entry : section.entries()) {
    section.accept(entry.key);
    std::string why;
    const auto id = parse_component_id(entry.key, why);
    if (!id) {
      section.sink().error(entry.key_line, entry.path, "invalid extension id: " + why);
      continue;
    }
    MapReader settings(entry.value, entry.path, entry.key_line, section.sink());
    ExtensionConfig extension{entry.key, id->type, id->name, {}};
    if (id->type == "bearertokenauth") {
      extension.settings = read_bearer(settings);
    } else if (id->type == "basicauth") {
      extension.settings = read_basic(settings);
    } else if (id->type == "oauth2client") {
      extension.settings = read_oauth2(settings);
    } else {
      section.sink().error(entry.key_line, entry.path,
                           "unknown extension type \"" + id->type +
                               "\"; the supervisor supports bearertokenauth, basicauth and "
                               "oauth2client");
      continue;
    }
    settings.finish();
    extensions.push_back(std::move(extension));
  }
  section.finish();
}

}  // namespace opsup::config::internal
