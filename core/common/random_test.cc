// RandomHex and the form check stores apply to ids from clients.
#include "core/common/random.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace vet {
namespace {

TEST(RandomHexTest, GivesFreshIdsOfTheFormIsRandomHexAccepts) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    const std::string id = RandomHex(8);
    EXPECT_TRUE(IsRandomHex(id, 8)) << id;
    EXPECT_FALSE(IsRandomHex(id, 16)) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 100u);
  EXPECT_FALSE(IsRandomHex("0123456789ABCDEF", 8));  // upper case
  EXPECT_FALSE(IsRandomHex("0123456789abcdeg", 8));
  EXPECT_FALSE(IsRandomHex("", 8));
  EXPECT_TRUE(IsRandomHex("", 0));
}

}  // namespace
}  // namespace vet
