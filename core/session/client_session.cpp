#include "session/client_session.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/logging.hpp"
#include "common/redact.hpp"
#include "common/uuid.hpp"
#include "opamp.pb.h"
#include "session/agent_description.hpp"
#include "session/auth_header_source.hpp"
#include "session/connection_offer.hpp"
#include "session/decode_problem.hpp"
#include "session/outgoing_state.hpp"
#include "session/reconnect_backoff.hpp"
#include "session/reconnect_policy.hpp"
#include "storage/persistent_state.hpp"
#include "transport/client_transport.hpp"
#include "transport/proxy_environment.hpp"

namespace opsup::session {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kReportsRemoteConfig = proto::AgentCapabilities_ReportsRemoteConfig;
constexpr uint64_t kReportsHeartbeat = proto::AgentCapabilities_ReportsHeartbeat;
constexpr seconds kDefaultHttpPollInterval{30};

// Used only to let ClientTransport::create validate the options at construction.
class NullHandler final : public transport::ClientTransportHandler {
 public:
  void on_connected() override {}
  void on_message(std::string_view) override {}
  void on_disconnected(const transport::DisconnectInfo &) override {}
  std::optional<std::string> next_message() override { return std::nullopt; }
};

bool is_http_endpoint(std::string_view endpoint) {
  return endpoint.starts_with("http://") || endpoint.starts_with("https://");
}

transport::DisconnectInfo disconnect_info(std::string reason,
                                          std::optional<milliseconds> retry_after = std::nullopt) {
  transport::DisconnectInfo info;
  info.reason = std::move(reason);
  info.retry_after = retry_after;
  return info;
}

}  // namespace

class ClientSession::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(boost::asio::io_context &io, SessionOptions options, SessionCallbacks callbacks);

  void initialize();
  void start();
  void shutdown(std::function<void()> done);
  void close_now();
  void set_collector_description(std::string_view serialized);
  void set_capabilities(uint64_t capabilities);
  void set_description_overrides(DescriptionOverrides overrides);
  void set_heartbeat_interval(seconds interval);
  void set_agent_fields(std::string_view module_id, std::span<const uint32_t> owned,
                        std::string_view agent_to_server);

  uint64_t capabilities() const { return outgoing_.capabilities(); }
  bool is_connected() const { return phase_ == Phase::kConnected; }
  storage::PersistentState &persistent_state() { return *state_; }
  modules::InstanceUid instance_uid() const { return state_->instance_id(); }
  uint64_t server_capabilities() const { return server_capabilities_; }
  const std::filesystem::path &storage_directory() const { return options_.storage_directory; }

  // Transport events, tagged with the connection they belong to.
  void handle_connected(uint64_t generation);
  void handle_message(uint64_t generation, std::string_view bytes);
  void handle_disconnected(uint64_t generation, const transport::DisconnectInfo &info);
  std::optional<std::string> produce_message(uint64_t generation);
  transport::HeaderList dynamic_headers() const;

  // Connection settings offers (ABI minor 4, see module.h try_opamp_connection_settings).
  bool try_connection_settings(std::string_view bytes, milliseconds timeout, bool committed,
                               std::function<void(const modules::ConnectionTrialResult &)> done);

 private:
  enum class Phase {
    kIdle,
    kPreparing,
    kConnecting,
    kConnected,
    kWaiting,
    kShuttingDown,
    kStopped
  };

  // Forwards one connection's transport events; events of a retired connection are
  // dropped because the generation no longer matches.
  class ConnectionHandler final : public transport::ClientTransportHandler {
   public:
    ConnectionHandler(std::weak_ptr<Impl> impl, uint64_t generation)
        : impl_(std::move(impl)), generation_(generation) {}
    void on_connected() override {
      if (auto impl = impl_.lock())
        impl->handle_connected(generation_);
    }
    void on_message(std::string_view message) override {
      if (auto impl = impl_.lock())
        impl->handle_message(generation_, message);
    }
    void on_disconnected(const transport::DisconnectInfo &info) override {
      if (auto impl = impl_.lock())
        impl->handle_disconnected(generation_, info);
    }
    std::optional<std::string> next_message() override {
      if (auto impl = impl_.lock())
        return impl->produce_message(generation_);
      return std::nullopt;
    }

   private:
    std::weak_ptr<Impl> impl_;
    uint64_t generation_;
  };

  struct Connection {
    std::unique_ptr<ConnectionHandler> handler;
    std::unique_ptr<transport::ClientTransport> transport;
    ~Connection() { transport.reset(); }  // before the handler it refers to
  };

  // A connection-settings trial: the settings to go back to and who waits for the outcome.
  struct Trial {
    uint64_t serial = 0;
    ConnectionSettings previous;
    std::function<void(const modules::ConnectionTrialResult &)> done;
    milliseconds timeout{0};
    // The connection made with the new settings; 0 until it is opened. Only its answers
    // and its failure decide the trial.
    uint64_t generation = 0;
  };

  transport::ClientOptions transport_options();
  ConnectionSettings current_settings() const {
    return {options_.endpoint, options_.headers, options_.tls, options_.proxy};
  }
  void use_settings(const ConnectionSettings &settings);
  void switch_connection();
  void post_switch();
  void finish_trial();
  void fail_trial(const std::string &reason);
  void reconnect_now();
  void apply_heartbeat_offer(seconds offered);
  void begin_connect();
  void open_connection();
  void retire_connection(bool abort);
  void fail_connection(const std::string &reason, std::optional<milliseconds> min_delay);
  void refuse_connection(const std::string &reason);
  void connection_lost(const transport::DisconnectInfo &info);
  void schedule_reconnect(std::optional<milliseconds> min_delay);
  void request_send();
  void arm_heartbeat();
  seconds heartbeat_interval() const;
  void request_full_state();
  void cancel_deferred_full_state() {
    full_state_timer_.cancel();
    full_state_deferred_ = false;
  }
  void handle_error_response(const proto::ServerErrorResponse &error);
  void adopt_instance_uid(const std::string &bytes);
  void apply_opamp_connection_settings(const proto::ServerToAgent &message);
  void refresh_agent_description();
  void report_stored_remote_config_status();
  bool current(uint64_t generation) const {
    return connection_ != nullptr && generation == generation_;
  }

  boost::asio::io_context &io_;
  SessionOptions options_;
  SessionCallbacks callbacks_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<storage::PersistentState> state_;
  OutgoingState outgoing_;
  ReconnectBackoff backoff_;
  std::shared_ptr<AuthHeaderSource> auth_;
  HostFacts host_facts_;
  std::optional<proto::AgentDescription> collector_description_;
  bool is_http_;
  std::string endpoint_for_logs_;  // userinfo redacted
  // server.* as configured: offers are read against it (connection_offer.hpp).
  const SessionOptions configured_;
  std::optional<Trial> trial_;
  uint64_t last_trial_serial_ = 0;
  boost::asio::steady_timer trial_timer_;
  // Connections saying goodbye (agent_disconnect) before a switch, by id.
  std::map<uint64_t, std::unique_ptr<Connection>> closing_;
  uint64_t last_closing_id_ = 0;

  Phase phase_ = Phase::kIdle;
  std::unique_ptr<Connection> connection_;
  uint64_t generation_ = 0;
  boost::asio::steady_timer reconnect_timer_;
  boost::asio::steady_timer heartbeat_timer_;
  // Defers a ReportFullState that arrives inside the coalescing window to its end.
  boost::asio::steady_timer full_state_timer_;
  bool full_state_deferred_ = false;
  std::optional<seconds> offered_heartbeat_interval_;
  uint64_t server_capabilities_ = 0;
  std::optional<Clock::time_point> last_full_report_;
  bool send_posted_ = false;
  bool heartbeat_due_ = false;
  // The backoff starts over only once a connection proved healthy (reconnect_policy.hpp).
  bool healthy_exchange_ = false;
  Clock::time_point connected_at_{};
};

