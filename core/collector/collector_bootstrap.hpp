// The bootstrap: runs the Collector once, with a config that holds only a nop pipeline (or
// none, with the service.AllowNoPipelines gate), internal metrics off (so no fixed port has to
// be free) and the opamp extension pointed at a local OpAMP server, to learn its
// AgentDescription and available components before the supervisor first reports. Every way
// it can fail has its own message: the executable missing or not executable, the Collector
// exiting (with its exit status and last lines), never connecting, connecting without a
// description, reporting another instance UID, and sending no components.
//
// Threading: construct, start() and every callback on the io_context's thread.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collector/bootstrap_cache.hpp"
#include "collector/collector_credentials.hpp"

namespace boost::asio {
class io_context;
}

namespace opsup::collector {

struct CollectorBootstrapOptions {
  std::filesystem::path executable;
  std::vector<std::string> args;                          // agent.args
  std::optional<std::map<std::string, std::string>> env;  // agent.env
  std::filesystem::path storage_directory;                // bootstrap.yaml is written here
  std::string instance_uid;                               // canonical UUID text
  std::chrono::milliseconds timeout{3000};                // agent.bootstrap_timeout
  bool allow_no_pipelines = false;  // the Collector has the service.AllowNoPipelines gate
  std::chrono::milliseconds stop_grace{5000};
  // agent.run_as: the bootstrap Collector's user; bootstrap.yaml gets its group.
  std::optional<CollectorCredentials> credentials;
};

class CollectorBootstrap {
 public:
  // Exactly one of the two is set: the result, or the reason it failed.
  using Done = std::function<void(std::optional<BootstrapResult> result, const std::string &error)>;

  CollectorBootstrap(boost::asio::io_context &io, CollectorBootstrapOptions options, Done done);
  ~CollectorBootstrap();  // a Collector still running is killed
  CollectorBootstrap(const CollectorBootstrap &) = delete;
  CollectorBootstrap &operator=(const CollectorBootstrap &) = delete;

  // Starts the bootstrap. `done` runs once, after the bootstrap Collector has exited (so its
  // ports are free again), or at once when it could not be started.
  void start();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// True when `<executable> featuregate` lists `gate`. Blocking (runs the Collector to
// completion, bounded by `timeout`, with `credentials` when given); false when it cannot
// tell.
bool collector_has_feature_gate(const std::filesystem::path &executable, const std::string &gate,
                                std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                const std::optional<CollectorCredentials> &credentials = {});

}  // namespace opsup::collector
