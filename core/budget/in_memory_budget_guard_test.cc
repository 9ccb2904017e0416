#include "core/budget/in_memory_budget_guard.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/time/civil_time.h"
#include "core/common/testing/fake_clock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::budget {
namespace {

using ::testing::HasSubstr;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

Practice MakePractice(int64_t limit_micros) {
  Practice p;
  p.id = "clinic";
  p.api_key = "clinic-key";
  p.budget_limit_micros = limit_micros;
  return p;
}

class InMemoryBudgetGuardTest : public ::testing::Test {
 protected:
  FakeClock clock_{absl::FromCivil(absl::CivilSecond(2026, 11, 15, 12, 0, 0), absl::UTCTimeZone())};
};

TEST_F(InMemoryBudgetGuardTest, DeniesReservationThatWouldPassHardCap) {
  InMemoryBudgetGuard guard({}, clock_);
  Practice p = MakePractice(1'000'000);
  auto r1 = guard.Reserve(p, 600'000, "m");
  ASSERT_THAT(r1, IsOk());
  EXPECT_THAT(guard.Reserve(p, 500'000, "m"), StatusIs(absl::StatusCode::kResourceExhausted,
                                                       HasSubstr("resets at 2026-12-01 00:00")));
  ASSERT_THAT(guard.Commit(*r1, {"m", 10, 0, 20, 0, 700'000, "q1"}), IsOk());
  auto state = guard.GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->spent_micros, 700'000);
  EXPECT_EQ(state->reserved_micros, 0);
  EXPECT_EQ(state->remaining_micros, 300'000);
  EXPECT_FALSE(state->soft_cap_reached);
  EXPECT_EQ(state->spent_by_model_micros.at("m"), 700'000);
}

TEST_F(InMemoryBudgetGuardTest, FreeReservationIsGrantedEvenWhenExhausted) {
  InMemoryBudgetGuard guard({}, clock_);
  Practice p = MakePractice(100);
  auto r = guard.Reserve(p, 100, "m");
  ASSERT_THAT(r, IsOk());
  ASSERT_THAT(guard.Commit(*r, {"m", 0, 0, 0, 0, 100, "q"}), IsOk());
  EXPECT_THAT(guard.Reserve(p, 1, "m"), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(guard.Reserve(p, 0, "planner"), IsOk());
  auto state = guard.GetState(p);
  EXPECT_TRUE(state->soft_cap_reached);
  EXPECT_TRUE(state->hard_cap_reached);
}

TEST_F(InMemoryBudgetGuardTest, ReleaseReturnsTheHoldAndIsNotRepeatable) {
  InMemoryBudgetGuard guard({}, clock_);
  Practice p = MakePractice(1000);
  auto r = guard.Reserve(p, 1000, "m");
  ASSERT_THAT(r, IsOk());
  EXPECT_THAT(guard.Reserve(p, 1, "m"), StatusIs(absl::StatusCode::kResourceExhausted));
  ASSERT_THAT(guard.Release(*r), IsOk());
  EXPECT_THAT(guard.Release(*r), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(guard.Reserve(p, 1000, "m"), IsOk());
}

TEST_F(InMemoryBudgetGuardTest, NewPeriodStartsFromZero) {
  InMemoryBudgetGuard guard({}, clock_);
  Practice p = MakePractice(1000);
  auto r = guard.Reserve(p, 1000, "m");
  ASSERT_THAT(guard.Commit(*r, {"m", 0, 0, 0, 0, 1000, "q"}), IsOk());
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 12, 1, 0, 0, 1), absl::UTCTimeZone()));
  auto state = guard.GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->spent_micros, 0);
  EXPECT_EQ(state->period_start, absl::FromCivil(absl::CivilDay(2026, 12, 1), absl::UTCTimeZone()));
  EXPECT_THAT(guard.Reserve(p, 1000, "m"), IsOk());
}

TEST_F(InMemoryBudgetGuardTest, SpendCommittedAfterThePeriodTurnedIsKept) {
  InMemoryBudgetGuard guard({}, clock_);
  Practice p = MakePractice(1000);
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 11, 30, 23, 59, 0), absl::UTCTimeZone()));
  auto r = guard.Reserve(p, 500, "m");
  ASSERT_THAT(r, IsOk());
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 12, 1, 0, 1, 0), absl::UTCTimeZone()));
  ASSERT_THAT(guard.Commit(*r, {"m", 0, 0, 0, 0, 300, "q"}), IsOk());
  auto state = guard.GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->spent_micros, 300);
  EXPECT_EQ(state->reserved_micros, 0);
}

TEST_F(InMemoryBudgetGuardTest, ConcurrentReservationsNeverPassTheCap) {
  InMemoryBudgetGuard guard({}, clock_);
  Practice p = MakePractice(1'000'000);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (guard.Reserve(p, 10'000, "m").ok()) ++granted;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 100);
  EXPECT_EQ(guard.GetState(p)->reserved_micros, 1'000'000);
}

TEST(BudgetOptionsTest, RejectsCapsOutOfOrderAndUnknownPeriods) {
  BudgetOptions o;
  EXPECT_THAT(ValidateBudgetOptions(o), IsOk());
  o.soft_cap = 1.2;
  EXPECT_THAT(ValidateBudgetOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("BUDGET_SOFT_CAP")));
  o = {};
  o.period = "week";
  EXPECT_THAT(ValidateBudgetOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("BUDGET_PERIOD")));
}

