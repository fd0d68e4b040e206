#include "collector/executable_update.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <optional>
#include <thread>

#include "collector/executable_files.hpp"
#include "collector/update_journal.hpp"
#include "common/logging.hpp"
#include "common/sha256.hpp"
#include "packages/collector_binary.hpp"

namespace opsup::collector {
namespace {

namespace asio = boost::asio;
using Status = ExecutableUpdateResult::Status;

std::string hex(const std::string &bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  for (unsigned char byte : bytes) {
    text.push_back(kDigits[byte >> 4]);
    text.push_back(kDigits[byte & 0xf]);
  }
  return text;
}

std::shared_ptr<spdlog::logger> logger() {
  return common::get_logger("collector");
}

// What the worker thread found while preparing.
struct Prepared {
  Status status = Status::kInstalled;  // kInstalled: ready to swap
  std::string error;
  std::string sha256_hex;
  std::uint64_t bytes = 0;
};

Prepared prepare_files(const ExecutableUpdateOptions &options, const UpdateJournal &journal) {
  Prepared prepared;
  const auto extracted = packages::install_collector_binary(
      options.package, options.executable.filename().string(), journal.staged);
  if (!extracted.ok()) {
    prepared.status = extracted.status == packages::ExtractStatus::kWriteFailed ? Status::kNotTried
                                                                                : Status::kRefused;
    prepared.error = "the package was refused: " + extracted.reason;
    return prepared;
  }
  prepared.bytes = extracted.bytes;
  try {
    prepared.sha256_hex = hex(common::sha256_file(journal.staged));
    keep_backup(options.executable, journal.backup);
  } catch (const std::exception &error) {
    remove_quietly(journal.staged);
    prepared.status = Status::kNotTried;
    prepared.error = error.what();
  }
  return prepared;
}

}  // namespace

struct ExecutableUpdate::State : std::enable_shared_from_this<ExecutableUpdate::State> {
  enum class Stage { kIdle, kPreparing, kStopping, kGate, kRollingBack, kFinished };

  State(asio::io_context &io_context, ExecutableUpdateOptions update_options,
        ExecutableUpdateHooks update_hooks, Done update_done)
      : io(io_context),
        options(std::move(update_options)),
        hooks(std::move(update_hooks)),
        done(std::move(update_done)),
        gate_timer(io_context) {}

  asio::io_context &io;
  ExecutableUpdateOptions options;
  ExecutableUpdateHooks hooks;
  Done done;
  asio::steady_timer gate_timer;
  std::thread worker;
  Stage stage = Stage::kIdle;
  UpdateJournal journal;

  void finish(Status status, std::string error) {
    stage = Stage::kFinished;
    gate_timer.cancel();
    if (done) {
      Done callback = std::move(done);
      done = nullptr;
      callback({status, std::move(error)});
    }
  }

  bool write_journal(UpdatePhase phase, std::string &error) {
    journal.phase = phase;
    try {
      write_update_journal(options.storage_directory, journal);
      return true;
    } catch (const std::exception &failure) {
      error = failure.what();
      return false;
    }
  }

  void start() {
    journal.executable = options.executable;
    journal.backup = backup_path_of(options.executable);
    journal.staged = staged_path_of(options.executable);
    journal.package = options.package;
    std::string error;
    if (!write_journal(UpdatePhase::kPreparing, error)) {
      asio::post(io, [weak = weak_from_this(), error] {
        if (auto self = weak.lock())
          self->finish(Status::kNotTried, "cannot write the update journal: " + error);
      });
      return;
    }
    stage = Stage::kPreparing;
    logger()->info("Collector update: extracting {} for {}", options.package.string(),
                   options.executable.string());
    worker = std::thread([weak = weak_from_this(), &io = io, options = options, journal = journal] {
      Prepared prepared = prepare_files(options, journal);
      asio::post(io, [weak, prepared = std::move(prepared)] {
        if (auto self = weak.lock())
          self->prepared(prepared);
      });
    });
  }

