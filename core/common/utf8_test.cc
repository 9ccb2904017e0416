#include "core/common/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace vet {
namespace {

TEST(ScanUtf8Test, CountsCharactersNotBytes) {
  EXPECT_EQ(ScanUtf8("").chars, 0u);
  EXPECT_EQ(ScanUtf8("revenue").chars, 7u);
  // é (2 bytes), € (3 bytes), 🐈 (4 bytes).
  const Utf8Scan scan = ScanUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x90\x88");
  EXPECT_TRUE(scan.valid);
  EXPECT_EQ(scan.chars, 8u);
  std::string accented;
  for (int i = 0; i < 1999; ++i) accented += "\xC3\xA9";
  EXPECT_EQ(ScanUtf8(accented).chars, 1999u);
}

TEST(ScanUtf8Test, FindsTheFirstInvalidSequence) {
  struct Case {
    std::string text;
    size_t at;
  };
  for (const Case& c :
       {Case{"ab\xFF", 2}, Case{"\xC3", 0}, Case{"ok\xC0\xAF", 2}, Case{"\xE0\x80\xAF", 0},
        Case{"x\xED\xA0\x80", 1}, Case{"\xF4\x90\x80\x80", 0}, Case{"\xC3\xA9\x80", 2},
        Case{"\xE2\x82", 0}}) {
    const Utf8Scan scan = ScanUtf8(c.text);
    EXPECT_FALSE(scan.valid) << c.at;
    EXPECT_EQ(scan.invalid_at, c.at);
  }
}

}  // namespace
}  // namespace vet
