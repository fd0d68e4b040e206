#include "collector/collector_bootstrap.hpp"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <deque>

#include "collector/collector_process.hpp"
#include "collector/config_composition.hpp"
#include "collector/local_opamp_server.hpp"
#include "common/uuid.hpp"
#include "opamp.pb.h"

namespace opsup::collector {
namespace {

namespace asio = boost::asio;
namespace pb = opamp::proto::v1;

constexpr const char *kAllowNoPipelinesGate = "service.AllowNoPipelines";
constexpr std::size_t kTailLines = 20;

std::string bootstrap_pipeline(bool allow_no_pipelines) {
  std::string text = "service:\n  telemetry:\n    metrics:\n      level: none\n";
  if (allow_no_pipelines)
    return text;
  return "receivers:\n  nop: {}\nexporters:\n  nop: {}\n" + text +
         "  pipelines:\n    traces:\n      receivers: [nop]\n      exporters: [nop]\n";
}

std::string milliseconds_text(std::chrono::milliseconds duration) {
  return std::to_string(duration.count()) + " ms";
}

}  // namespace

struct CollectorBootstrap::State : std::enable_shared_from_this<CollectorBootstrap::State> {
  State(asio::io_context &io_context, CollectorBootstrapOptions bootstrap_options, Done on_done)
      : io(io_context),
        options(std::move(bootstrap_options)),
        done(std::move(on_done)),
        timer(io_context) {}

  asio::io_context &io;
  CollectorBootstrapOptions options;
  Done done;
  asio::steady_timer timer;
  std::unique_ptr<LocalOpampServer> server;
  std::unique_ptr<CollectorProcess> process;
  std::deque<std::string> tail;
  bool connected = false;
  bool finished = false;
  bool asked_for_components = false;
  std::optional<pb::AgentDescription> description;
  std::optional<BootstrapResult> result;
  std::string error;

  std::string tail_text() const {
    std::string text;
    for (const auto &line : tail)
      text += "\n  " + line;
    return text.empty() ? "" : "; its last lines:" + text;
  }

  // Records the outcome and brings the Collector down; `done` runs once it has exited.
  void finish(std::optional<BootstrapResult> outcome, std::string why) {
    if (finished)
      return;
    finished = true;
    result = std::move(outcome);
    error = std::move(why);
    timer.cancel();
    // The server stays up until the Collector has exited: cut off first, the extension's
    // client reconnects and its shutdown then waits 5 s (seen in about a quarter of runs).
    if (process && process->running()) {
      process->stop(options.stop_grace);
      return;  // exited() stops the server and reports
    }
    if (server)
      server->stop();
    report();
  }

  void report() {
    auto callback = std::move(done);
    done = nullptr;
    if (callback)
      asio::post(io, [callback, outcome = result, why = error] { callback(outcome, why); });
  }

  void on_message(const pb::AgentToServer &message) {
    if (finished)
      return;
    if (message.has_agent_description() && !description) {
      const auto expected = common::parse_uuid(options.instance_uid);
      const std::string reported(message.instance_uid());
      if (!expected || reported != std::string(expected->begin(), expected->end())) {
        finish(std::nullopt, "the Collector reported instance UID " + common::to_hex(reported) +
                                 " instead of " + options.instance_uid +
                                 " (its opamp extension did not take the bootstrap config)");
        return;
      }
      description = message.agent_description();
    }
    if (!description)
      return;
    if (message.available_components().components_size() > 0) {
      BootstrapResult learned;
      learned.agent_description = description->SerializeAsString();
      learned.available_components = message.available_components().SerializeAsString();
      finish(std::move(learned), "");
      return;
    }
    if (!asked_for_components) {
      asked_for_components = true;
      pb::ServerToAgent ask;
      ask.set_instance_uid(message.instance_uid());
      ask.set_flags(pb::ServerToAgentFlags_ReportAvailableComponents);
      server->send(ask);
    }
  }

  void timed_out() {
    const std::string limit = milliseconds_text(options.timeout);
    if (!connected) {
      finish(std::nullopt, "the Collector did not connect to the local OpAMP server within " +
                               limit + " (agent.bootstrap_timeout)" + tail_text());
    } else if (!description) {
      finish(std::nullopt, "the Collector connected but sent no AgentDescription within " + limit +
                               " (agent.bootstrap_timeout)" + tail_text());
    } else {
      finish(std::nullopt, "the Collector sent no available components within " + limit +
                               " (agent.bootstrap_timeout)" + tail_text());
    }
  }

