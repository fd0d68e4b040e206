// Runs `<executable> validate --config <file> [--feature-gates ...]` on a candidate config
// without blocking the loop: the candidate goes to a 0600 file in the storage directory
// (0640 with the run_as group under agent.run_as), removed afterwards, the child's exit is
// noticed through its pidfd, and a run that takes longer than the timeout is killed and
// reported as such.
//
// Threading: construct, run() and the callback on the io_context's thread.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collector/collector_credentials.hpp"

namespace boost::asio {
class io_context;
}

namespace opsup::collector {

struct ValidationOutcome {
  bool valid = false;
  int exit_code = -1;   // -1: it could not run, ran out of time or was killed by a signal
  std::string message;  // the last lines the Collector printed, or why it could not run
};

struct CollectorValidationOptions {
  std::filesystem::path executable;
  std::vector<std::string> feature_gates;
  std::optional<std::map<std::string, std::string>> env;  // agent.env
  std::filesystem::path storage_directory;                // for validate-config-*.yaml
  std::chrono::milliseconds timeout{10000};
  // agent.run_as: `validate` runs as this user; the candidate file gets its group.
  std::optional<CollectorCredentials> credentials;
};

class CollectorValidation {
 public:
  using Done = std::function<void(const ValidationOutcome &)>;

  CollectorValidation(boost::asio::io_context &io, CollectorValidationOptions options);
  ~CollectorValidation();  // runs still going are killed; their callbacks never run
  CollectorValidation(const CollectorValidation &) = delete;
  CollectorValidation &operator=(const CollectorValidation &) = delete;

  // Validates `config_yaml`; `done` runs once on the loop thread, never before run() returns.
  // Several runs may overlap.
  void run(const std::string &config_yaml, Done done);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace opsup::collector