ClientSession::Impl::Impl(boost::asio::io_context &io, SessionOptions options,
                          SessionCallbacks callbacks)
    : io_(io),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      log_(common::get_logger("opamp-client")),
      outgoing_(options_.capabilities),
      backoff_(options_.reconnect_initial_interval, options_.reconnect_max_interval,
               options_.reconnect_jitter),
      is_http_(is_http_endpoint(options_.endpoint)),
      endpoint_for_logs_(common::url_for_logs(options_.endpoint)),
      configured_(options_),
      trial_timer_(io),
      reconnect_timer_(io),
      heartbeat_timer_(io),
      full_state_timer_(io) {}

void ClientSession::Impl::initialize() {
  if (options_.storage_directory.empty()) {
    throw std::invalid_argument("the storage directory must be set");
  }
  {
    NullHandler validation_handler;
    transport::ClientTransport::create(io_, transport_options(), validation_handler);
  }
  auth_ = AuthHeaderSource::create(io_, options_.auth);
  state_ =
      storage::PersistentState::load_or_create(options_.storage_directory, options_.instance_id);
  outgoing_.set_instance_uid(state_->instance_id());
  host_facts_ = read_host_facts();
  refresh_agent_description();
}

void ClientSession::Impl::report_stored_remote_config_status() {
  // Like the Go supervisor, the server sees the last remote config status at once. The
  // capabilities are final only at start: modules are loaded after the session exists.
  // The remote_config module reports for itself once it has started applying something.
  if ((outgoing_.capabilities() & kReportsRemoteConfig) == 0 ||
      outgoing_.has_remote_config_status())
    return;
  if (auto stored = state_->last_remote_config_status()) {
    proto::AgentToServer fields;
    auto *status = fields.mutable_remote_config_status();
    status->set_status(static_cast<proto::RemoteConfigStatuses>(stored->status));
    status->set_last_remote_config_hash(stored->last_remote_config_hash);
    status->set_error_message(stored->error_message);
    const uint32_t field = 7;
    outgoing_.set_module_fields("core", std::span(&field, 1), fields);
  }
}

