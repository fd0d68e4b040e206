#include "collector/local_opamp_server.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <spdlog/spdlog.h>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "common/log_throttle.hpp"
#include "common/logging.hpp"
#include "opamp.pb.h"
#include "transport/server_transport.hpp"

namespace opsup::collector {
namespace {

constexpr std::size_t kMaxPendingHttpReplies = 64;

std::string held_back_note(uint64_t held_back) {
  return held_back == 0 ? std::string()
                        : " (" + std::to_string(held_back) + " more refusals not logged)";
}

namespace pb = opamp::proto::v1;

constexpr const char *kLoggerName = "local-opamp-server";

std::shared_ptr<spdlog::logger> logger() {
  return common::get_logger(kLoggerName);
}

// "uid 1000" from a Unix-socket request (its peer text already names the pid), "no peer
// credentials" otherwise.
std::string describe_credentials(const transport::RequestInfo &request) {
  if (!request.peer_credentials)
    return "no peer credentials";
  return "uid " + std::to_string(request.peer_credentials->uid);
}

// Creates the socket's parent directory with 0700 when it is missing (as upstream), or 0710
// with the run_as group so the Collector can reach the socket; an existing directory is
// left as it is.
void prepare_socket_directory(const std::filesystem::path &socket_path,
                              const std::optional<CollectorCredentials> &credentials) {
  const auto parent = socket_path.parent_path();
  if (parent.empty())
    return;
  std::error_code ec;
  if (std::filesystem::exists(parent, ec))
    return;
  std::filesystem::create_directories(parent, ec);
  if (ec) {
    throw std::system_error(
        ec, "local OpAMP server: cannot create the socket's directory " + parent.string());
  }
  if (credentials && chown(parent.c_str(), static_cast<uid_t>(-1), credentials->gid) != 0) {
    throw std::system_error(
        errno, std::generic_category(),
        "local OpAMP server: cannot give the run_as group to " + parent.string());
  }
  const mode_t mode = credentials ? 0710 : 0700;
  if (chmod(parent.c_str(), mode) != 0) {
    throw std::system_error(errno, std::generic_category(),
                            std::string("local OpAMP server: cannot chmod ") +
                                (credentials ? "0710 " : "0700 ") + parent.string());
  }
}

}  // namespace

struct LocalOpampServer::Impl final : transport::ServerHandler {
  boost::asio::io_context &io;
  LocalOpampServerOptions options;
  LocalOpampServerCallbacks callbacks;
  std::unique_ptr<transport::ServerTransport> server;
  bool started = false;

  pid_t collector_pid = 0;
  uid_t collector_uid = getuid();  // the supervisor's, or the run_as user's

  std::shared_ptr<transport::ServerConnection> active;  // the connected Collector
  std::string active_peer;
  std::vector<std::string> pending_http_replies;  // serialized, for an HTTP Collector
  // Any local process can provoke refusals at will: their log lines are rate-limited.
  mutable common::LogThrottle refusal_log;

  std::optional<pb::AgentDescription> description;
  std::optional<pb::ComponentHealth> health;
  std::optional<pb::EffectiveConfig> effective_config;
  std::optional<pb::AvailableComponents> available_components;

  Impl(boost::asio::io_context &io_context, LocalOpampServerOptions opts,
       LocalOpampServerCallbacks cbs)
      : io(io_context), options(std::move(opts)), callbacks(std::move(cbs)) {
    if (options.instance_uid.empty())
      throw std::invalid_argument("local OpAMP server: instance_uid must be set");
    if (options.max_message_bytes == 0)
      throw std::invalid_argument("local OpAMP server: max_message_bytes must be positive");
    if (!options.unix_socket_path.empty() && options.port != 0) {
      throw std::invalid_argument(
          "local OpAMP server: a port and a Unix socket cannot both be set");
    }
    if (options.collector_credentials)
      collector_uid = options.collector_credentials->uid;
  }

  bool unix_socket() const { return !options.unix_socket_path.empty(); }

  std::optional<transport::Rejection> admit(const transport::RequestInfo &request) override {
    if (unix_socket()) {
      if (auto refused = check_peer(request))
        return refused;
    }
    if (active && (request.websocket_upgrade || request.peer != active_peer)) {
      uint64_t held_back = 0;
      if (refusal_log.admit(held_back)) {
        logger()->warn(
            "local OpAMP server: refused a second Collector connection from {} ({}): {} is "
            "connected; answered 409{}",
            request.peer, describe_credentials(request), active_peer, held_back_note(held_back));
      }
      return transport::Rejection{409, "another Collector is connected\n", std::nullopt};
    }
    return std::nullopt;
  }

