// emit_yaml keeps scalar types across a parse/emit round trip.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "common/yaml_emit.hpp"

namespace opsup::common {
namespace {

YAML::Node round_trip(const std::string &text) {
  return YAML::Load(emit_yaml(YAML::Load(text)));
}

TEST(YamlEmit, QuotedScalarsStayStrings) {
  const YAML::Node node = round_trip(
      "zeros: \"0123\"\nflag: 'true'\nnull_text: \"null\"\nempty: \"\"\nmultiline: |\n  a\n  b\n");
  for (const char *key : {"zeros", "flag", "null_text", "empty", "multiline"}) {
    EXPECT_EQ(node[key].Tag(), "!") << key;  // written quoted again
  }
  EXPECT_EQ(node["zeros"].Scalar(), "0123");
  EXPECT_EQ(node["flag"].Scalar(), "true");
  EXPECT_EQ(node["multiline"].Scalar(), "a\nb\n");
}

TEST(YamlEmit, PlainScalarsStayPlain) {
  const std::string text = emit_yaml(YAML::Load(
      "port: 0123\nenabled: true\nref: ${env:HOST}\nempty_value:\nlist: [1, two, \"3\"]\n"));
  EXPECT_NE(text.find("port: 0123\n"), std::string::npos) << text;
  EXPECT_NE(text.find("enabled: true\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ref: ${env:HOST}\n"), std::string::npos) << text;
  EXPECT_NE(text.find("empty_value: ~\n"), std::string::npos) << text;
  const YAML::Node node = YAML::Load(text);
  EXPECT_EQ(node["list"][0].Tag(), "?");
  EXPECT_EQ(node["list"][2].Tag(), "!");
  EXPECT_TRUE(node["empty_value"].IsNull());
}

TEST(YamlEmit, QuotedKeysAndNestedStructures) {
  const YAML::Node node =
      round_trip("\"123\": a\nouter:\n  - name: x\n    values: {\"on\": 'yes'}\n  - []\n  - {}\n");
  auto it = node.begin();
  EXPECT_EQ(it->first.Tag(), "!");
  EXPECT_EQ(it->first.Scalar(), "123");
  EXPECT_EQ(node["outer"][0]["values"]["on"].Tag(), "!");
  EXPECT_EQ(node["outer"][0]["values"]["on"].Scalar(), "yes");
  EXPECT_TRUE(node["outer"][1].IsSequence());
  EXPECT_EQ(node["outer"][1].size(), 0u);
  EXPECT_TRUE(node["outer"][2].IsMap());
}

TEST(YamlEmit, ExplicitTagsAreKept) {
  const YAML::Node node = round_trip("a: !!str 12\nb: !!int \"7\"\nc: !custom value\n");
  EXPECT_EQ(node["a"].Tag(), "!");  // !!str is written as a quoted string
  EXPECT_EQ(node["b"].Tag(), "tag:yaml.org,2002:int");
  EXPECT_EQ(node["c"].Tag(), "!custom");
}

TEST(YamlEmit, YamlStringHelperForcesAString) {
  YAML::Node root(YAML::NodeType::Map);
  root["version"] = yaml_string("0123");
  root["count"] = 5;
  const YAML::Node node = YAML::Load(emit_yaml(root));
  EXPECT_EQ(node["version"].Tag(), "!");
  EXPECT_EQ(node["count"].Tag(), "?");
}

}  // namespace
}  // namespace opsup::common
