// spdlog formatters shaped like zap's encoders. JSON: one object per line with "level",
// "ts" (Unix seconds, fractional), "logger" and "msg", as zap's production encoder.
// Console: "<ISO-8601 time>\t<level>\t<logger>\t<msg>", as zap's console encoder.
#pragma once

#include <memory>
#include <string_view>

#include <spdlog/formatter.h>

namespace opsup::common {

class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg &msg, spdlog::memory_buf_t &dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

class ConsoleLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg &msg, spdlog::memory_buf_t &dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

// zap's name for an spdlog level ("warn", not "warning").
std::string_view zap_level_name(spdlog::level::level_enum level);

}  // namespace opsup::common
