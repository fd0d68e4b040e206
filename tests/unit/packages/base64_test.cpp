#include "packages/base64.hpp"

#include <gtest/gtest.h>

namespace opsup::packages {
namespace {

TEST(Base64, DecodesStandardTextWithAndWithoutPadding) {
  EXPECT_EQ(decode_base64("YWJj"), "abc");
  EXPECT_EQ(decode_base64("aGk="), "hi");
  EXPECT_EQ(decode_base64("aA=="), "h");
  EXPECT_EQ(decode_base64("AP8+/w=="), std::string("\x00\xff\x3e\xff", 4));
}

TEST(Base64, RefusesEverythingButCanonicalStandardBase64) {
  for (const char *text : {"", "aGk", "aG k=", "aGk=\n", "a=Gk", "aGk=aGk=", "aGl=", "aB==", "aGk-",
                           "aGk_", "====", "a===", "YW*j"}) {
    EXPECT_EQ(decode_base64(text), std::nullopt) << "\"" << text << "\"";
  }
}

}  // namespace
}  // namespace opsup::packages
