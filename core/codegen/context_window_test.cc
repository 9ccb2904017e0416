#include "core/codegen/context_window.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vet::codegen {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

PriorTurn Turn(int i) {
  PriorTurn t;
  t.question = absl::StrCat("question ", i, "?");
  t.summary = absl::StrCat("metric ", i, " by month");
  t.code = absl::StrCat("# intent ", i, "\nresult = df", i, ".groupby('month').sum()\n",
                        std::string(200, 'x'));
  return t;
}

std::vector<PriorTurn> Turns(int n) {
  std::vector<PriorTurn> out;
  for (int i = 1; i <= n; ++i) out.push_back(Turn(i));
  return out;
}

TEST(ContextWindowTest, EverythingFitsInFullOldestFirst) {
  ContextWindow w = BuildContextWindow(Turns(3), 100'000);
  EXPECT_EQ(w.full_turns, 3);
  EXPECT_EQ(w.compressed_turns, 0);
  EXPECT_EQ(w.dropped_turns, 0);
  EXPECT_LT(w.text.find("question 1?"), w.text.find("question 2?"));
  EXPECT_LT(w.text.find("question 2?"), w.text.find("question 3?"));
  EXPECT_THAT(w.text, HasSubstr("It computed: metric 3 by month"));
  EXPECT_THAT(w.text, HasSubstr("```python\n# intent 3"));
  EXPECT_EQ(w.tokens, EstimateTokens(w.text));
}

TEST(ContextWindowTest, OlderTurnsAreCompressedToOneLineAndTheNewestKeptInFull) {
  // A full turn here is about 95 tokens, a compressed one about 13: two
  // full turns fit in two thirds of 400, and the rest as lines.
  ContextWindow w = BuildContextWindow(Turns(10), 400);
  EXPECT_EQ(w.full_turns, 2);
  EXPECT_EQ(w.compressed_turns, 8);
  EXPECT_EQ(w.dropped_turns, 0);
  EXPECT_LE(w.tokens, 400);
  // The newest are full, the older ones one line each.
  EXPECT_THAT(w.text, HasSubstr("Question: question 9?"));
  EXPECT_THAT(w.text, HasSubstr("Question: question 10?"));
  EXPECT_THAT(w.text, HasSubstr("- question 1? -> metric 1 by month\n"));
  EXPECT_THAT(w.text, HasSubstr("- question 8? -> metric 8 by month\n"));
  EXPECT_THAT(w.text, Not(HasSubstr("Question: question 8?")));
  const size_t earlier = w.text.find("Earlier turns, one line each:");
  const size_t recent = w.text.find("Recent turns in full:");
  ASSERT_NE(earlier, std::string::npos);
  ASSERT_NE(recent, std::string::npos);
  EXPECT_LT(earlier, recent);
}

TEST(ContextWindowTest, TheOldestAreDroppedWhenEvenTheirLinesDoNotFit) {
  ContextWindow w = BuildContextWindow(Turns(50), 300);
  EXPECT_EQ(w.full_turns, 1);
  EXPECT_GT(w.compressed_turns, 5);
  EXPECT_EQ(w.full_turns + w.compressed_turns + w.dropped_turns, 50);
  EXPECT_GT(w.dropped_turns, 0);
  EXPECT_LE(w.tokens, 300);
  EXPECT_THAT(w.text, Not(HasSubstr("question 1?")));
  EXPECT_THAT(w.text, HasSubstr("question 50?"));
}

TEST(ContextWindowTest, IsDeterministicAndGrowsWithTheBudget) {
  std::vector<PriorTurn> turns = Turns(12);
  EXPECT_EQ(BuildContextWindow(turns, 700).text, BuildContextWindow(turns, 700).text);
  int last_full = 0;
  for (int64_t budget : {0, 50, 200, 700, 2000, 100000}) {
    ContextWindow w = BuildContextWindow(turns, budget);
    EXPECT_LE(w.tokens, std::max<int64_t>(budget, 0)) << budget;
    EXPECT_GE(w.full_turns, last_full) << budget;
    last_full = w.full_turns;
  }
  EXPECT_TRUE(BuildContextWindow(turns, 0).text.empty());
  EXPECT_EQ(BuildContextWindow(turns, 0).dropped_turns, 12);
  EXPECT_TRUE(BuildContextWindow({}, 1000).text.empty());
}

TEST(ContextWindowTest, CompressionUsesTheSummaryElseTheCodesIntent) {
  PriorTurn t;
  t.question = "What was\nrevenue?";
  t.summary = "revenue, 2026-07-01..2026-09-30";
  EXPECT_EQ(CompressTurn(t), "- What was revenue? -> revenue, 2026-07-01..2026-09-30\n");
  t.summary.clear();
  t.code = "import pandas as pd\n#   top clients by spend\nresult = 1";
  EXPECT_EQ(CompressTurn(t), "- What was revenue? -> top clients by spend\n");
  t.code = "a = 1\nresult = a";
  EXPECT_EQ(CompressTurn(t), "- What was revenue? -> code of 2 lines\n");
  t.question = std::string(300, 'q');
  EXPECT_LT(CompressTurn(t).size(), 260u) << "one line stays short";
}

}  // namespace
}  // namespace vet::codegen