  void prepared(const Prepared &prepared) {
    if (worker.joinable())
      worker.join();
    if (prepared.status != Status::kInstalled) {
      remove_quietly(journal.staged);
      remove_quietly(journal.backup);
      try {
        remove_update_journal(options.storage_directory);
      } catch (const std::exception &error) {
        logger()->warn("Collector update: {}", error.what());
      }
      finish(prepared.status, prepared.error);
      return;
    }
    journal.new_sha256 = prepared.sha256_hex;
    std::string error;
    if (!write_journal(UpdatePhase::kSwapping, error)) {
      remove_quietly(journal.staged);
      remove_quietly(journal.backup);
      finish(Status::kNotTried, "cannot write the update journal: " + error);
      return;
    }
    logger()->info(
        "Collector update: new executable ready ({} bytes, sha256 {}); stopping the "
        "Collector to swap it",
        prepared.bytes, prepared.sha256_hex);
    stage = Stage::kStopping;
    hooks.stop_collector([weak = weak_from_this()] {
      if (auto self = weak.lock())
        self->swap();
    });
  }

  void swap() {
    try {
      rename_durably(journal.staged, journal.executable);
    } catch (const std::exception &error) {
      // agent.executable is unchanged: start it again.
      remove_quietly(journal.staged);
      remove_quietly(journal.backup);
      try {
        remove_update_journal(options.storage_directory);
      } catch (const std::exception &) {
      }
      hooks.start_collector();
      finish(Status::kNotTried, error.what());
      return;
    }
    logger()->info(
        "Collector update: {} replaced; starting it and waiting up to {} ms for it "
        "to be healthy",
        journal.executable.string(), options.health_timeout.count());
    stage = Stage::kGate;
    gate_timer.expires_after(options.health_timeout);
    gate_timer.async_wait([weak = weak_from_this()](const boost::system::error_code &cancelled) {
      auto self = weak.lock();
      if (!cancelled && self && self->stage == Stage::kGate) {
        self->roll_back("the new Collector did not report itself healthy within " +
                        std::to_string(self->options.health_timeout.count()) + " ms");
      }
    });
    hooks.start_collector();
  }

  void healthy() {
    if (stage != Stage::kGate)
      return;
    gate_timer.cancel();
    std::string error;
    if (!write_journal(UpdatePhase::kCommitted, error))
      logger()->warn("Collector update: cannot mark the journal committed: {}", error);
    remove_quietly(journal.backup);
    try {
      remove_update_journal(options.storage_directory);
    } catch (const std::exception &failure) {
      logger()->warn("Collector update: {}", failure.what());
    }
    logger()->info("Collector update: the new Collector is healthy; {} removed",
                   journal.backup.string());
    stage = Stage::kFinished;
    if (hooks.on_installed)
      hooks.on_installed();
    finish(Status::kInstalled, "");
  }

  void roll_back(const std::string &why) {
    if (stage != Stage::kGate)
      return;
    gate_timer.cancel();
    stage = Stage::kRollingBack;
    logger()->warn("Collector update failed: {}; restoring {}", why, journal.backup.string());
    std::string error;
    if (!write_journal(UpdatePhase::kRollingBack, error))
      logger()->warn("Collector update: cannot mark the journal rolling back: {}", error);
    hooks.stop_collector([weak = weak_from_this(), why] {
      auto self = weak.lock();
      if (!self)
        return;
      std::string outcome = why;
      try {
        rename_durably(self->journal.backup, self->journal.executable);
        remove_update_journal(self->options.storage_directory);
        outcome += "; the previous executable was restored and started again";
      } catch (const std::exception &failure) {
        // The journal stays: the next start tries the restore again.
        outcome += std::string("; restoring the previous executable failed: ") + failure.what();
        logger()->error("Collector update: {}", outcome);
      }
      self->hooks.start_collector();
      self->finish(Status::kRolledBack, outcome);
    });
  }
};

ExecutableUpdate::ExecutableUpdate(asio::io_context &io, ExecutableUpdateOptions options,
                                   ExecutableUpdateHooks hooks, Done done)
    : state_(std::make_shared<State>(io, std::move(options), std::move(hooks), std::move(done))) {}

ExecutableUpdate::~ExecutableUpdate() {
  state_->gate_timer.cancel();
  state_->done = nullptr;
  state_->hooks = {};
  if (state_->worker.joinable())
    state_->worker.join();
}

void ExecutableUpdate::start() {
  state_->start();
}

bool ExecutableUpdate::in_health_gate() const {
  return state_->stage == State::Stage::kGate;
}

void ExecutableUpdate::collector_healthy() {
  state_->healthy();
}

void ExecutableUpdate::collector_failed(const std::string &why) {
  state_->roll_back(why);
}

}  // namespace opsup::collector