transport::ClientOptions ClientSession::Impl::transport_options() {
  transport::ClientOptions options;
  options.endpoint = options_.endpoint;
  options.headers = options_.headers;
  std::weak_ptr<Impl> weak = weak_from_this();
  options.dynamic_headers = [weak]() -> transport::HeaderList {
    auto impl = weak.lock();
    return impl ? impl->dynamic_headers() : transport::HeaderList{};
  };
  options.tls = options_.tls;
  options.unix_socket_path = options_.unix_socket_path;
  // server.proxy (or an offered one), else what the environment says for this endpoint.
  options.proxy =
      !options_.proxy.url.empty()
          ? options_.proxy
          : transport::proxy_from_environment(options_.endpoint, transport::process_environment());
  options.max_message_bytes = options_.max_message_bytes;
  options.connect_timeout = options_.connect_timeout;
  // Heartbeats already reveal a dead connection; pings only stand in when they are off.
  if (heartbeat_interval().count() <= 0)
    options.ping_interval = options_.websocket_ping_interval;
  options.gzip_http_requests = options_.gzip_http_requests;
  return options;
}

transport::HeaderList ClientSession::Impl::dynamic_headers() const {
  transport::HeaderList headers = auth_ ? auth_->headers() : transport::HeaderList{};
  // The UID can change during a session (AgentIdentification), hence not a fixed option.
  if (is_http_ && state_) {
    headers.push_back({"OpAMP-Instance-UID", common::format_uuid(state_->instance_id())});
  }
  return headers;
}

void ClientSession::Impl::start() {
  if (phase_ != Phase::kIdle)
    return;
  report_stored_remote_config_status();
  log_->info("Connecting to the OpAMP server at {} (instance UID {})", endpoint_for_logs_,
             common::format_uuid(state_->instance_id()));
  begin_connect();
}

void ClientSession::Impl::begin_connect() {
  phase_ = Phase::kPreparing;
  const uint64_t attempt = ++generation_;
  std::weak_ptr<Impl> weak = weak_from_this();
  auth_->prepare([weak, attempt](const std::string &error) {
    auto impl = weak.lock();
    if (!impl || impl->phase_ != Phase::kPreparing || impl->generation_ != attempt)
      return;
    if (!error.empty()) {
      impl->connection_lost(disconnect_info(error));
      return;
    }
    impl->open_connection();
  });
}

void ClientSession::Impl::open_connection() {
  auto connection = std::make_unique<Connection>();
  const uint64_t generation = ++generation_;
  connection->handler = std::make_unique<ConnectionHandler>(weak_from_this(), generation);
  try {
    connection->transport =
        transport::ClientTransport::create(io_, transport_options(), *connection->handler);
  } catch (const std::exception &error) {
    connection_lost(disconnect_info(error.what()));
    return;
  }
  connection_ = std::move(connection);
  phase_ = Phase::kConnecting;
  if (trial_ && trial_->generation == 0)
    trial_->generation = generation;
  heartbeat_due_ = false;
  // The first message of every connection is a full status report (spec).
  cancel_deferred_full_state();
  outgoing_.request_full_state();
  connection_->transport->connect();
}

void ClientSession::Impl::retire_connection(bool abort) {
  heartbeat_timer_.cancel();
  if (!connection_)
    return;
  ++generation_;
  if (abort)
    connection_->transport->abort();
  // We may be inside one of this transport's callbacks: destroy it later.
  boost::asio::post(io_, [retired = std::shared_ptr<Connection>(std::move(connection_))] {});
}

void ClientSession::Impl::handle_connected(uint64_t generation) {
  if (!current(generation) || phase_ != Phase::kConnecting)
    return;
  phase_ = Phase::kConnected;
  // Not a reason to reset the backoff yet: a server may accept and then send garbage.
  healthy_exchange_ = false;
  connected_at_ = Clock::now();
  log_->info("Connected to the OpAMP server at {}", endpoint_for_logs_);
  if (callbacks_.on_connected)
    callbacks_.on_connected();
  arm_heartbeat();
  request_send();
}

