#include "collector.hpp"

#include <signal.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>
#include <memory>
#include <thread>

#include "components.hpp"
#include "config_error.hpp"
#include "config_merge.hpp"
#include "config_validate.hpp"
#include "logger.hpp"
#include "service.hpp"

namespace opsup::fakeotelcol {
namespace {

constexpr const char *kCollectorCaller = "otelcol/collector.go";
constexpr const char *kServiceCaller = "service@v0.130.0/service.go";

ServiceModel load_and_validate(const CommandLine &command, const FeatureGates &gates) {
  if (command.config_uris.empty()) {
    throw ConfigError("at least one config flag must be provided");
  }
  return validate_config(load_config(command.config_uris, command.set_overrides), gates);
}

const char *signal_name(int signo) {
  switch (signo) {
    case SIGTERM:
      return "terminated";
    case SIGINT:
      return "interrupt";
    case SIGHUP:
      return "hangup";
  }
  return "unknown";
}

class Collector {
 public:
  Collector(const CommandLine &command, const FeatureGates &gates)
      : command_(command),
        gates_(gates),
        signals_(io_, SIGTERM, SIGINT, SIGHUP),
        random_uid_(new_uuid_v7()) {}

  int run() {
    ServiceModel model;
    try {
      model = load_and_validate(command_, gates_);
    } catch (const ConfigError &e) {
      print_run_error(e.what());
      return 1;
    }
    configure_logging(model.logs);
    log_info(kServiceCaller, "Setting up own telemetry...");
    log_info(kServiceCaller, std::string("Starting ") + kBuildCommand + "...",
             {{"Version", kBuildVersion},
              {"NumCPU", std::to_string(std::thread::hardware_concurrency())}});
    wait_for_signal();
    if (!start_service(std::move(model)))
      return exit_code_;
    io_.run();
    return exit_code_;
  }

 private:
  Uid choose_uid(const ServiceModel &model) {
    if (model.opamp && !model.opamp->instance_uid.empty()) {
      if (auto uid = parse_uid(model.opamp->instance_uid))
        return *uid;
    }
    if (auto found = model.resource.find("service.instance.id"); found != model.resource.end()) {
      if (auto uid = parse_uid(found->second))
        return *uid;
    }
    return random_uid_;
  }

  bool start_service(ServiceModel model) {
    Uid uid = choose_uid(model);
    ServiceCallbacks callbacks;
    callbacks.fatal_error = [this](int code, const std::string &reason) {
      boost::asio::post(io_, [this, code, reason] { stop(code, reason); });
    };
    callbacks.restart_requested = [this] { ::kill(::getpid(), SIGHUP); };
    service_ = std::make_unique<Service>(io_, std::move(model), uid, std::move(callbacks));
    try {
      service_->start();
    } catch (const std::exception &e) {
      log_error(kCollectorCaller, "Failed to start the service", {{"error", e.what()}});
      service_->shutdown([] {});
      service_.reset();
      print_run_error(std::string("failed to start service: ") + e.what());
      exit_code_ = 1;
      return false;
    }
    return true;
  }

  void wait_for_signal() {
    signals_.async_wait([this](const boost::system::error_code &error, int signo) {
      if (error)
        return;
      log_info(kCollectorCaller, "Received signal from OS", {{"signal", signal_name(signo)}});
      if (signo == SIGHUP) {
        reload();
      } else if (service_ && service_->model().fault && service_->model().fault->ignore_sigterm) {
        log_warn("faultextension/fault.go", "Ignoring the signal on purpose",
                 {{"signal", signal_name(signo)}});
      } else {
        stop(0, "");
      }
      if (!stopping_)
        wait_for_signal();
    });
  }

  // Graceful: stop the service (agent_disconnect), then leave with `code`.
  void stop(int code, const std::string &error) {
    if (stopping_)
      return;
    stopping_ = true;
    exit_code_ = code;
    signals_.cancel();
    log_info(kServiceCaller, "Starting shutdown...");
    auto finish = [this, error] {
      log_info(kServiceCaller, "Shutdown complete.");
      if (!error.empty())
        print_run_error(error);
      io_.stop();
    };
    if (!service_) {
      finish();
      return;
    }
    service_->shutdown(finish);
  }

  void reload() {
    if (reloading_ || stopping_)
      return;
    if (service_ && service_->model().fault && service_->model().fault->fail_reload) {
      fail_reload("failed to reload config: fault extension: reload failure requested");
      return;
    }
    ServiceModel model;
    try {
      model = load_and_validate(command_, gates_);
    } catch (const ConfigError &e) {
      fail_reload(e.what());
      return;
    }
    log_info(kCollectorCaller, "Config updated, restart service");
    reloading_ = true;
    auto restart = [this, model = std::move(model)]() mutable {
      reloading_ = false;
      if (stopping_)
        return;
      configure_logging(model.logs);
      if (!start_service(std::move(model)))
        io_.stop();
    };
    if (!service_) {
      restart();
      return;
    }
    // Keep the old service alive until its shutdown completes.
    auto old = std::shared_ptr<Service>(service_.release());
    old->shutdown([old, restart = std::move(restart)]() mutable { restart(); });
  }

  void fail_reload(const std::string &error) {
    log_error(kCollectorCaller, "Failed to reload the configuration", {{"error", error}});
    stop(1, error);
  }

  boost::asio::io_context io_;
  CommandLine command_;
  FeatureGates gates_;
  boost::asio::signal_set signals_;
  Uid random_uid_;
  std::unique_ptr<Service> service_;
  int exit_code_ = 0;
  bool stopping_ = false;
  bool reloading_ = false;
};

}  // namespace

void print_run_error(const std::string &message) {
  std::cerr << "Error: " << message << std::endl;
}

int run_collector(const CommandLine &command, const FeatureGates &gates) {
  Collector collector(command, gates);
  return collector.run();
}

int validate_only(const CommandLine &command, const FeatureGates &gates) {
  try {
    load_and_validate(command, gates);
  } catch (const ConfigError &e) {
    print_run_error(e.what());
    return 1;
  }
  return 0;
}

}  // namespace opsup::fakeotelcol
