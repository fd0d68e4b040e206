#include "service.hpp"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <stdexcept>

#include "config_merge.hpp"
#include "health.hpp"
#include "logger.hpp"
#include "opamp.pb.h"
#include "opamp_agent.hpp"
#include "parent_watch.hpp"
#include "transport/http_server.hpp"

namespace opsup::fakeotelcol {
namespace {

constexpr const char *kServiceCaller = "service@v0.130.0/service.go";
constexpr const char *kExtensionsCaller = "extensions/extensions.go";
constexpr std::chrono::milliseconds kOpampShutdownTimeout{3000};

std::string type_of(const std::string &id) {
  return id.substr(0, id.find('/'));
}

std::string format_ms(std::chrono::milliseconds duration) {
  auto ms = duration.count();
  if (ms % 1000 == 0)
    return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

// "localhost:13133", "0.0.0.0:13133", ":13133" -> address and port.
std::pair<std::string, uint16_t> split_endpoint(const std::string &endpoint) {
  auto colon = endpoint.rfind(':');
  if (colon == std::string::npos)
    throw std::runtime_error("missing port in " + endpoint);
  std::string host = endpoint.substr(0, colon);
  if (host.empty())
    host = "0.0.0.0";
  if (host == "localhost")
    host = "127.0.0.1";
  int port = std::atoi(endpoint.substr(colon + 1).c_str());
  if (port < 0 || port > 65535)
    throw std::runtime_error("invalid port in " + endpoint);
  return {host, static_cast<uint16_t>(port)};
}

}  // namespace

class Service::Impl : public std::enable_shared_from_this<Service::Impl> {
 public:
  Impl(boost::asio::io_context &io, ServiceModel model, Uid uid, ServiceCallbacks callbacks)
      : io_(io),
        model_(std::move(model)),
        uid_(uid),
        callbacks_(std::move(callbacks)),
        start_timer_(io),
        exit_timer_(io),
        parent_timer_(io),
        start_time_unix_nano_(now_unix_nano()) {}

  void start() {
    log_info(kServiceCaller, "Starting extensions...");
    for (const auto &id : model_.extensions) {
      log_info(kExtensionsCaller, "Extension is starting...",
               {{"otelcol.component.id", id}, {"otelcol.component.kind", "extension"}});
      const std::string type = type_of(id);
      if (type == "opamp" && model_.opamp)
        start_opamp();
      if (type == "health_check" && model_.health_check)
        start_health_check();
      if (type == "fault" && model_.fault)
        start_fault();
      log_info(kExtensionsCaller, "Extension started.",
               {{"otelcol.component.id", id}, {"otelcol.component.kind", "extension"}});
    }
    if (agent_)
      agent_->set_effective_config(to_sorted_yaml(model_.config));
    set_phase(HealthPhase::kStarting);

    const auto delay = model_.fault ? model_.fault->start_delay : std::chrono::milliseconds(0);
    if (delay.count() > 0) {
      log_info("faultextension/fault.go", "Delaying pipeline start",
               {{"start_delay", format_ms(delay)}});
    }
    log_info(kServiceCaller, "Starting pipelines...");
    start_timer_.expires_after(delay);
    std::weak_ptr<Impl> weak = shared_from_this();
    start_timer_.async_wait([weak](const boost::system::error_code &error) {
      auto self = weak.lock();
      if (error || !self || self->stopping_)
        return;
      self->pipelines_ready();
    });
  }

  void shutdown(std::function<void()> done) {
    stopping_ = true;
    start_timer_.cancel();
    exit_timer_.cancel();
    parent_timer_.cancel();
    log_info(kServiceCaller, "Stopping extensions...");
    if (health_server_)
      health_server_->stop();
    if (!agent_) {
      boost::asio::post(io_, std::move(done));
      return;
    }
    agent_->shutdown(kOpampShutdownTimeout, std::move(done));
  }

  const ServiceModel &model() const { return model_; }

 private:
  void pipelines_ready() {
    for (const auto &pipeline : model_.pipelines) {
      log_debug("graph/graph.go", "Pipeline started.", {{"otelcol.pipeline.id", pipeline.id}});
    }
    log_info(kServiceCaller, "Everything is ready. Begin running and processing data.");
    set_phase(HealthPhase::kReady);
    if (model_.fault && model_.fault->never_healthy) {
      log_warn("faultextension/fault.go", "Reporting an unhealthy status on purpose",
               {{"status", "StatusRecoverableError"}});
    }
  }

  void set_phase(HealthPhase phase) {
    phase_ = phase;
    if (!agent_)
      return;
    opamp::proto::v1::ComponentHealth health;
    build_health(model_, phase, start_time_unix_nano_, now_unix_nano(), &health);
    agent_->set_health(health);
  }

  bool healthy() const {
    return phase_ == HealthPhase::kReady && !(model_.fault && model_.fault->never_healthy);
  }