std::optional<std::string> ClientSession::Impl::produce_message(uint64_t generation) {
  if (!current(generation))
    return std::nullopt;
  if (phase_ != Phase::kConnected && phase_ != Phase::kConnecting)
    return std::nullopt;
  if (!outgoing_.has_pending() && !heartbeat_due_)
    return std::nullopt;
  const bool full = outgoing_.full_state_pending();
  const bool heartbeat = !outgoing_.has_pending();
  proto::AgentToServer message = outgoing_.take_next_message();
  heartbeat_due_ = false;
  if (full)
    last_full_report_ = Clock::now();
  log_->debug("Sending AgentToServer #{} ({})", message.sequence_num(),
              full        ? "full report"
              : heartbeat ? "heartbeat"
                          : "changes");
  // Any message counts as a heartbeat: count the interval from the last one sent.
  if (phase_ == Phase::kConnected)
    arm_heartbeat();
  if (outgoing_.has_pending())
    request_send();  // e.g. more queued custom messages
  if (callbacks_.on_message_sent)
    callbacks_.on_message_sent();
  return message.SerializeAsString();
}

void ClientSession::Impl::request_send() {
  if (send_posted_ || !connection_)
    return;
  // WebSocket sends only once connected; HTTP's first request is already armed.
  if (phase_ != Phase::kConnected && !(is_http_ && phase_ == Phase::kConnecting))
    return;
  send_posted_ = true;
  // Posted, so several changes made in one handler go out in one message.
  boost::asio::post(io_, [weak = weak_from_this()] {
    auto impl = weak.lock();
    if (!impl)
      return;
    impl->send_posted_ = false;
    if (!impl->connection_)
      return;
    if (impl->phase_ != Phase::kConnected &&
        !(impl->is_http_ && impl->phase_ == Phase::kConnecting)) {
      return;
    }
    if (impl->outgoing_.has_pending() || impl->heartbeat_due_) {
      impl->connection_->transport->notify_pending();
    }
  });
}

seconds ClientSession::Impl::heartbeat_interval() const {
  seconds interval{0};
  if ((outgoing_.capabilities() & kReportsHeartbeat) != 0) {
    interval = offered_heartbeat_interval_.value_or(options_.heartbeat_interval);
  }
  // Plain HTTP polls at the heartbeat interval, or every 30 s without heartbeats.
  if (is_http_ && interval.count() <= 0)
    interval = kDefaultHttpPollInterval;
  return interval;
}

void ClientSession::Impl::arm_heartbeat() {
  heartbeat_timer_.cancel();
  const seconds interval = heartbeat_interval();
  if (interval.count() <= 0)
    return;
  heartbeat_timer_.expires_after(interval);
  const uint64_t generation = generation_;
  heartbeat_timer_.async_wait(
      [weak = weak_from_this(), generation](boost::system::error_code error) {
        auto impl = weak.lock();
        if (error || !impl || !impl->current(generation) || impl->phase_ != Phase::kConnected)
          return;
        impl->heartbeat_due_ = true;
        impl->request_send();
      });
}

void ClientSession::Impl::handle_message(uint64_t generation, std::string_view bytes) {
  if (!current(generation))
    return;
  if (phase_ != Phase::kConnected && phase_ != Phase::kConnecting)
    return;
  proto::ServerToAgent message;
  if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    // Closed with a close frame (1007), not by dropping TCP: the server learns why.
    refuse_connection("cannot decode the ServerToAgent message (" + std::to_string(bytes.size()) +
                      " bytes) from " + endpoint_for_logs_ + ": " +
                      describe_undecodable_server_to_agent(bytes));
    return;
  }
  if (callbacks_.on_message_received)
    callbacks_.on_message_received();
  const bool trial_answer = trial_ && trial_->generation == generation;
  if (message.has_error_response()) {
    if (trial_answer) {
      // Not the answer a trial waits for: go back to the settings that worked.
      fail_trial("the server at " + endpoint_for_logs_ +
                 " answered with an error: " + message.error_response().error_message());
      reconnect_now();
      return;
    }
    // error_response excludes every other field (spec).
    handle_error_response(message.error_response());
    return;
  }
  if (trial_answer)
    finish_trial();  // the new server answered the status report
  if (!healthy_exchange_) {
    healthy_exchange_ = true;
    backoff_.reset();
  }
  if (message.capabilities() != 0 && message.capabilities() != server_capabilities_) {
    server_capabilities_ = message.capabilities();
    log_->debug("Server capabilities: {:#x}", server_capabilities_);
  }
  if (message.has_command()) {
    // A command message carries only command, instance_uid and capabilities (spec).
    proto::ServerToAgent command_only;
    *command_only.mutable_command() = message.command();
    if (callbacks_.route_server_message) {
      callbacks_.route_server_message(command_only.SerializeAsString(), outgoing_.capabilities());
    }
    return;
  }
  if (message.has_agent_identification()) {
    adopt_instance_uid(message.agent_identification().new_instance_uid());
  }
  apply_opamp_connection_settings(message);
  if ((message.flags() & proto::ServerToAgentFlags_ReportFullState) != 0)
    request_full_state();
  if (callbacks_.route_server_message) {
    callbacks_.route_server_message(bytes, outgoing_.capabilities());
  }
  if (outgoing_.has_pending())
    request_send();
}