  // nullopt when the Unix-socket peer is the current Collector, with the Collector's uid.
  std::optional<transport::Rejection> check_peer(const transport::RequestInfo &request) const {
    const auto &credentials = request.peer_credentials;
    std::string why;
    if (!credentials) {
      why = "its credentials could not be read";
    } else if (credentials->uid != collector_uid) {
      why = "its uid " + std::to_string(credentials->uid) + " is not the Collector's " +
            std::to_string(collector_uid) +
            (options.collector_credentials ? " (agent.run_as)" : " (the supervisor's)");
    } else if (collector_pid == 0) {
      why = "no Collector is running";
    } else if (credentials->pid != collector_pid) {
      why = "its pid " + std::to_string(credentials->pid) + " is not the Collector's " +
            std::to_string(collector_pid);
    } else {
      return std::nullopt;
    }
    uint64_t held_back = 0;
    if (refusal_log.admit(held_back)) {
      logger()->warn("local OpAMP server: refused {} ({}): {}; answered 403{}", request.peer,
                     describe_credentials(request), why, held_back_note(held_back));
    }
    return transport::Rejection{403, "only the supervised Collector may connect\n", std::nullopt};
  }

  void on_connected(const std::shared_ptr<transport::ServerConnection> &connection) override {
    const std::string &peer = connection->request().peer;
    if (active) {
      // Two upgrades admitted before either completed: the first one stays.
      logger()->warn(
          "local OpAMP server: closed a second Collector connection from {}: {} is connected", peer,
          active_peer);
      connection->close(1008, "another Collector is connected");
      return;
    }
    active = connection;
    active_peer = peer;
    pending_http_replies.clear();
    logger()->info("local OpAMP server: Collector connected from {} ({})", peer,
                   connection->is_websocket() ? "WebSocket" : "HTTP");
    if (callbacks.on_connected)
      callbacks.on_connected(peer);
  }

  void on_message(const std::shared_ptr<transport::ServerConnection> &connection,
                  std::string_view data) override {
    if (connection != active) {
      connection->close(1008, "another Collector is connected");
      return;
    }
    pb::AgentToServer message;
    if (!message.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
      logger()->warn("local OpAMP server: {} sent {} bytes that are not an AgentToServer; closing",
                     active_peer, data.size());
      connection->close(1007, "undecodable AgentToServer");
      return;
    }
    if (message.has_agent_description())
      description = message.agent_description();
    if (message.has_health())
      health = message.health();
    if (message.has_effective_config())
      effective_config = message.effective_config();
    if (message.has_available_components())
      available_components = message.available_components();
    if (connection->is_websocket()) {
      // Every message gets a reply, as from upstream's server: the extension's OpAMP client
      // does not always stop promptly when its messages went unanswered (its SIGTERM then
      // took 5 s in about a quarter of the stops right after a start).
      pb::ServerToAgent reply;
      reply.set_instance_uid(message.instance_uid());
      connection->send(reply.SerializeAsString());
    } else if (!pending_http_replies.empty()) {
      connection->send(std::move(pending_http_replies.front()));
      pending_http_replies.erase(pending_http_replies.begin());
    }
    if (callbacks.on_message)
      callbacks.on_message(message);
  }

  void on_closed(const std::shared_ptr<transport::ServerConnection> &connection,
                 std::string_view reason) override {
    if (connection != active)
      return;
    const std::string peer = std::move(active_peer);
    active.reset();
    active_peer.clear();
    pending_http_replies.clear();
    logger()->info("local OpAMP server: Collector at {} disconnected: {}", peer, reason);
    if (callbacks.on_disconnected)
      callbacks.on_disconnected(peer, std::string(reason));
  }

  // Closes the connected Collector when it is not the expected pid any more.
  void recheck_active() {
    if (!active || !unix_socket())
      return;
    const auto &credentials = active->request().peer_credentials;
    if (credentials && collector_pid != 0 && credentials->pid == collector_pid)
      return;
    logger()->warn("local OpAMP server: closing {} ({}): the Collector's pid is now {}",
                   active_peer, describe_credentials(active->request()), collector_pid);
    active->close(1008, "not the supervised Collector");
  }

