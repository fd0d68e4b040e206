#include "session/oauth2_token.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace opsup::session {
namespace {

void append_form_field(std::string &body, std::string_view name, std::string_view value) {
  if (!body.empty())
    body.push_back('&');
  body += form_url_encode(name);
  body.push_back('=');
  body += form_url_encode(value);
}

std::string json_string_field(const boost::json::object &object, std::string_view name) {
  const boost::json::value *value = object.if_contains(name);
  if (value == nullptr || !value->is_string())
    return {};
  return std::string(value->as_string());
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string encoded(4 * ((bytes.size() + 2) / 3), '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(encoded.data()),
                                     reinterpret_cast<const unsigned char *>(bytes.data()),
                                     static_cast<int>(bytes.size()));
  encoded.resize(static_cast<std::size_t>(length));
  return encoded;
}

std::string form_url_encode(std::string_view text) {
  return boost::urls::encode(text, boost::urls::unreserved_chars);
}

std::string oauth2_token_request_body(const OAuth2ClientCredentialsAuth &settings,
                                      std::string_view client_id, std::string_view client_secret) {
  std::string body;
  append_form_field(body, "grant_type", "client_credentials");
  if (!settings.scopes.empty()) {
    std::string scope;
    for (const std::string &item : settings.scopes) {
      if (!scope.empty())
        scope.push_back(' ');
      scope += item;
    }
    append_form_field(body, "scope", scope);
  }
  for (const auto &[name, value] : settings.endpoint_params)
    append_form_field(body, name, value);
  if (!settings.credentials_in_header) {
    append_form_field(body, "client_id", client_id);
    append_form_field(body, "client_secret", client_secret);
  }
  return body;
}

std::string oauth2_basic_credentials(std::string_view client_id, std::string_view client_secret) {
  return "Basic " +
         base64_encode(form_url_encode(client_id) + ":" + form_url_encode(client_secret));
}

OAuth2Token parse_oauth2_token_response(int http_status, std::string_view body,
                                        std::string_view token_url) {
  const std::string where = "OAuth2 token endpoint " + std::string(token_url);
  boost::system::error_code parse_error;
  const boost::json::value document = boost::json::parse(body, parse_error);
  const boost::json::object *object =
      !parse_error && document.is_object() ? &document.as_object() : nullptr;

  if (http_status < 200 || http_status > 299) {
    std::string message = where + " answered HTTP " + std::to_string(http_status);
    if (object != nullptr) {
      const std::string error = json_string_field(*object, "error");
      const std::string description = json_string_field(*object, "error_description");
      if (!error.empty())
        message += ": " + error;
      if (!description.empty())
        message += " (" + description + ")";
    }
    throw std::runtime_error(message);
  }
  if (object == nullptr) {
    throw std::runtime_error(where + " answered with a body that is not a JSON object" +
                             (parse_error ? ": " + parse_error.message() : std::string()));
  }
  OAuth2Token token;
  token.access_token = json_string_field(*object, "access_token");
  if (token.access_token.empty()) {
    throw std::runtime_error(where + " answered without an access_token");
  }
  token.token_type = json_string_field(*object, "token_type");
  if (const boost::json::value *expires = object->if_contains("expires_in")) {
    // Some servers send the number as a string.
    if (expires->is_int64() && expires->as_int64() > 0) {
      token.expires_in = std::chrono::seconds(expires->as_int64());
    } else if (expires->is_uint64()) {
      token.expires_in = std::chrono::seconds(static_cast<int64_t>(expires->as_uint64()));
    } else if (expires->is_double() && expires->as_double() > 0) {
      token.expires_in = std::chrono::seconds(static_cast<int64_t>(expires->as_double()));
    } else if (expires->is_string()) {
      try {
        const long long seconds = std::stoll(std::string(expires->as_string()));
        if (seconds > 0)
          token.expires_in = std::chrono::seconds(seconds);
      } catch (const std::exception &) {
        throw std::runtime_error(where + " answered with a non-numeric expires_in");
      }
    }
  }
  return token;
}

std::string oauth2_authorization_value(const OAuth2Token &token) {
  // Go's oauth2 Token.Type(): bearer/mac/basic are canonicalised; empty means Bearer.
  std::string type = token.token_type;
  if (type.empty() || iequals(type, "bearer")) {
    type = "Bearer";
  } else if (iequals(type, "mac")) {
    type = "MAC";
  } else if (iequals(type, "basic")) {
    type = "Basic";
  }
  return type + " " + token.access_token;
}

}  // namespace opsup::session