  void start_opamp() {
    std::weak_ptr<Impl> weak = shared_from_this();
    try {
      OpampSettings settings = *model_.opamp;
      if (model_.fault)
        settings.echo_custom_capability = model_.fault->echo_custom_capability;
      agent_ = std::make_unique<OpampAgent>(io_, settings, uid_, model_.resource, [weak] {
        if (auto self = weak.lock(); self && self->callbacks_.restart_requested) {
          self->callbacks_.restart_requested();
        }
      });
    } catch (const std::exception &e) {
      throw std::runtime_error("failed to start extensions: failed to start \"opamp\" extension: " +
                               std::string(e.what()));
    }
    set_phase(HealthPhase::kInitial);
    agent_->start();
    // Like the real Collector (v0.149.0), `ppid` is accepted and not acted on, unless the
    // fault extension asks for a working orphan watch.
    if (model_.opamp->ppid > 0 && model_.fault && model_.fault->honour_ppid) {
      parent_pid_ = static_cast<pid_t>(model_.opamp->ppid);
      watch_parent();
    }
  }

  void watch_parent() {
    if (!parent_alive(parent_pid_)) {
      const std::string reason = "collector was orphaned, process with pid " +
                                 std::to_string(parent_pid_) + " does not exist";
      log_error("otelcol/collector.go", "Asynchronous error received, terminating process",
                {{"error", reason}});
      if (callbacks_.fatal_error)
        callbacks_.fatal_error(1, reason);
      return;
    }
    parent_timer_.expires_after(model_.opamp->ppid_poll_interval);
    std::weak_ptr<Impl> weak = shared_from_this();
    parent_timer_.async_wait([weak](const boost::system::error_code &error) {
      auto self = weak.lock();
      if (error || !self || self->stopping_)
        return;
      self->watch_parent();
    });
  }

  void start_health_check() {
    opsup::transport::HttpServerOptions options;
    const std::string endpoint = model_.health_check->endpoint;
    try {
      auto [address, port] = split_endpoint(endpoint);
      options.listen_address = address;
      options.port = port;
      std::weak_ptr<Impl> weak = shared_from_this();
      health_server_ = opsup::transport::HttpServer::create(
          io_, options,
          [weak, path = model_.health_check->path](
              const opsup::transport::HttpServerRequest &request,
              std::function<void(opsup::transport::HttpServerResponse)> respond) {
            auto self = weak.lock();
            if (request.path != path) {
              respond(opsup::transport::HttpServerResponse::text(404, "404 page not found\n"));
              return;
            }
            const bool ok = self && self->healthy();
            respond(opsup::transport::HttpServerResponse::text(
                ok ? 200 : 503,
                ok ? R"({"status":"Server available"})" : R"({"status":"Server not available"})",
                "application/json"));
          });
      health_server_->start();
    } catch (const std::exception &e) {
      throw std::runtime_error(
          "failed to start extensions: failed to start \"health_check\" "
          "extension: listen tcp " +
          endpoint + ": " + e.what());
    }
    log_info("healthcheckextension/healthcheckextension.go", "Starting health_check extension",
             {{"config.Endpoint", endpoint}});
  }

  void start_fault() {
    const FaultSettings &fault = *model_.fault;
    if (!fault.exit_after)
      return;
    exit_timer_.expires_after(*fault.exit_after);
    std::weak_ptr<Impl> weak = shared_from_this();
    exit_timer_.async_wait([weak](const boost::system::error_code &error) {
      auto self = weak.lock();
      if (error || !self || self->stopping_)
        return;
      const FaultSettings &settings = *self->model_.fault;
      std::string message = settings.crash_message;
      if (message.empty()) {
        message = "panic: fault extension: exit_after " + format_ms(*settings.exit_after) +
                  " elapsed, exiting with code " + std::to_string(settings.exit_code);
      }
      // A crash: no shutdown, no agent_disconnect.
      std::cerr << message << std::endl;
      std::_Exit(settings.exit_code);
    });
  }

  boost::asio::io_context &io_;
  ServiceModel model_;
  Uid uid_;
  ServiceCallbacks callbacks_;
  boost::asio::steady_timer start_timer_;
  boost::asio::steady_timer exit_timer_;
  boost::asio::steady_timer parent_timer_;
  std::unique_ptr<OpampAgent> agent_;
  std::unique_ptr<opsup::transport::HttpServer> health_server_;
  HealthPhase phase_ = HealthPhase::kInitial;
  uint64_t start_time_unix_nano_;
  pid_t parent_pid_ = 0;
  bool stopping_ = false;
};

Service::Service(boost::asio::io_context &io, ServiceModel model, Uid uid,
                 ServiceCallbacks callbacks)
    : impl_(std::make_shared<Impl>(io, std::move(model), uid, std::move(callbacks))) {}

Service::~Service() = default;

void Service::start() {
  impl_->start();
}

void Service::shutdown(std::function<void()> done) {
  impl_->shutdown(std::move(done));
}

const ServiceModel &Service::model() const {
  return impl_->model();
}

}  // namespace opsup::fakeotelcol