void ClientSession::Impl::handle_error_response(const proto::ServerErrorResponse &error) {
  switch (error.type()) {
    case proto::ServerErrorResponseType_BadRequest:
      // The spec says not to retry that message; nothing is resent automatically.
      log_->error("Server returned an error response: bad request: {}", error.error_message());
      return;
    case proto::ServerErrorResponseType_Unavailable: {
      std::optional<milliseconds> retry_after;
      if (error.has_retry_info()) {
        const uint64_t requested_ns = error.retry_info().retry_after_nanoseconds();
        const ServerDelay clamped =
            clamp_server_delay_ns(requested_ns, options_.reconnect_max_server_delay);
        if (clamped.clamped) {
          log_->warn(
              "The server asked to wait {} ns (retry_after_nanoseconds) before reconnecting; "
              "clamped to {} ms (server.reconnect.max_server_delay)",
              requested_ns, clamped.delay.count());
        }
        retry_after = clamped.delay;
      }
      log_->warn("Server returned an error response: unavailable: {}{}", error.error_message(),
                 retry_after
                     ? "; retrying after at least " + std::to_string(retry_after->count()) + " ms"
                     : std::string());
      fail_connection(
          "the server " + endpoint_for_logs_ + " is unavailable: " + error.error_message(),
          retry_after);
      return;
    }
    default:
      log_->error("Server returned an error response: {}", error.error_message());
      return;
  }
}

void ClientSession::Impl::adopt_instance_uid(const std::string &bytes) {
  if (bytes.size() != 16) {
    log_->error("The server assigned an instance UID of {} bytes (16 expected); ignored",
                bytes.size());
    return;
  }
  InstanceUid uid;
  std::copy(bytes.begin(), bytes.end(), uid.begin());
  if (uid == state_->instance_id())
    return;
  log_->info("The server assigned a new instance UID: {} (was {})", common::format_uuid(uid),
             common::format_uuid(state_->instance_id()));
  try {
    state_->set_instance_id(uid);
  } catch (const std::exception &error) {
    log_->error("Cannot persist the new instance UID; the instance ID will revert on restart: {}",
                error.what());
  }
  outgoing_.set_instance_uid(uid);
  if (collector_description_)
    replace_service_instance_id(*collector_description_, uid);
  refresh_agent_description();
  if (callbacks_.on_instance_uid_changed)
    callbacks_.on_instance_uid_changed(uid);
}

void ClientSession::Impl::apply_opamp_connection_settings(const proto::ServerToAgent &message) {
  if (!message.has_connection_settings() || !message.connection_settings().has_opamp())
    return;
  if ((outgoing_.capabilities() & kReportsHeartbeat) == 0) {
    log_->debug("Heartbeat interval offer ignored: ReportsHeartbeat is not advertised");
    return;
  }
  apply_heartbeat_offer(seconds(
      static_cast<int64_t>(message.connection_settings().opamp().heartbeat_interval_seconds())));
}

void ClientSession::Impl::apply_heartbeat_offer(seconds offered) {
  if ((outgoing_.capabilities() & kReportsHeartbeat) == 0)
    return;
  if (offered_heartbeat_interval_ == offered)
    return;
  offered_heartbeat_interval_ = offered;
  log_->info("The server set the heartbeat interval to {} s{}", offered.count(),
             offered.count() == 0 ? " (heartbeats off)" : "");
  if (phase_ == Phase::kConnected)
    arm_heartbeat();
}

