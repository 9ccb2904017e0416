#include "core/budget/pricing.h"

#include <fstream>

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::budget {
namespace {

using ::testing::HasSubstr;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

TEST(PricingTableTest, BuiltInDefaultsParseAndPriceTheDefaultModel) {
  ASSERT_THAT(PricingTable::Parse(PricingTable::DefaultJson(), "(built in)"), IsOk());
  const PricingTable& table = PricingTable::Default();
  const ModelPrice* mini = table.Find("gpt-5.2-mini");
  ASSERT_NE(mini, nullptr);
  EXPECT_EQ(mini->input, 250'000);
  EXPECT_EQ(mini->cached_input, 25'000);
  EXPECT_EQ(mini->output, 2'000'000);
  EXPECT_EQ(table.DowngradeAtSoftCap("gpt-5.2"), "gpt-5.2-mini");
  EXPECT_EQ(table.DowngradeAtSoftCap("gpt-5.2-mini"), "");
  // Every downgrade target has a price.
  for (const DowngradeRule& rule : table.downgrades()) {
    EXPECT_THAT(table.Require(rule.to), IsOk());
  }
}

TEST(PricingTableTest, CostIsIntegerMicrosRoundedUpPerPart) {
  auto table = PricingTable::Parse(
      R"({"models": {"m": {"input": 0.25, "cached_input": 0.025, "output": 2}}})", "t");
  ASSERT_THAT(table, IsOk());
  // 1M input tokens at $0.25: exactly 250000 micro-dollars.
  EXPECT_EQ(table->CostMicros("m", 1'000'000, 0, 0), 250'000);
  // 1000 prompt tokens of which 400 cached, 500 completion:
  // 600 * 0.25 = 150, 400 * 0.025 = 10, 500 * 2 = 1000 micro-dollars.
  EXPECT_EQ(table->CostMicros("m", 1000, 400, 500), 1160);
  // A part rounds up: 1 input token is 0.25 -> 1, 1 output token is 2.
  EXPECT_EQ(table->CostMicros("m", 1, 0, 1), 3);
  // Cached tokens beyond the prompt are clamped; negatives count as 0.
  EXPECT_EQ(table->CostMicros("m", 100, 500, -5), 3);
  // A million calls of 1 token sum exactly: no floating point accumulates.
  int64_t total = 0;
  for (int i = 0; i < 1'000'000; ++i) total += table->CostMicros("m", 0, 0, 1);
  EXPECT_EQ(total, 2'000'000);
}

TEST(PricingTableTest, CachedPriceDefaultsToInputAndZeroIsAllowedForLocalModels) {
  auto table = PricingTable::Parse(
      R"({"models": {"paid": {"input": 1, "output": 4}, "llama3.1:8b": {"input": 0, "output": 0}}})",
      "t");
  ASSERT_THAT(table, IsOk());
  EXPECT_EQ(table->Find("paid")->cached_input, 1'000'000);
  EXPECT_EQ(table->CostMicros("llama3.1:8b", 5000, 0, 5000), 0);
}

TEST(PricingTableTest, UnknownModelIsRefusedNotFree) {
  const PricingTable& table = PricingTable::Default();
  EXPECT_THAT(table.Require("my-fancy-model"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("model 'my-fancy-model' has no price in the pricing file")));
  EXPECT_GT(table.CostMicros("my-fancy-model", 1000, 0, 1000),
            table.CostMicros("gpt-5.2", 1000, 0, 1000) - 1)
      << "an unpriced model is counted at the highest price";
}

TEST(PricingTableTest, BadFilesNameTheEntryAndField) {
  struct Case {
    const char* json;
    const char* message;
  } cases[] = {
      {"{", "not valid JSON"},
      {"[]", "the top level must be an object"},
      {R"({"models": {}})", "\"models\" must be an object with at least one model"},
      {R"({"models": {"m": {"input": -1, "output": 1}}})",
       "models.\"m\".input must be a number of USD per million tokens"},
      {R"({"models": {"m": {"input": "1", "output": 1}}})", "models.\"m\".input must be a number"},
      {R"({"models": {"m": {"input": 1}}})", "models.\"m\" needs both \"input\" and \"output\""},
      {R"({"models": {"m": {"input": 1, "output": 1, "reasoning": 3}}})",
       "models.\"m\".reasoning is unknown"},
      {R"({"models": {"m": {"input": 1, "output": 1}}, "prices": {}})",
       "field \"prices\" is unknown"},
      {R"({"models": {"m": {"input": 1, "output": 1}}, "downgrade": [{"from": ["x"], "to": "y"}]})",
       "downgrade[0].to names \"y\", which has no price"},
      {R"({"models": {"m": {"input": 1, "output": 1}}, "downgrade": [{"from": ["m"], "to": "m"}]})",
       "downgrade[0].from downgrades \"m\" to itself"},
      {R"({"models": {"m": {"input": 1, "output": 1}, "n": {"input": 1, "output": 1}},
           "downgrade": [{"from": ["x"], "to": "m"}, {"from": ["x"], "to": "n"}]})",
       "downgrade[1].from names \"x\", which an earlier rule already names"},
      {R"({"models": {"m": {"input": 1, "output": 1}}, "downgrade": {"from": []}})",
       "\"downgrade\" must be an array"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(PricingTable::Parse(c.json, "p.json"),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)))
        << c.json;
  }
}

TEST(PricingTableTest, FromFileNamesAMissingFile) {
  EXPECT_THAT(PricingTable::FromFile("/nonexistent/pricing.json"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/pricing.json")));
}

TEST(SandboxCostTest, RoundsUpAndIsZeroWhenFree) {
  EXPECT_EQ(SandboxCostMicros(absl::Seconds(2), 0), 0);
  EXPECT_EQ(SandboxCostMicros(absl::Seconds(2), 1000), 2000);
  EXPECT_EQ(SandboxCostMicros(absl::Milliseconds(1), 1), 1);
  EXPECT_EQ(SandboxCostMicros(absl::Milliseconds(1500), 1'000'000), 1'500'000);
}

}  // namespace
}  // namespace vet::budget