  void exited(const ExitStatus &status) {
    if (server)
      server->stop();
    if (!finished) {
      finished = true;
      timer.cancel();
      error = "the Collector exited during the bootstrap (" + status.describe() + ")" + tail_text();
    }
    report();
  }
};

CollectorBootstrap::CollectorBootstrap(asio::io_context &io, CollectorBootstrapOptions options,
                                       Done done)
    : state_(std::make_shared<State>(io, std::move(options), std::move(done))) {}

CollectorBootstrap::~CollectorBootstrap() {
  state_->done = nullptr;
  state_->timer.cancel();
  state_->process.reset();
  state_->server.reset();
}

void CollectorBootstrap::start() {
  State &s = *state_;
  const std::string executable = s.options.executable.string();
  std::error_code error;
  if (!std::filesystem::exists(s.options.executable, error)) {
    s.finish(std::nullopt, "the Collector executable " + executable + " is missing");
    return;
  }
  if (::access(executable.c_str(), X_OK) != 0) {
    s.finish(std::nullopt, "the Collector executable " + executable + " is not executable");
    return;
  }

  std::weak_ptr<State> weak = state_;
  LocalOpampServerOptions server_options;
  server_options.instance_uid = s.options.instance_uid;
  LocalOpampServerCallbacks callbacks;
  callbacks.on_connected = [weak](const std::string &) {
    if (auto self = weak.lock())
      self->connected = true;
  };
  callbacks.on_message = [weak](const pb::AgentToServer &message) {
    if (auto self = weak.lock())
      self->on_message(message);
  };
  try {
    s.server = std::make_unique<LocalOpampServer>(s.io, server_options, callbacks);
    s.server->start();
    CompositionInput input;
    input.own_telemetry_yaml = bootstrap_pipeline(s.options.allow_no_pipelines);
    input.opamp_extension_yaml = s.server->extension_config_yaml();
    input.instance_uid = s.options.instance_uid;
    const auto config_path = s.options.storage_directory / "bootstrap.yaml";
    write_collector_file(config_path, compose_collector_config(input), s.options.credentials);

    CollectorCommand command;
    command.executable = s.options.executable;
    command.args = {"--config", config_path.string()};
    if (s.options.allow_no_pipelines) {
      command.args.push_back("--feature-gates");
      command.args.push_back(kAllowNoPipelinesGate);
    }
    command.args.insert(command.args.end(), s.options.args.begin(), s.options.args.end());
    command.extra_env = s.options.env;
    command.credentials = s.options.credentials;
    s.process = std::make_unique<CollectorProcess>(
        s.io,
        [weak](std::string_view line) {
          auto self = weak.lock();
          if (!self)
            return;
          self->tail.emplace_back(line);
          if (self->tail.size() > kTailLines)
            self->tail.pop_front();
        },
        [weak](const ExitStatus &status) {
          if (auto self = weak.lock())
            self->exited(status);
        });
    s.process->start(command);
    s.server->expect_collector_pid(s.process->pid());
  } catch (const std::exception &failure) {
    s.finish(std::nullopt, std::string("cannot run the bootstrap: ") + failure.what());
    return;
  }
  s.timer.expires_after(s.options.timeout);
  s.timer.async_wait([weak](const boost::system::error_code &failed) {
    auto self = weak.lock();
    if (!failed && self && !self->finished)
      self->timed_out();
  });
}

bool collector_has_feature_gate(const std::filesystem::path &executable, const std::string &gate,
                                std::chrono::milliseconds timeout,
                                const std::optional<CollectorCredentials> &credentials) {
  // A loop of its own, run here to completion: the probe is one of the Collector processes
  // (the same credentials, the same PR_SET_PDEATHSIG) but blocks the caller.
  asio::io_context io;
  std::string text;
  CollectorProcess process(
      io,
      [&text](std::string_view line) {
        text.append(line);
        text.push_back('\n');
      },
      [&io](const ExitStatus &) { io.stop(); });
  CollectorCommand command;
  command.executable = executable;
  command.args = {"featuregate"};
  command.credentials = credentials;
  try {
    process.start(command);
  } catch (const std::exception &) {
    return false;
  }
  io.run_for(timeout);  // out of time: the destructor kills it; what it printed still counts
  for (std::size_t at = text.find(gate); at != std::string::npos; at = text.find(gate, at + 1)) {
    const bool starts_line = at == 0 || text[at - 1] == '\n';
    const bool ends_word = at + gate.size() < text.size() &&
                           (text[at + gate.size()] == ' ' || text[at + gate.size()] == '\t');
    if (starts_line && ends_word)
      return true;
  }
  return false;
}

}  // namespace opsup::collector
