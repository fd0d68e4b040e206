#include <gtest/gtest.h>

#include <chrono>

#include "config/duration.hpp"

namespace opsup::config {
namespace {

using namespace std::chrono_literals;

Duration parse(std::string_view text) {
  auto result = parse_go_duration(text);
  if (auto *error = std::get_if<std::string>(&result)) {
    ADD_FAILURE() << text << ": " << *error;
    return Duration{-999};
  }
  return std::get<Duration>(result);
}

std::string error_of(std::string_view text) {
  auto result = parse_go_duration(text);
  if (std::holds_alternative<Duration>(result))
    return "(parsed)";
  return std::get<std::string>(result);
}

TEST(GoDuration, ParsesLikeTimeParseDuration) {
  EXPECT_EQ(parse("5s"), 5s);
  EXPECT_EQ(parse("1m30s"), 90s);
  EXPECT_EQ(parse("250ms"), 250ms);
  EXPECT_EQ(parse("1h"), 1h);
  EXPECT_EQ(parse("0"), 0s);
  EXPECT_EQ(parse("+0"), 0s);
  EXPECT_EQ(parse("0s"), 0s);
  EXPECT_EQ(parse("1.5h"), 90min);
  EXPECT_EQ(parse(".5s"), 500ms);
  EXPECT_EQ(parse("1.s"), 1s);
  EXPECT_EQ(parse("-2us"), -2us);
  EXPECT_EQ(parse("3\xC2\xB5s"), 3us);  // µs
  EXPECT_EQ(parse("7ns"), 7ns);
  EXPECT_EQ(parse("1h2m3s4ms5us6ns"), 1h + 2min + 3s + 4ms + 5us + 6ns);
  EXPECT_EQ(parse("2562047h47m16.854775807s"), Duration{INT64_MAX});
}

TEST(GoDuration, RejectsWhatGoRejects) {
  EXPECT_NE(error_of("").find("invalid duration"), std::string::npos);
  EXPECT_NE(error_of("5").find("missing unit"), std::string::npos);
  EXPECT_NE(error_of("5d").find("unknown unit \"d\""), std::string::npos);
  EXPECT_NE(error_of(".s").find("invalid duration"), std::string::npos);
  EXPECT_NE(error_of("s").find("invalid duration"), std::string::npos);
  EXPECT_NE(error_of("1s ").find("unknown unit"), std::string::npos);
  EXPECT_NE(error_of("9999999999999999999h").find("overflow"), std::string::npos);
  EXPECT_NE(error_of("2562048h").find("overflow"), std::string::npos);
}

TEST(GoDuration, FormatsLikeDurationString) {
  EXPECT_EQ(format_go_duration(0s), "0s");
  EXPECT_EQ(format_go_duration(5s), "5s");
  EXPECT_EQ(format_go_duration(90s), "1m30s");
  EXPECT_EQ(format_go_duration(1h), "1h0m0s");
  EXPECT_EQ(format_go_duration(250ms), "250ms");
  EXPECT_EQ(format_go_duration(1500ms), "1.5s");
  EXPECT_EQ(format_go_duration(1500us), "1.5ms");
  EXPECT_EQ(format_go_duration(7ns), "7ns");
  EXPECT_EQ(format_go_duration(-2us), "-2us");
  for (Duration value :
       {Duration{1}, Duration{1234567890123}, Duration{-42}, Duration{3600000000001}}) {
    EXPECT_EQ(parse(format_go_duration(value)), value) << format_go_duration(value);
  }
}

}  // namespace
}  // namespace opsup::config
