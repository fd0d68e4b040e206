// Cutting each module's plugins.<id> section out of the config text modules receive.
#include <gtest/gtest.h>

#include "modules/module_settings.hpp"

namespace opsup::modules {
namespace {

TEST(ModuleSettings, EachIdGetsExactlyItsOwnSectionWithTypesKept) {
  const auto sections = module_settings_sections(
      "mode: top\n"
      "plugins:\n"
      "  directory: /opt/modules\n"
      "  disable: [x]\n"
      "  io.opsup.test:\n    mode: prefix\n"
      "  io.opsup.test.flaky:\n    mode: fail_create\n    code: \"0123\"\n    on: true\n"
      "  remote_config: fast\n"
      "  empty:\n");
  EXPECT_EQ(sections.size(), 3u);
  EXPECT_EQ(sections.at("io.opsup.test.flaky"), "mode: fail_create\ncode: \"0123\"\non: true\n");
  EXPECT_EQ(sections.at("io.opsup.test"), "mode: prefix\n");
  EXPECT_EQ(sections.at("remote_config"), "fast\n");
  EXPECT_FALSE(sections.contains("directory"));
  EXPECT_FALSE(sections.contains("empty"));
}

TEST(ModuleSettings, NoPluginsOrBadTextYieldsNothing) {
  EXPECT_TRUE(module_settings_sections("{}").empty());
  EXPECT_TRUE(module_settings_sections("").empty());
  EXPECT_TRUE(module_settings_sections("plugins: [a, b]\n").empty());
  EXPECT_TRUE(module_settings_sections("plugins: {a: [\n").empty());
}

// The setting_* host services (ABI 1.2) look values up with read_setting.
TEST(ModuleSettings, ReadSettingFindsEachTypeByDottedKey) {
  const std::string section =
      "name: edge\n"
      "limits:\n  max: 42\n  on: true\n  every: 1m30s\n"
      "tags: [a, \"b c\"]\n"
      "nothing: ~\n";
  using Status = SettingResult::Status;
  auto text = read_setting(section, "name", SettingType::kString);
  EXPECT_EQ(text.status, Status::kOk);
  EXPECT_EQ(text.text, "edge");
  auto max = read_setting(section, "limits.max", SettingType::kInt);
  EXPECT_EQ(max.status, Status::kOk);
  EXPECT_EQ(max.integer, 42);
  auto on = read_setting(section, "limits.on", SettingType::kBool);
  EXPECT_EQ(on.status, Status::kOk);
  EXPECT_TRUE(on.boolean);
  auto every = read_setting(section, "limits.every", SettingType::kDurationMs);
  EXPECT_EQ(every.status, Status::kOk);
  EXPECT_EQ(every.duration_ms, 90000u);
  auto tags = read_setting(section, "tags", SettingType::kList);
  EXPECT_EQ(tags.status, Status::kOk);
  EXPECT_EQ(tags.list, (std::vector<std::string>{"a", "b c"}));
  // A number is a string too, as written.
  EXPECT_EQ(read_setting(section, "limits.max", SettingType::kString).text, "42");
}

TEST(ModuleSettings, ReadSettingSaysAbsentOrWhatIsWrong) {
  const std::string section = "name: edge\nlimits:\n  max: 4x2\n  on: yes\n  every: -5s\n";
  using Status = SettingResult::Status;
  EXPECT_EQ(read_setting(section, "missing", SettingType::kString).status, Status::kNotFound);
  EXPECT_EQ(read_setting(section, "limits.missing", SettingType::kInt).status, Status::kNotFound);
  EXPECT_EQ(read_setting("", "name", SettingType::kString).status, Status::kNotFound);
  EXPECT_EQ(read_setting("nothing: ~\n", "nothing", SettingType::kString).status,
            Status::kNotFound);
  const auto max = read_setting(section, "limits.max", SettingType::kInt);
  EXPECT_EQ(max.status, Status::kWrongType);
  EXPECT_EQ(max.problem, "must be an integer, not \"4x2\"");
  EXPECT_EQ(read_setting(section, "limits.on", SettingType::kBool).problem,
            "must be true or false, not \"yes\"");
  EXPECT_EQ(read_setting(section, "limits.every", SettingType::kDurationMs).problem,
            "must not be negative, not \"-5s\"");
  EXPECT_EQ(read_setting(section, "limits", SettingType::kString).problem,
            "must be a single value, not a map");
  EXPECT_EQ(read_setting(section, "name", SettingType::kList).problem,
            "must be a list, not \"edge\"");
  EXPECT_EQ(read_setting(section, "name.deeper", SettingType::kString).problem,
            "cannot look up deeper in \"edge\"");
  EXPECT_EQ(read_setting(section, "a..b", SettingType::kString).status, Status::kWrongType);
}

}  // namespace
}  // namespace opsup::modules
