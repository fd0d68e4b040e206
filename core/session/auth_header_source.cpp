#include "session/auth_header_source.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "common/logging.hpp"
#include "common/redact.hpp"
#include "storage/atomic_file.hpp"
#include "transport/http_client.hpp"

namespace opsup::session {
namespace {

// Tokens are renewed this long before they expire (Go's oauth2 uses 10 s), at most half
// their lifetime so short-lived tokens are still used.
std::chrono::milliseconds renewal_margin(std::chrono::seconds lifetime) {
  return std::min<std::chrono::milliseconds>(std::chrono::seconds(10), lifetime / 2);
}

std::string trimmed(std::string text) {
  const auto is_space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!text.empty() && is_space(static_cast<unsigned char>(text.back())))
    text.pop_back();
  std::size_t start = 0;
  while (start < text.size() && is_space(static_cast<unsigned char>(text[start])))
    ++start;
  return text.substr(start);
}

// The trimmed content of a secret file; throws std::runtime_error naming the file.
std::string read_secret_file(const std::filesystem::path &file, std::string_view what) {
  std::optional<std::string> content = storage::read_file_if_exists(file);
  if (!content) {
    throw std::runtime_error("cannot read " + std::string(what) + " file \"" + file.string() +
                             "\": it does not exist");
  }
  std::string value = trimmed(std::move(*content));
  if (value.empty()) {
    throw std::runtime_error(std::string(what) + " file \"" + file.string() + "\" is empty");
  }
  return value;
}

}  // namespace

std::shared_ptr<AuthHeaderSource> AuthHeaderSource::create(boost::asio::io_context &io,
                                                           AuthSettings settings) {
  std::shared_ptr<AuthHeaderSource> source(new AuthHeaderSource(io, std::move(settings)));
  source->validate();
  return source;
}

AuthHeaderSource::AuthHeaderSource(boost::asio::io_context &io, AuthSettings settings)
    : io_(io), settings_(std::move(settings)), refresh_timer_(io) {}

void AuthHeaderSource::validate() const {
  if (const auto *bearer = std::get_if<BearerTokenAuth>(&settings_)) {
    if (bearer->token.empty() && bearer->token_file.empty()) {
      throw std::invalid_argument("bearer token auth needs a token or a token file");
    }
    if (bearer->header.empty())
      throw std::invalid_argument("bearer token auth needs a header name");
  } else if (const auto *oauth2 = std::get_if<OAuth2ClientCredentialsAuth>(&settings_)) {
    if (oauth2->token_url.empty())
      throw std::invalid_argument("oauth2 auth needs a token_url");
    if (oauth2->client_id.empty() && oauth2->client_id_file.empty()) {
      throw std::invalid_argument("oauth2 auth needs a client_id or client_id_file");
    }
  }
}

void AuthHeaderSource::prepare(std::function<void(const std::string &error)> done) {
  if (stopped_)
    return;
  try {
    if (const auto *bearer = std::get_if<BearerTokenAuth>(&settings_)) {
      const std::string token = bearer->token_file.empty()
                                    ? bearer->token
                                    : read_secret_file(bearer->token_file, "bearer token");
      const std::string value = bearer->scheme.empty() ? token : bearer->scheme + " " + token;
      headers_ = {{bearer->header, value}};
    } else if (const auto *basic = std::get_if<BasicAuth>(&settings_)) {
      headers_ = {
          {"Authorization", "Basic " + base64_encode(basic->username + ":" + basic->password)}};
    } else if (std::holds_alternative<OAuth2ClientCredentialsAuth>(settings_)) {
      if (!token_fresh()) {
        waiters_.push_back(std::move(done));
        if (!fetching_)
          fetch_token();
        return;
      }
    }
  } catch (const std::exception &error) {
    done(error.what());
    return;
  }
  done("");
}

transport::HeaderList AuthHeaderSource::headers() const {
  return headers_;
}