bool ClientSession::Impl::try_connection_settings(
    std::string_view bytes, milliseconds timeout, bool committed,
    std::function<void(const modules::ConnectionTrialResult &)> done) {
  using Result = modules::ConnectionTrialResult;
  if (phase_ == Phase::kShuttingDown || phase_ == Phase::kStopped) {
    done(Result{Result::Status::kFailed, "the supervisor is stopping"});
    return true;
  }
  ConnectionOffer offer;
  try {
    offer = read_connection_offer(bytes, configured_, options_.endpoint);
    // The transport checks the endpoint and loads the PEM material now, so a bad offer is
    // refused before the working connection is touched.
    const ConnectionSettings saved = current_settings();
    use_settings(offer.settings);
    try {
      NullHandler validation_handler;
      transport::ClientTransport::create(io_, transport_options(), validation_handler);
    } catch (...) {
      use_settings(saved);
      throw;
    }
    use_settings(saved);
  } catch (const std::exception &error) {
    log_->warn("Connection settings refused: {}", error.what());
    done(Result{Result::Status::kInvalid, error.what()});
    return true;
  }
  for (const auto &note : offer.notes)
    log_->info("Connection settings: {}", note);
  apply_heartbeat_offer(offer.heartbeat_interval);

  ConnectionSettings previous = current_settings();
  if (trial_) {
    // The settings that worked stay the ones to go back to.
    Trial replaced = std::move(*trial_);
    trial_.reset();
    trial_timer_.cancel();
    previous = replaced.previous;
    replaced.done(Result{Result::Status::kFailed, "replaced by a newer offer"});
  }
  const std::string before = endpoint_for_logs_;
  use_settings(offer.settings);
  if (committed) {
    log_->info("Using the stored connection settings: the OpAMP server at {}", endpoint_for_logs_);
    if (phase_ != Phase::kIdle)
      post_switch();
    done(Result{});
    return true;
  }
  trial_ = Trial{++last_trial_serial_, std::move(previous), std::move(done), timeout};
  log_->info(
      "Trying the offered connection settings: the OpAMP server at {} (was {}); they are kept "
      "once it answers a status report within {} ms",
      endpoint_for_logs_, before, timeout.count());
  trial_timer_.expires_after(timeout);
  trial_timer_.async_wait(
      [weak = weak_from_this(), serial = trial_->serial](boost::system::error_code error) {
        auto impl = weak.lock();
        if (error || !impl || !impl->trial_ || impl->trial_->serial != serial)
          return;
        impl->fail_trial("the OpAMP server at " + impl->endpoint_for_logs_ +
                         " did not answer a status report within " +
                         std::to_string(impl->trial_->timeout.count()) + " ms");
        impl->reconnect_now();
      });
  if (phase_ != Phase::kIdle)
    post_switch();
  return true;
}

void ClientSession::Impl::post_switch() {
  // Not from inside the current connection's callbacks (the offer usually arrives there).
  boost::asio::post(io_, [weak = weak_from_this()] {
    auto impl = weak.lock();
    if (!impl || impl->phase_ == Phase::kIdle || impl->phase_ == Phase::kShuttingDown ||
        impl->phase_ == Phase::kStopped)
      return;
    impl->switch_connection();
  });
}

void ClientSession::Impl::use_settings(const ConnectionSettings &settings) {
  options_.endpoint = settings.endpoint;
  options_.headers = settings.headers;
  options_.tls = settings.tls;
  options_.proxy = settings.proxy;
  is_http_ = is_http_endpoint(options_.endpoint);
  endpoint_for_logs_ = common::url_for_logs(options_.endpoint);
}

void ClientSession::Impl::switch_connection() {
  reconnect_timer_.cancel();
  heartbeat_timer_.cancel();
  if (phase_ == Phase::kConnected && connection_) {
    // Goodbye first (spec: agent_disconnect before switching), bounded like a shutdown;
    // the new connection does not wait for it.
    const uint64_t id = ++last_closing_id_;
    proto::AgentToServer goodbye = outgoing_.take_disconnect_message();
    ++generation_;  // the old connection's events are dropped from now on
    Connection &closing = *closing_.emplace(id, std::move(connection_)).first->second;
    closing.transport->shutdown(goodbye.SerializeAsString(), options_.shutdown_timeout,
                                [weak = weak_from_this(), id] {
                                  auto impl = weak.lock();
                                  if (!impl)
                                    return;
                                  // We are inside that transport's callback: free it later.
                                  boost::asio::post(impl->io_, [weak, id] {
                                    if (auto later = weak.lock())
                                      later->closing_.erase(id);
                                  });
                                });
  } else {
    retire_connection(/*abort=*/true);
  }
  begin_connect();
}

void ClientSession::Impl::reconnect_now() {
  retire_connection(/*abort=*/true);
  backoff_.reset();
  if (phase_ == Phase::kShuttingDown || phase_ == Phase::kStopped || phase_ == Phase::kIdle)
    return;
  begin_connect();
}

void ClientSession::Impl::finish_trial() {
  Trial trial = std::move(*trial_);
  trial_.reset();
  trial_timer_.cancel();
  log_->info("The OpAMP server at {} answered: the offered connection settings are in force",
             endpoint_for_logs_);
  trial.done(modules::ConnectionTrialResult{});
}

void ClientSession::Impl::fail_trial(const std::string &reason) {
  Trial trial = std::move(*trial_);
  trial_.reset();
  trial_timer_.cancel();
  use_settings(trial.previous);
  log_->warn(
      "The offered connection settings did not work ({}); going back to the OpAMP server "
      "at {}",
      reason, endpoint_for_logs_);
  trial.done(
      modules::ConnectionTrialResult{modules::ConnectionTrialResult::Status::kFailed, reason});
}

