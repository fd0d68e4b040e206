#include "collector/collector_validation.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <system_error>

#include "collector/collector_credentials.hpp"
#include "collector/collector_process.hpp"

namespace opsup::collector {
namespace {

namespace asio = boost::asio;

constexpr std::size_t kTailLines = 20;

}  // namespace

struct CollectorValidation::State : std::enable_shared_from_this<CollectorValidation::State> {
  State(asio::io_context &io_context, CollectorValidationOptions validation_options)
      : io(io_context), options(std::move(validation_options)) {}

  // One `validate` run: its process, its timer and what it printed.
  struct Run {
    explicit Run(asio::io_context &io) : timer(io) {}
    std::unique_ptr<CollectorProcess> process;
    asio::steady_timer timer;
    std::deque<std::string> tail;
    std::filesystem::path file;
    Done done;
    bool timed_out = false;
  };

  asio::io_context &io;
  CollectorValidationOptions options;
  std::uint64_t last_run_id = 0;
  std::map<std::uint64_t, std::unique_ptr<Run>> runs;

  static std::string tail_text(const Run &run) {
    std::string text;
    for (const auto &line : run.tail)
      text += (text.empty() ? "" : "\n") + line;
    return text;
  }

  void finish(std::uint64_t id, ValidationOutcome outcome) {
    auto found = runs.find(id);
    if (found == runs.end())
      return;
    std::unique_ptr<Run> run = std::move(found->second);
    runs.erase(found);
    run->timer.cancel();
    std::error_code ignored;
    std::filesystem::remove(run->file, ignored);
    asio::post(io, [done = std::move(run->done), outcome = std::move(outcome),
                    process = std::shared_ptr<CollectorProcess>(std::move(run->process))] {
      done(outcome);
    });
  }

  void exited(std::uint64_t id, const ExitStatus &status) {
    auto found = runs.find(id);
    if (found == runs.end())
      return;
    const Run &run = *found->second;
    ValidationOutcome outcome;
    outcome.exit_code = status.code;
    outcome.valid = !run.timed_out && status.code == 0;
    outcome.message = tail_text(run);
    if (run.timed_out) {
      outcome.exit_code = -1;
      outcome.message = "`validate` did not finish within " +
                        std::to_string(options.timeout.count()) + " ms" +
                        (outcome.message.empty() ? "" : "; its last lines:\n" + outcome.message);
    } else if (!outcome.valid && outcome.message.empty()) {
      outcome.message = "`validate` ended with " + status.describe();
    }
    finish(id, std::move(outcome));
  }

  void run(const std::string &config_yaml, Done done) {
    const std::uint64_t id = ++last_run_id;
    auto run = std::make_unique<Run>(io);
    run->done = std::move(done);
    run->file = options.storage_directory / ("validate-config-" + std::to_string(id) + ".yaml");
    Run &entry = *run;
    runs.emplace(id, std::move(run));
    std::weak_ptr<State> weak = weak_from_this();
    try {
      write_collector_file(entry.file, config_yaml, options.credentials);
      entry.process = std::make_unique<CollectorProcess>(
          io,
          [weak, id](std::string_view line) {
            auto self = weak.lock();
            if (!self)
              return;
            auto found = self->runs.find(id);
            if (found == self->runs.end())
              return;
            found->second->tail.emplace_back(line);
            if (found->second->tail.size() > kTailLines)
              found->second->tail.pop_front();
          },
          [weak, id](const ExitStatus &status) {
            if (auto self = weak.lock())
              self->exited(id, status);
          });
      CollectorCommand command;
      command.executable = options.executable;
      command.args = {"validate", "--config", entry.file.string()};
      if (!options.feature_gates.empty()) {
        std::string gates;
        for (const auto &gate : options.feature_gates)
          gates += (gates.empty() ? "" : ",") + gate;
        command.args.push_back("--feature-gates");
        command.args.push_back(gates);
      }
      command.extra_env = options.env;
      command.credentials = options.credentials;
      entry.process->start(command);
    } catch (const std::exception &error) {
      finish(id,
             ValidationOutcome{false, -1, std::string("cannot run `validate`: ") + error.what()});
      return;
    }
    entry.timer.expires_after(options.timeout);
    entry.timer.async_wait([weak, id](const boost::system::error_code &failed) {
      auto self = weak.lock();
      if (failed || !self)
        return;
      auto found = self->runs.find(id);
      if (found == self->runs.end())
        return;
      found->second->timed_out = true;
      found->second->process->stop(std::chrono::milliseconds(0));
    });
  }
};

CollectorValidation::CollectorValidation(asio::io_context &io, CollectorValidationOptions options)
    : state_(std::make_shared<State>(io, std::move(options))) {}

CollectorValidation::~CollectorValidation() {
  for (auto &[id, run] : state_->runs) {
    run->timer.cancel();
    run->process.reset();  // SIGKILL + reap
    std::error_code ignored;
    std::filesystem::remove(run->file, ignored);
  }
  state_->runs.clear();
}

void CollectorValidation::run(const std::string &config_yaml, Done done) {
  state_->run(config_yaml, std::move(done));
}

}  // namespace opsup::collector
