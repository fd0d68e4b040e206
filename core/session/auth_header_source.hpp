// The authentication headers of the OpAMP connection (`server.auth`): bearer token (file
// re-read on every connect), HTTP Basic, or an OAuth2 client-credentials token fetched
// before connecting and refreshed ahead of its expiry. Session-internal.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "session/oauth2_token.hpp"
#include "session/session_options.hpp"
#include "transport/transport_types.hpp"

namespace opsup::session {

class AuthHeaderSource : public std::enable_shared_from_this<AuthHeaderSource> {
 public:
  // Throws std::invalid_argument naming the missing setting.
  static std::shared_ptr<AuthHeaderSource> create(boost::asio::io_context &io,
                                                  AuthSettings settings);

  // Makes the headers ready for a new connection; `done` gets "" or an error text (which
  // never contains a secret). Called on the io thread, possibly before prepare returns.
  void prepare(std::function<void(const std::string &error)> done);

  // The headers for the next request (the current token).
  transport::HeaderList headers() const;

  // Token requests made so far (OAuth2).
  std::size_t token_requests() const { return token_requests_; }

  // The server refused the credentials (HTTP 401/403): an OAuth2 token is dropped so the
  // next prepare fetches a new one instead of resending it until it expires.
  void credentials_refused();

  // Cancels the refresh timer; pending prepare callbacks are dropped.
  void stop();

 private:
  AuthHeaderSource(boost::asio::io_context &io, AuthSettings settings);
  void validate() const;
  bool token_fresh() const;
  void fetch_token();
  void token_fetched(const std::string &error, std::optional<OAuth2Token> token);
  void arm_refresh();

  boost::asio::io_context &io_;
  AuthSettings settings_;
  transport::HeaderList headers_;
  boost::asio::steady_timer refresh_timer_;
  std::optional<std::chrono::steady_clock::time_point> token_expiry_;
  std::chrono::steady_clock::time_point refresh_at_{};
  bool has_token_ = false;
  bool fetching_ = false;
  bool stopped_ = false;
  std::size_t token_requests_ = 0;
  std::vector<std::function<void(const std::string &)>> waiters_;
};

}  // namespace opsup::session
