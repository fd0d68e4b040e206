// Helpers for tests that load real modules: temp dirs, module copies with controlled
// permissions, a recording SupervisorContext, captured logs and waiting on the loop.
#pragma once

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "modules/supervisor_context.hpp"

namespace opsup::test {

// A fresh directory (mode 0700) removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "opsup-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const std::filesystem::path &path() const { return path_; }
  std::filesystem::path operator/(const std::string &name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

#if defined(OPSUP_EXAMPLE_MODULE_DIR) && defined(OPSUP_ABI_TEST_MODULE_DIR)
// Where CMake put the example and test modules.
inline std::filesystem::path example_module(const std::string &file_name) {
  return std::filesystem::path(OPSUP_EXAMPLE_MODULE_DIR) / file_name;
}
inline std::filesystem::path test_module(const std::string &file_name) {
  return std::filesystem::path(OPSUP_ABI_TEST_MODULE_DIR) / file_name;
}
#endif

// Copies a built module into `directory` as `name` with `mode`.
inline std::filesystem::path install_module(const std::filesystem::path &source,
                                            const std::filesystem::path &directory,
                                            const std::string &name, mode_t mode = 0755) {
  const std::filesystem::path target = directory / name;
  std::filesystem::copy_file(source, target, std::filesystem::copy_options::overwrite_existing);
  if (::chmod(target.c_str(), mode) != 0)
    throw std::runtime_error("chmod failed");
  return target;
}

// Records what modules ask of the session.
class RecordingContext : public modules::SupervisorContext {
 public:
  struct FieldsCall {
    std::string module_id;
    std::vector<uint32_t> owned_fields;
    std::string agent_to_server;
  };

  explicit RecordingContext(std::filesystem::path storage) : storage_(std::move(storage)) {
    for (size_t i = 0; i < uid_.size(); ++i)
      uid_[i] = static_cast<uint8_t>(0xA0 + i);
  }

  modules::InstanceUid instance_uid() const override { return uid_; }
  storage::PersistentState *persistent_state_for_modules() override { return persistent_state_; }
  uint64_t server_capabilities() const override { return server_capabilities_; }
  std::filesystem::path storage_directory() const override { return storage_; }
  void set_agent_fields(std::string_view module_id, std::span<const uint32_t> owned_fields,
                        std::string_view agent_to_server) override {
    calls.push_back(FieldsCall{std::string(module_id),
                               std::vector<uint32_t>(owned_fields.begin(), owned_fields.end()),
                               std::string(agent_to_server)});
  }

  std::vector<FieldsCall> calls;
  uint64_t server_capabilities_ = 0;
  storage::PersistentState *persistent_state_ = nullptr;  // none unless a test sets one
  modules::InstanceUid uid_{};

 private:
  std::filesystem::path storage_;
};

// Captures every spdlog line for the lifetime of the object.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<Sink>()) {
    previous_ = spdlog::default_logger();
    auto logger = std::make_shared<spdlog::logger>("capture", sink_);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }

  bool contains(const std::string &text) const {
    for (const std::string &line : lines()) {
      if (line.find(text) != std::string::npos)
        return true;
    }
    return false;
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(sink_->lines_mutex);
    return sink_->lines;
  }
  std::string all() const {
    std::string text;
    for (const std::string &line : lines())
      text += line + "\n";
    return text;
  }

 private:
  struct Sink : spdlog::sinks::base_sink<std::mutex> {
    void sink_it_(const spdlog::details::log_msg &message) override {
      std::lock_guard lock(lines_mutex);
      lines.emplace_back(message.payload.data(), message.payload.size());
    }
    void flush_() override {}
    mutable std::mutex lines_mutex;
    std::vector<std::string> lines;
  };
  std::shared_ptr<Sink> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

// Runs the loop until `done()` holds or the deadline passes; returns done().
inline bool run_until(boost::asio::io_context &io, const std::function<bool()> &done,
                      std::chrono::seconds deadline = std::chrono::seconds(20)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!done() && std::chrono::steady_clock::now() < until) {
    io.restart();
    io.run_one_for(std::chrono::milliseconds(100));
  }
  return done();
}

}  // namespace opsup::test
