#include "core/session/in_memory_session_store.h"

#include <set>

#include "core/common/testing/fake_clock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::session {
namespace {

using ::testing::HasSubstr;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

TEST(InMemorySessionStoreTest, IdsAreLongAndUnique) {
  FakeClock clock;
  InMemorySessionStore store(clock);
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    auto s = store.Create("a");
    ASSERT_THAT(s, IsOk());
    EXPECT_EQ(s->id.size(), 32u);  // 128 bits in hex
    ids.insert(s->id);
  }
  EXPECT_EQ(ids.size(), 100u);
}

TEST(InMemorySessionStoreTest, TurnsAreNumberedInOrder) {
  FakeClock clock;
  InMemorySessionStore store(clock);
  auto s = store.Create("a");
  ASSERT_THAT(s, IsOk());
  TurnRecord t;
  t.question = "revenue last month";
  ASSERT_THAT(store.AppendTurn("a", s->id, t), IsOk());
  t.question = "and by vet?";
  ASSERT_THAT(store.AppendTurn("a", s->id, t), IsOk());
  auto got = store.Get("a", s->id);
  ASSERT_THAT(got, IsOk());
  ASSERT_EQ(got->turns.size(), 2u);
  EXPECT_EQ(got->turns[0].number, 1);
  EXPECT_EQ(got->turns[1].number, 2);
  EXPECT_EQ(got->turns[1].question, "and by vet?");
}

TEST(InMemorySessionStoreTest, ForeignEndedAndUnknownSessionsLookTheSame) {
  FakeClock clock;
  InMemorySessionStore store(clock);
  auto s = store.Create("a");
  ASSERT_THAT(s, IsOk());
  auto foreign = store.Get("b", s->id);
  auto unknown = store.Get("a", "nope");
  EXPECT_THAT(foreign, StatusIs(absl::StatusCode::kNotFound, HasSubstr("no active session")));
  EXPECT_THAT(unknown, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store.End("b", s->id), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(store.End("a", s->id), IsOk());
  EXPECT_THAT(store.Get("a", s->id), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store.AppendTurn("a", s->id, {}), StatusIs(absl::StatusCode::kNotFound));
}

TEST(InMemorySessionStoreTest, ListPagesMostRecentFirst) {
  FakeClock clock;
  InMemorySessionStore store(clock);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(store.Create("a")->id);
    clock.Advance(absl::Seconds(1));
  }
  store.Create("other").IgnoreError();
  auto page1 = store.List("a", 2, "");
  ASSERT_THAT(page1, IsOk());
  ASSERT_EQ(page1->sessions.size(), 2u);
  EXPECT_EQ(page1->sessions[0].id, ids[4]);
  EXPECT_EQ(page1->sessions[1].id, ids[3]);
  auto page3 = store.List("a", 2, "4");
  ASSERT_THAT(page3, IsOk());
  ASSERT_EQ(page3->sessions.size(), 1u);
  EXPECT_EQ(page3->sessions[0].id, ids[0]);
  EXPECT_TRUE(page3->next_page_token.empty());
  EXPECT_THAT(store.List("a", 2, "x"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store.List("a", 500, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
}

}  // namespace
}  // namespace vet::session