void ClientSession::Impl::request_full_state() {
  if (outgoing_.full_state_pending() || full_state_deferred_)
    return;
  if (last_full_report_) {
    const Clock::time_point window_end = *last_full_report_ + options_.full_state_coalescing_window;
    if (Clock::now() < window_end) {
      // At most one full report per window, so a server cannot drive a storm; the
      // request is still answered, once, when the window ends.
      log_->debug("ReportFullState deferred to the end of the coalescing window");
      full_state_deferred_ = true;
      full_state_timer_.expires_at(window_end);
      full_state_timer_.async_wait(
          [weak = weak_from_this(), requested_at = Clock::now()](boost::system::error_code error) {
            auto impl = weak.lock();
            if (error || !impl)
              return;
            impl->full_state_deferred_ = false;
            if (*impl->last_full_report_ >= requested_at)
              return;  // a full report went out meanwhile
            impl->outgoing_.request_full_state();
            impl->request_send();
          });
      return;
    }
  }
  outgoing_.request_full_state();
  request_send();
}

void ClientSession::Impl::fail_connection(const std::string &reason,
                                          std::optional<milliseconds> min_delay) {
  if (connection_)
    connection_->transport->abort();
  connection_lost(disconnect_info(reason, min_delay));
}

void ClientSession::Impl::refuse_connection(const std::string &reason) {
  if (connection_)
    connection_->transport->refuse();
  connection_lost(disconnect_info(reason));
}

void ClientSession::Impl::handle_disconnected(uint64_t generation,
                                              const transport::DisconnectInfo &info) {
  if (!current(generation))
    return;
  if (phase_ == Phase::kShuttingDown || phase_ == Phase::kStopped)
    return;
  connection_lost(info);
}

void ClientSession::Impl::connection_lost(const transport::DisconnectInfo &info) {
  const bool was_connected = phase_ == Phase::kConnected;
  if (was_connected &&
      connection_was_healthy(healthy_exchange_, std::chrono::duration_cast<milliseconds>(
                                                    Clock::now() - connected_at_))) {
    backoff_.reset();
  }
  if (info.http_status == 401 || info.http_status == 403)
    auth_->credentials_refused();  // a revoked token must not be sent again
  retire_connection(/*abort=*/false);
  if (was_connected) {
    log_->warn("Disconnected from the OpAMP server: {}", info.reason);
    if (callbacks_.on_disconnected)
      callbacks_.on_disconnected(info.reason);
  } else {
    log_->error("Failed to connect to the OpAMP server: {}", info.reason);
    if (callbacks_.on_connect_failed)
      callbacks_.on_connect_failed(info.reason);
  }
  if (phase_ == Phase::kShuttingDown || phase_ == Phase::kStopped)
    return;  // a callback stopped us
  if (trial_ && trial_->generation != 0) {
    fail_trial(info.reason);
    reconnect_now();
    return;
  }
  schedule_reconnect(info.retry_after);
}

void ClientSession::Impl::schedule_reconnect(std::optional<milliseconds> min_delay) {
  phase_ = Phase::kWaiting;
  milliseconds delay = backoff_.next_delay();
  if (min_delay) {
    const ServerDelay server = clamp_server_delay(*min_delay, options_.reconnect_max_server_delay);
    if (server.clamped) {
      log_->warn(
          "The server asked to wait {} ms (Retry-After) before reconnecting; clamped to {} ms "
          "(server.reconnect.max_server_delay)",
          min_delay->count(), server.delay.count());
    }
    delay = std::max(delay, server.delay);
  }
  log_->info("Reconnecting to {} in {} ms", endpoint_for_logs_, delay.count());
  reconnect_timer_.expires_after(delay);
  reconnect_timer_.async_wait([weak = weak_from_this()](boost::system::error_code error) {
    auto impl = weak.lock();
    if (error || !impl || impl->phase_ != Phase::kWaiting)
      return;
    impl->begin_connect();
  });
}

void ClientSession::Impl::refresh_agent_description() {
  proto::AgentDescription description =
      collector_description_ ? *collector_description_
                             : host_facts_description(host_facts_, options_.default_service_name,
                                                      state_->instance_id());
  apply_description_overrides(description, options_.description_overrides);
  if (outgoing_.set_agent_description(description))
    request_send();
}

void ClientSession::Impl::set_collector_description(std::string_view serialized) {
  proto::AgentDescription description;
  if (!description.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    throw std::invalid_argument("the Collector's AgentDescription does not parse");
  }
  collector_description_ = std::move(description);
  refresh_agent_description();
}

void ClientSession::Impl::set_capabilities(uint64_t capabilities) {
  if (capabilities == outgoing_.capabilities())
    return;
  outgoing_.set_capabilities(capabilities);
  if (phase_ == Phase::kConnected)
    arm_heartbeat();
  request_send();
}

void ClientSession::Impl::set_description_overrides(DescriptionOverrides overrides) {
  options_.description_overrides = std::move(overrides);
  refresh_agent_description();
}

