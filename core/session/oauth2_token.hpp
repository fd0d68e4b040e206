// OAuth2 client-credentials token requests and responses (RFC 6749 §4.4, §5.1, §5.2).
// Pure functions; the asynchronous fetching is in auth_header_source.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "session/session_options.hpp"

namespace opsup::session {

struct OAuth2Token {
  std::string access_token;
  std::string token_type;  // "Bearer" when the server leaves it out
  std::optional<std::chrono::seconds> expires_in;
};

// The application/x-www-form-urlencoded request body. The credentials go in the body
// unless settings.credentials_in_header.
std::string oauth2_token_request_body(const OAuth2ClientCredentialsAuth &settings,
                                      std::string_view client_id, std::string_view client_secret);

// "Basic <base64(urlencode(id):urlencode(secret))>", as Go's oauth2 AuthStyleInHeader.
std::string oauth2_basic_credentials(std::string_view client_id, std::string_view client_secret);

// Parses a token endpoint answer. Throws std::runtime_error naming `token_url` and, for an
// error answer, the status and the server's `error` / `error_description` (never secrets).
OAuth2Token parse_oauth2_token_response(int http_status, std::string_view body,
                                        std::string_view token_url);

// The Authorization value for a token: "Bearer <token>" (the type normalised like Go's).
std::string oauth2_authorization_value(const OAuth2Token &token);

std::string base64_encode(std::string_view bytes);
std::string form_url_encode(std::string_view text);

}  // namespace opsup::session
