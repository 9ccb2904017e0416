#include "core/common/sha256.h"

#include <string>

#include "gtest/gtest.h"

namespace vet {
namespace {

// Test vectors from FIPS 180-4's examples (NIST CSRC "SHA256.pdf",
// "SHA2_Additional.pdf").
TEST(Sha256Test, MatchesFipsVectors) {
  EXPECT_EQ(Sha256Hex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(Sha256(std::string(1000000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, ParsesHexOfEitherCaseAndRejectsOthers) {
  const std::string hex = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
  auto digest = ParseSha256Hex(hex);
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_TRUE(DigestsEqual(*digest, Sha256("abc")));
  EXPECT_FALSE(DigestsEqual(*digest, Sha256("abd")));
  EXPECT_EQ(ParseSha256Hex(hex.substr(1)).status().code(), absl::StatusCode::kInvalidArgument);
  std::string bad = hex;
  bad[10] = 'g';
  auto parsed = ParseSha256Hex(bad);
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("character 11"), absl::string_view::npos);
}

TEST(Sha256Test, PiecesHashLikeTheWhole) {
  const std::string text = "The quick brown fox jumps over the lazy dog";
  Sha256Hasher hasher;
  hasher.Update(text.substr(0, 7));
  hasher.Update("");
  hasher.Update(text.substr(7));
  EXPECT_EQ(Sha256Hex(hasher.Final()), Sha256Hex(Sha256(text)));
  EXPECT_EQ(Sha256Hex(Sha256(text)),
            "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592");
}

}  // namespace
}  // namespace vet
