#include "opamp_agent.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <optional>
#include <stdexcept>

#include "agent_description.hpp"
#include "components.hpp"
#include "logger.hpp"
#include "opamp.pb.h"
#include "transport/client_transport.hpp"

namespace opsup::fakeotelcol {

namespace pb = opamp::proto::v1;
namespace transport = opsup::transport;

namespace {

constexpr const char *kCaller = "opampextension/opamp_agent.go";
constexpr std::chrono::milliseconds kInitialBackoff{500};
constexpr std::chrono::milliseconds kMaxBackoff{5000};

}  // namespace

class OpampAgent::Impl : public transport::ClientTransportHandler,
                         public std::enable_shared_from_this<OpampAgent::Impl> {
 public:
  Impl(boost::asio::io_context &io, const OpampSettings &settings, const Uid &uid,
       const std::map<std::string, std::string> &resource, std::function<void()> on_restart)
      : io_(io),
        settings_(settings),
        uid_(uid),
        on_restart_(std::move(on_restart)),
        reconnect_timer_(io),
        poll_timer_(io) {
    build_agent_description(settings_, resource, uid_, &description_);
    capabilities_ = pb::AgentCapabilities_ReportsStatus;
    if (settings_.reports_effective_config) {
      capabilities_ |= pb::AgentCapabilities_ReportsEffectiveConfig;
    }
    if (settings_.reports_health)
      capabilities_ |= pb::AgentCapabilities_ReportsHealth;
    if (settings_.reports_available_components) {
      capabilities_ |= pb::AgentCapabilities_ReportsAvailableComponents;
      build_available_components();
    }
    if (settings_.accepts_restart_command) {
      capabilities_ |= pb::AgentCapabilities_AcceptsRestartCommand;
    }
    health_.set_healthy(false);

    transport::ClientOptions options;
    options.endpoint = settings_.endpoint;
    options.headers = settings_.headers;
    options.tls = settings_.tls;
    options.unix_socket_path = settings_.unix_socket;
    options.instance_uid_header = format_uuid(uid_);
    transport_ = transport::ClientTransport::create(io_, std::move(options), *this);
  }

  void start() {
    log_debug(kCaller, "Starting OpAMP client...");
    mark_full_state();
    transport_->connect();
    if (transport_->is_http())
      arm_poll_timer();
  }

  void set_health(const pb::ComponentHealth &health) {
    if (!settings_.reports_health)
      return;
    if (health.healthy() == health_.healthy() && health.status() == health_.status() &&
        health.last_error() == health_.last_error() && same_tree_status(health, health_)) {
      return;
    }
    health_ = health;
    pending_health_ = true;
    notify();
  }

  void set_effective_config(const std::string &yaml) {
    if (!settings_.reports_effective_config || yaml == effective_config_)
      return;
    effective_config_ = yaml;
    pending_effective_config_ = true;
    notify();
  }

  void shutdown(std::chrono::milliseconds timeout, std::function<void()> done) {
    stopping_ = true;
    reconnect_timer_.cancel();
    poll_timer_.cancel();
    pb::AgentToServer last;
    fill_header(&last);
    last.mutable_agent_disconnect();
    log_debug(kCaller, "Stopping OpAMP client...");
    auto self = shared_from_this();
    transport_->shutdown(last.SerializeAsString(), timeout, [self, done = std::move(done)] {
      done();
      // Release this (and the transport) outside the transport's own callback.
      boost::asio::post(self->io_, [self] {});
    });
  }

  void abort() {
    stopping_ = true;
    reconnect_timer_.cancel();
    poll_timer_.cancel();
    if (transport_)
      transport_->abort();
  }

  // ClientTransportHandler
  void on_connected() override {
    if (stopping_)
      return;
    log_info(kCaller, "Connected to the OpAMP server", {{"endpoint", settings_.endpoint}});
    backoff_ = kInitialBackoff;
    notify();  // the full state marked at start or after the last disconnect
  }

  void on_message(std::string_view data) override {
    if (stopping_)
      return;
    pb::ServerToAgent message;
    if (!message.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
      log_error(kCaller, "Cannot parse a ServerToAgent message",
                {{"bytes", std::to_string(data.size())}});
      return;
    }
    if (message.has_error_response()) {
      log_error(kCaller, "OpAMP server returned an error response",
                {{"message", message.error_response().error_message()}});
    }
    if (message.flags() & pb::ServerToAgentFlags_ReportFullState) {
      log_debug(kCaller, "Server asked for the full state");
      mark_full_state();
    }
    if ((message.flags() & pb::ServerToAgentFlags_ReportAvailableComponents) &&
        settings_.reports_available_components) {
      pending_components_ = true;
      pending_full_components_ = true;
    }
    if (message.has_agent_identification()) {
      const std::string &new_uid = message.agent_identification().new_instance_uid();
      if (new_uid.size() == 16) {
        Uid uid;
        std::copy(new_uid.begin(), new_uid.end(), uid.begin());
        log_debug(kCaller, "OpAMP agent identity is being changed",
                  {{"old_id", format_uuid(uid_)}, {"new_id", format_uuid(uid)}});
        uid_ = uid;
      } else {
        log_error(kCaller, "Invalid agent ID provided as new instance UID");
      }
    }
    if (message.has_custom_message() && !settings_.echo_custom_capability.empty() &&
        message.custom_message().capability() == settings_.echo_custom_capability) {
      pb::CustomMessage echo = message.custom_message();
      echo.set_type("echo." + echo.type());
      log_info(kCaller, "Echoing a custom message",
               {{"capability", echo.capability()}, {"type", echo.type()}});
      echoes_.push_back(std::move(echo));
    }
    if (message.has_command() && message.command().type() == pb::CommandType_Restart &&
        settings_.accepts_restart_command && on_restart_) {
      log_info(kCaller, "Received restart command");
      io_.get_executor().execute([callback = on_restart_] { callback(); });
    }
    if (has_pending())
      notify();
  }

  void on_disconnected(const transport::DisconnectInfo &info) override {
    if (stopping_)
      return;
    log_error(kCaller, "Failed to connect to the OpAMP server", {{"error", info.reason}});
    mark_full_state();
    std::chrono::milliseconds delay = backoff_;
    if (info.retry_after)
      delay = std::max(delay, *info.retry_after);
    backoff_ = std::min(kMaxBackoff, backoff_ * 3 / 2);
    reconnect_timer_.expires_after(delay);
    std::weak_ptr<Impl> weak = shared_from_this();
    reconnect_timer_.async_wait([weak](const boost::system::error_code &error) {
      auto self = weak.lock();
      if (error || !self || self->stopping_)
        return;
      self->transport_->connect();
    });
  }

  std::optional<std::string> next_message() override {
    if (stopping_)
      return std::nullopt;
    if (!has_pending() && !poll_due_)
      return std::nullopt;
    poll_due_ = false;
    pb::AgentToServer message;
    fill_header(&message);
    if (pending_description_) {
      *message.mutable_agent_description() = description_;
      // opamp-go's client state: both present and empty, as the real extension sends them.
      message.mutable_remote_config_status();
      message.mutable_package_statuses();
    }
    if (pending_health_ && settings_.reports_health)
      *message.mutable_health() = health_;
    if (pending_effective_config_ && settings_.reports_effective_config) {
      pb::AgentConfigObject &file =
          (*message.mutable_effective_config()->mutable_config_map()->mutable_config_map())[""];
      file.set_body(effective_config_);
      file.set_content_type("text/yaml");
    }
    if (pending_components_ && settings_.reports_available_components) {
      if (pending_full_components_) {
        *message.mutable_available_components() = available_components_;
      } else {
        message.mutable_available_components()->set_hash(available_components_.hash());
      }
    }
    if (pending_custom_capabilities_ && !settings_.echo_custom_capability.empty())
      message.mutable_custom_capabilities()->add_capabilities(settings_.echo_custom_capability);
    if (!echoes_.empty()) {
      *message.mutable_custom_message() = std::move(echoes_.front());
      echoes_.pop_front();
    }
    pending_description_ = pending_health_ = pending_effective_config_ = false;
    pending_components_ = pending_full_components_ = pending_custom_capabilities_ = false;
    return message.SerializeAsString();
  }

 private:
  static bool same_tree_status(const pb::ComponentHealth &a, const pb::ComponentHealth &b) {
    if (a.component_health_map_size() != b.component_health_map_size())
      return false;
    for (const auto &[key, child] : a.component_health_map()) {
      auto found = b.component_health_map().find(key);
      if (found == b.component_health_map().end())
        return false;
      if (found->second.status() != child.status() ||
          found->second.last_error() != child.last_error() ||
          !same_tree_status(child, found->second)) {
        return false;
      }
    }
    return true;
  }

  void build_available_components() {
    available_components_.set_hash(available_components_hash());
    for (ComponentKind kind :
         {ComponentKind::kReceiver, ComponentKind::kProcessor, ComponentKind::kExporter,
          ComponentKind::kExtension, ComponentKind::kConnector}) {
      pb::ComponentDetails &section =
          (*available_components_.mutable_components())[kind_section(kind)];
      for (const auto &factory : component_factories()) {
        if (factory.kind != kind)
          continue;
        pb::KeyValue *metadata =
            (*section.mutable_sub_component_map())[factory.type].add_metadata();
        metadata->set_key("code.namespace");
        metadata->mutable_value()->set_string_value(factory.module);
      }
    }
  }

  void fill_header(pb::AgentToServer *message) {
    message->set_instance_uid(uid_bytes(uid_));
    message->set_sequence_num(sequence_num_++);  // opamp-go counts from 0
    message->set_capabilities(capabilities_);
  }

  void mark_full_state() {
    pending_description_ = true;
    pending_health_ = settings_.reports_health;
    pending_effective_config_ = settings_.reports_effective_config && !effective_config_.empty();
    pending_components_ = settings_.reports_available_components;
    pending_custom_capabilities_ = !settings_.echo_custom_capability.empty();
  }

  bool has_pending() const {
    return pending_description_ || pending_health_ || pending_effective_config_ ||
           pending_components_ || pending_custom_capabilities_ || !echoes_.empty();
  }

  void notify() {
    if (stopping_ || !transport_)
      return;
    transport_->notify_pending();
  }

  void arm_poll_timer() {
    poll_timer_.expires_after(settings_.polling_interval);
    std::weak_ptr<Impl> weak = shared_from_this();
    poll_timer_.async_wait([weak](const boost::system::error_code &error) {
      auto self = weak.lock();
      if (error || !self || self->stopping_)
        return;
      self->poll_due_ = true;
      self->transport_->notify_pending();
      self->arm_poll_timer();
    });
  }

  boost::asio::io_context &io_;
  OpampSettings settings_;
  Uid uid_;
  std::function<void()> on_restart_;
  boost::asio::steady_timer reconnect_timer_;
  boost::asio::steady_timer poll_timer_;
  std::unique_ptr<transport::ClientTransport> transport_;

  pb::AgentDescription description_;
  pb::ComponentHealth health_;
  pb::AvailableComponents available_components_;
  std::string effective_config_;
  uint64_t capabilities_ = 0;
  uint64_t sequence_num_ = 0;
  std::chrono::milliseconds backoff_ = kInitialBackoff;

  bool pending_description_ = false;
  bool pending_health_ = false;
  bool pending_effective_config_ = false;
  bool pending_components_ = false;
  bool pending_full_components_ = false;
  bool pending_custom_capabilities_ = false;
  std::deque<pb::CustomMessage> echoes_;  // answers to the echo capability's messages
  bool poll_due_ = false;
  bool stopping_ = false;
};

OpampAgent::OpampAgent(boost::asio::io_context &io, const OpampSettings &settings, const Uid &uid,
                       const std::map<std::string, std::string> &resource,
                       std::function<void()> on_restart)
    : impl_(std::make_shared<Impl>(io, settings, uid, resource, std::move(on_restart))) {}

OpampAgent::~OpampAgent() {
  impl_->abort();
}

void OpampAgent::start() {
  impl_->start();
}

void OpampAgent::set_health(const pb::ComponentHealth &health) {
  impl_->set_health(health);
}

void OpampAgent::set_effective_config(const std::string &yaml) {
  impl_->set_effective_config(yaml);
}

void OpampAgent::shutdown(std::chrono::milliseconds timeout, std::function<void()> done) {
  impl_->shutdown(timeout, std::move(done));
}

}  // namespace opsup::fakeotelcol