void ClientSession::Impl::set_heartbeat_interval(seconds interval) {
  if (interval == options_.heartbeat_interval)
    return;
  options_.heartbeat_interval = interval;
  if (offered_heartbeat_interval_) {
    log_->info("Heartbeat interval {} s configured; the server's offer of {} s still applies",
               interval.count(), offered_heartbeat_interval_->count());
    return;
  }
  log_->info("Heartbeat interval is now {} s", interval.count());
  if (phase_ == Phase::kConnected)
    arm_heartbeat();
}

void ClientSession::Impl::set_agent_fields(std::string_view module_id,
                                           std::span<const uint32_t> owned,
                                           std::string_view agent_to_server) {
  proto::AgentToServer fields;
  if (!fields.ParseFromArray(agent_to_server.data(), static_cast<int>(agent_to_server.size()))) {
    log_->error("Module {} set AgentToServer fields that do not parse; ignored", module_id);
    return;
  }
  if (outgoing_.set_module_fields(module_id, owned, fields))
    request_send();
}

void ClientSession::Impl::shutdown(std::function<void()> done) {
  if (phase_ == Phase::kShuttingDown || phase_ == Phase::kStopped) {
    boost::asio::post(io_, std::move(done));
    return;
  }
  reconnect_timer_.cancel();
  heartbeat_timer_.cancel();
  trial_timer_.cancel();
  trial_.reset();  // not committed: the module hears nothing more once stopped
  cancel_deferred_full_state();
  auth_->stop();
  if (phase_ != Phase::kConnected || !connection_) {
    retire_connection(/*abort=*/true);
    phase_ = Phase::kStopped;
    boost::asio::post(io_, std::move(done));
    return;
  }
  phase_ = Phase::kShuttingDown;
  proto::AgentToServer goodbye = outgoing_.take_disconnect_message();
  log_->info("Disconnecting from the OpAMP server at {}", endpoint_for_logs_);
  connection_->transport->shutdown(goodbye.SerializeAsString(), options_.shutdown_timeout,
                                   [weak = weak_from_this(), done = std::move(done)] {
                                     if (auto impl = weak.lock()) {
                                       impl->phase_ = Phase::kStopped;
                                       impl->retire_connection(/*abort=*/false);
                                     }
                                     done();
                                   });
}

void ClientSession::Impl::close_now() {
  reconnect_timer_.cancel();
  heartbeat_timer_.cancel();
  trial_timer_.cancel();
  trial_.reset();
  for (auto &[id, closing] : closing_)
    closing->transport->abort();
  closing_.clear();
  cancel_deferred_full_state();
  if (auth_)
    auth_->stop();
  if (phase_ != Phase::kShuttingDown)
    retire_connection(/*abort=*/true);
  phase_ = Phase::kStopped;
}

// ---------------------------------------------------------------------------

ClientSession::ClientSession(boost::asio::io_context &io, SessionOptions options,
                             SessionCallbacks callbacks)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(callbacks))) {
  impl_->initialize();
}

ClientSession::~ClientSession() {
  impl_->close_now();
}

void ClientSession::start() {
  impl_->start();
}

void ClientSession::shutdown(std::function<void()> done) {
  impl_->shutdown(std::move(done));
}

void ClientSession::set_agent_description(std::string_view serialized_agent_description) {
  impl_->set_collector_description(serialized_agent_description);
}

void ClientSession::set_capabilities(uint64_t capabilities) {
  impl_->set_capabilities(capabilities);
}

void ClientSession::set_description_overrides(DescriptionOverrides overrides) {
  impl_->set_description_overrides(std::move(overrides));
}

void ClientSession::set_heartbeat_interval(std::chrono::seconds interval) {
  impl_->set_heartbeat_interval(interval);
}

uint64_t ClientSession::capabilities() const {
  return impl_->capabilities();
}

bool ClientSession::is_connected() const {
  return impl_->is_connected();
}

storage::PersistentState &ClientSession::persistent_state() {
  return impl_->persistent_state();
}

modules::InstanceUid ClientSession::instance_uid() const {
  return impl_->instance_uid();
}

uint64_t ClientSession::server_capabilities() const {
  return impl_->server_capabilities();
}

storage::PersistentState *ClientSession::persistent_state_for_modules() {
  return &impl_->persistent_state();
}

bool ClientSession::try_connection_settings(
    std::string_view opamp_connection_settings, std::chrono::milliseconds timeout, bool committed,
    std::function<void(const modules::ConnectionTrialResult &)> done) {
  return impl_->try_connection_settings(opamp_connection_settings, timeout, committed,
                                        std::move(done));
}

std::filesystem::path ClientSession::storage_directory() const {
  return impl_->storage_directory();
}

void ClientSession::set_agent_fields(std::string_view module_id,
                                     std::span<const uint32_t> owned_fields,
                                     std::string_view agent_to_server) {
  impl_->set_agent_fields(module_id, owned_fields, agent_to_server);
}

}  // namespace opsup::session