TEST(PeriodTest, MonthAndDayFollowThePracticeTimeZone) {
  absl::TimeZone ny;
  ASSERT_TRUE(absl::LoadTimeZone("America/New_York", &ny));
  // 03:00 UTC on Dec 1 is still Nov 30 in New York.
  absl::Time t = absl::FromCivil(absl::CivilSecond(2026, 12, 1, 3, 0, 0), absl::UTCTimeZone());
  PeriodBounds month = PeriodAt(t, "month", ny);
  EXPECT_EQ(month.start, absl::FromCivil(absl::CivilDay(2026, 11, 1), ny));
  EXPECT_EQ(month.end, absl::FromCivil(absl::CivilDay(2026, 12, 1), ny));
  PeriodBounds day = PeriodAt(t, "day", ny);
  EXPECT_EQ(day.start, absl::FromCivil(absl::CivilDay(2026, 11, 30), ny));
}

TEST(PeriodTest, MonthEndsLeapYearsAndYearEnd) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  auto at = [&](int y, int m, int d, int hh) {
    return absl::FromCivil(absl::CivilSecond(y, m, d, hh, 0, 0), utc);
  };
  EXPECT_EQ(PeriodAt(at(2028, 2, 29, 23), "month", utc).end, at(2028, 3, 1, 0));
  EXPECT_EQ(PeriodAt(at(2027, 2, 28, 23), "month", utc).end, at(2027, 3, 1, 0));
  EXPECT_EQ(PeriodAt(at(2026, 12, 31, 23), "month", utc).end, at(2027, 1, 1, 0));
  EXPECT_EQ(PeriodAt(at(2026, 12, 31, 23), "day", utc).end, at(2027, 1, 1, 0));
  EXPECT_EQ(PeriodAt(at(2027, 1, 1, 0), "month", utc).start, at(2027, 1, 1, 0));
}

TEST(PeriodTest, DaysAcrossDaylightSavingChangesAreLocalDays) {
  absl::TimeZone london;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/London", &london));
  // 2026-03-29 has 23 hours in London, 2026-10-25 has 25.
  PeriodBounds spring =
      PeriodAt(absl::FromCivil(absl::CivilSecond(2026, 3, 29, 12, 0, 0), london), "day", london);
  EXPECT_EQ(spring.end - spring.start, absl::Hours(23));
  PeriodBounds autumn =
      PeriodAt(absl::FromCivil(absl::CivilSecond(2026, 10, 25, 12, 0, 0), london), "day", london);
  EXPECT_EQ(autumn.end - autumn.start, absl::Hours(25));
  // October's month is 31 days and one hour long.
  PeriodBounds october =
      PeriodAt(absl::FromCivil(absl::CivilSecond(2026, 10, 10, 0, 0, 0), london), "month", london);
  EXPECT_EQ(october.end - october.start, absl::Hours(31 * 24 + 1));
  EXPECT_EQ(absl::FormatTime("%Y-%m-%d %H:%M %Z", october.end, london), "2026-11-01 00:00 GMT");
}

TEST(BudgetRulesTest, CapsRoundDownAndNeverUseFloatingPointTotals) {
  EXPECT_EQ(CapMicros(10'000'000, 0.8), 8'000'000);
  EXPECT_EQ(CapMicros(1, 0.8), 0);
  EXPECT_EQ(CapMicros(333'333, 1.0), 333'333);
  Practice p = MakePractice(1'000'000);
  BudgetState s = ComputeBudgetState(p, {}, {}, 800'000, 150'000);
  EXPECT_TRUE(s.soft_cap_reached);
  EXPECT_FALSE(s.hard_cap_reached);
  EXPECT_EQ(s.remaining_micros, 50'000);
  s = ComputeBudgetState(p, {}, {}, 1'000'000, 10);
  EXPECT_TRUE(s.hard_cap_reached);
  EXPECT_EQ(s.remaining_micros, 0) << "never negative";
  EXPECT_EQ(FormatDollars(1'234'567), "$1.23");
}

TEST_F(InMemoryBudgetGuardTest, PracticeOverridesCapsAndPeriod) {
  BudgetOptions defaults;
  defaults.period = "month";
  InMemoryBudgetGuard guard(defaults, clock_);
  Practice p = MakePractice(1'000'000);
  p.budget_soft_cap = 0.5;
  p.budget_hard_cap = 1.5;
  p.budget_period = "day";
  auto state = guard.GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->period, "day");
  EXPECT_DOUBLE_EQ(state->soft_cap, 0.5);
  EXPECT_EQ(state->remaining_micros, 1'500'000) << "the hard cap may be above the limit";
  EXPECT_EQ(state->resets_at, absl::FromCivil(absl::CivilDay(2026, 11, 16), absl::UTCTimeZone()));
  auto r = guard.Reserve(p, 1'400'000, "m");
  ASSERT_THAT(r, IsOk());
  EXPECT_THAT(guard.Reserve(p, 200'000, "m"),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("daily budget")));
  ASSERT_THAT(guard.Commit(*r, {"m", 0, 0, 0, 0, 600'000, "q"}), IsOk());
  state = guard.GetState(p);
  EXPECT_TRUE(state->soft_cap_reached);
  // The next day starts from zero.
  clock_.Advance(absl::Hours(12));
  state = guard.GetState(p);
  EXPECT_EQ(state->spent_micros, 0);
}

}  // namespace
}  // namespace vet::budget
