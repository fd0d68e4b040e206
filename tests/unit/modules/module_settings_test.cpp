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

}  // namespace
}  // namespace opsup::modules