  std::string extension_config_yaml() const {
    YAML::Emitter out;
    out << YAML::BeginMap << YAML::Key << "extensions" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "opamp" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "instance_uid" << YAML::Value << YAML::DoubleQuoted << options.instance_uid;
    out << YAML::Key << "server" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "ws" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "endpoint" << YAML::Value << YAML::DoubleQuoted
        << (server ? server->websocket_url() : std::string());
    if (unix_socket()) {
      out << YAML::Key << "unix_socket" << YAML::Value << YAML::DoubleQuoted
          << options.unix_socket_path.string();
    }
    out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "insecure" << YAML::Value << true;
    out << YAML::EndMap << YAML::EndMap << YAML::EndMap;  // tls, ws, server
    out << YAML::Key << "capabilities" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "reports_effective_config" << YAML::Value << true;
    out << YAML::Key << "reports_health" << YAML::Value << true;
    out << YAML::Key << "reports_available_components" << YAML::Value
        << options.reports_available_components;
    out << YAML::EndMap;  // capabilities
    if (options.include_resource_attributes) {
      out << YAML::Key << "agent_description" << YAML::Value << YAML::BeginMap;
      out << YAML::Key << "include_resource_attributes" << YAML::Value << true;
      out << YAML::EndMap;
    }
    out << YAML::EndMap << YAML::EndMap;  // opamp, extensions
    out << YAML::Key << "service" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "extensions" << YAML::Value << YAML::Flow << YAML::BeginSeq << "opamp"
        << YAML::EndSeq;
    out << YAML::EndMap << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
  }
};

LocalOpampServer::LocalOpampServer(boost::asio::io_context &io, LocalOpampServerOptions options,
                                   LocalOpampServerCallbacks callbacks)
    : impl_(std::make_unique<Impl>(io, std::move(options), std::move(callbacks))) {}

LocalOpampServer::~LocalOpampServer() {
  stop();
}

void LocalOpampServer::start() {
  if (impl_->started)
    return;
  transport::ServerOptions server_options;
  server_options.listen_address = "127.0.0.1";
  server_options.port = impl_->options.port;
  server_options.max_message_bytes = impl_->options.max_message_bytes;
  server_options.max_queued_messages = 64;
  if (impl_->unix_socket()) {
    prepare_socket_directory(impl_->options.unix_socket_path, impl_->options.collector_credentials);
    server_options.unix_socket_path = impl_->options.unix_socket_path.string();
    server_options.unix_socket_mode = impl_->options.unix_socket_mode;
  }
  impl_->server = transport::ServerTransport::create(impl_->io, server_options, *impl_);
  impl_->server->start();
  if (impl_->unix_socket() && impl_->options.collector_credentials) {
    // The socket is the Collector's to connect to: the configured mode applies to it. The
    // peer check still admits only the running Collector's pid.
    const auto &credentials = *impl_->options.collector_credentials;
    if (lchown(impl_->options.unix_socket_path.c_str(), credentials.uid, credentials.gid) != 0) {
      const int error = errno;
      impl_->server->stop();
      throw std::system_error(error, std::generic_category(),
                              "local OpAMP server: cannot give the socket " +
                                  impl_->options.unix_socket_path.string() + " to " +
                                  credentials.description);
    }
  }
  impl_->started = true;
  logger()->info("local OpAMP server: listening on {}",
                 impl_->unix_socket() ? "unix:" + impl_->options.unix_socket_path.string()
                                      : impl_->server->websocket_url());
}

void LocalOpampServer::stop() {
  if (!impl_->started)
    return;
  impl_->started = false;
  impl_->server->stop();
  impl_->active.reset();
  impl_->active_peer.clear();
  impl_->pending_http_replies.clear();
}

void LocalOpampServer::set_instance_uid(const std::string &instance_uid) {
  if (instance_uid.empty())
    throw std::invalid_argument("local OpAMP server: instance_uid must be set");
  impl_->options.instance_uid = instance_uid;
}

void LocalOpampServer::expect_collector_pid(pid_t pid) {
  impl_->collector_pid = pid;
  impl_->recheck_active();
}

bool LocalOpampServer::send(const pb::ServerToAgent &message) {
  if (!impl_->active)
    return false;
  std::string serialized = message.SerializeAsString();
  if (impl_->active->is_websocket()) {
    impl_->active->send(std::move(serialized));
  } else {
    // A Collector polling slowly must not make the queue grow without end: the oldest
    // queued message goes when the queue is full.
    if (impl_->pending_http_replies.size() >= kMaxPendingHttpReplies)
      impl_->pending_http_replies.erase(impl_->pending_http_replies.begin());
    impl_->pending_http_replies.push_back(std::move(serialized));
  }
  return true;
}

bool LocalOpampServer::collector_connected() const {
  return impl_->active != nullptr;
}

uint16_t LocalOpampServer::port() const {
  return impl_->server && !impl_->unix_socket() ? impl_->server->port() : 0;
}

std::string LocalOpampServer::endpoint() const {
  return impl_->server ? impl_->server->websocket_url() : std::string();
}

std::string LocalOpampServer::extension_config_yaml() const {
  return impl_->extension_config_yaml();
}

const pb::AgentDescription *LocalOpampServer::last_agent_description() const {
  return impl_->description ? &*impl_->description : nullptr;
}
const pb::ComponentHealth *LocalOpampServer::last_health() const {
  return impl_->health ? &*impl_->health : nullptr;
}
const pb::EffectiveConfig *LocalOpampServer::last_effective_config() const {
  return impl_->effective_config ? &*impl_->effective_config : nullptr;
}
const pb::AvailableComponents *LocalOpampServer::last_available_components() const {
  return impl_->available_components ? &*impl_->available_components : nullptr;
}

}  // namespace opsup::collector