void AuthHeaderSource::credentials_refused() {
  if (!std::holds_alternative<OAuth2ClientCredentialsAuth>(settings_) || !has_token_)
    return;
  common::get_logger("opamp-client")
      ->info("The server refused the OAuth2 token; a new one is fetched before reconnecting");
  has_token_ = false;
  refresh_timer_.cancel();
}

void AuthHeaderSource::stop() {
  stopped_ = true;
  waiters_.clear();
  refresh_timer_.cancel();
}

bool AuthHeaderSource::token_fresh() const {
  if (!has_token_)
    return false;
  return !token_expiry_ || std::chrono::steady_clock::now() < refresh_at_;
}

void AuthHeaderSource::fetch_token() {
  const auto &settings = std::get<OAuth2ClientCredentialsAuth>(settings_);
  std::string client_id;
  std::string client_secret;
  try {
    client_id = settings.client_id_file.empty()
                    ? settings.client_id
                    : read_secret_file(settings.client_id_file, "OAuth2 client_id");
    client_secret = settings.client_secret_file.empty()
                        ? settings.client_secret
                        : read_secret_file(settings.client_secret_file, "OAuth2 client_secret");
  } catch (const std::exception &error) {
    token_fetched(error.what(), std::nullopt);
    return;
  }

  transport::HttpRequest request;
  request.method = "POST";
  request.url = settings.token_url;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  if (settings.credentials_in_header) {
    request.headers.push_back(
        {"Authorization", oauth2_basic_credentials(client_id, client_secret)});
  }
  request.body = oauth2_token_request_body(settings, client_id, client_secret);
  request.tls = settings.tls;
  request.timeout = settings.timeout;
  request.max_response_bytes = 1024 * 1024;

  fetching_ = true;
  ++token_requests_;
  common::get_logger("opamp-client")
      ->debug("Requesting an OAuth2 token from {}", common::url_for_logs(settings.token_url));
  std::weak_ptr<AuthHeaderSource> weak = weak_from_this();
  const std::string token_url = common::url_for_logs(settings.token_url);
  transport::HttpCallbacks callbacks;
  callbacks.on_complete = [weak, token_url](transport::HttpResponse response) {
    auto self = weak.lock();
    if (!self)
      return;
    if (response.status == 0) {
      self->token_fetched("OAuth2 token request to " + token_url + " failed: " + response.error,
                          std::nullopt);
      return;
    }
    try {
      self->token_fetched("",
                          parse_oauth2_token_response(response.status, response.body, token_url));
    } catch (const std::exception &error) {
      self->token_fetched(error.what(), std::nullopt);
    }
  };
  transport::http_request(io_, std::move(request), std::move(callbacks));
}

void AuthHeaderSource::token_fetched(const std::string &error, std::optional<OAuth2Token> token) {
  fetching_ = false;
  if (stopped_)
    return;
  if (token) {
    has_token_ = true;
    headers_ = {{"Authorization", oauth2_authorization_value(*token)}};
    if (token->expires_in) {
      const auto now = std::chrono::steady_clock::now();
      token_expiry_ = now + *token->expires_in;
      refresh_at_ = *token_expiry_ - renewal_margin(*token->expires_in);
      arm_refresh();
    } else {
      token_expiry_.reset();
    }
  } else {
    common::get_logger("opamp-client")->warn("{}", error);
  }
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto &waiter : waiters)
    waiter(error);
}

void AuthHeaderSource::arm_refresh() {
  refresh_timer_.expires_at(refresh_at_);
  std::weak_ptr<AuthHeaderSource> weak = weak_from_this();
  refresh_timer_.async_wait([weak](const boost::system::error_code &error) {
    auto self = weak.lock();
    if (error || !self || self->stopped_ || self->fetching_)
      return;
    self->fetch_token();  // in the background; a failure is retried on the next connect
  });
}

}  // namespace opsup::session
