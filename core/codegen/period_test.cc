// The period grammar as a table: phrase x as-of day -> inclusive days.
#include "core/codegen/period.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::codegen {
namespace {

using ::testing::HasSubstr;
using ::vet::testing::StatusIs;

absl::CivilDay Day(absl::string_view iso) {
  absl::optional<absl::CivilDay> d = ParseIsoDay(iso);
  EXPECT_TRUE(d.has_value()) << iso;
  return d.value_or(absl::CivilDay());
}

struct Case {
  const char* text;
  const char* as_of;
  const char* start;
  const char* end;
};

// 2026-10-26 is a Monday; 2026-10-25 a Sunday.
const Case kCases[] = {
    // The examples of DATA_SCHEMA.md.
    {"last month", "2026-10-26", "2026-09-01", "2026-09-30"},
    {"last quarter", "2026-10-26", "2026-07-01", "2026-09-30"},
    {"this year", "2026-10-26", "2026-01-01", "2026-10-26"},
    {"last year", "2026-10-26", "2025-01-01", "2025-12-31"},
    // Relative units.
    {"today", "2026-10-26", "2026-10-26", "2026-10-26"},
    {"yesterday", "2026-10-26", "2026-10-25", "2026-10-25"},
    {"this month", "2026-10-26", "2026-10-01", "2026-10-26"},
    {"current month", "2026-10-26", "2026-10-01", "2026-10-26"},
    {"this quarter", "2026-10-26", "2026-10-01", "2026-10-26"},
    {"previous month", "2026-10-26", "2026-09-01", "2026-09-30"},
    {"prior year", "2026-10-26", "2025-01-01", "2025-12-31"},
    // Weeks run Monday to Sunday.
    {"this week", "2026-10-26", "2026-10-26", "2026-10-26"},
    {"last week", "2026-10-26", "2026-10-19", "2026-10-25"},
    {"this week", "2026-10-25", "2026-10-19", "2026-10-25"},
    {"last week", "2026-10-25", "2026-10-12", "2026-10-18"},
    {"last week", "2026-01-05", "2025-12-29", "2026-01-04"},
    // To date.
    {"year to date", "2026-10-26", "2026-01-01", "2026-10-26"},
    {"ytd", "2026-10-26", "2026-01-01", "2026-10-26"},
    {"year-to-date", "2026-10-26", "2026-01-01", "2026-10-26"},
    {"month to date", "2026-10-26", "2026-10-01", "2026-10-26"},
    {"QTD", "2026-08-15", "2026-07-01", "2026-08-15"},
    // Rolling windows end on the as-of day.
    {"last 30 days", "2026-10-26", "2026-09-27", "2026-10-26"},
    {"the last 7 days", "2026-10-26", "2026-10-20", "2026-10-26"},
    {"past 2 weeks", "2026-10-26", "2026-10-13", "2026-10-26"},
    {"last 3 months", "2026-10-26", "2026-07-27", "2026-10-26"},
    {"last three months", "2026-10-26", "2026-07-27", "2026-10-26"},
    {"last 12 months", "2026-10-26", "2025-10-27", "2026-10-26"},
    {"last 2 quarters", "2026-10-26", "2026-04-27", "2026-10-26"},
    {"last 2 years", "2026-10-26", "2024-10-27", "2026-10-26"},
    {"past week", "2026-10-26", "2026-10-20", "2026-10-26"},
    {"past year", "2026-10-26", "2025-10-27", "2026-10-26"},
    {"last 3 months", "2026-05-31", "2026-03-01", "2026-05-31"},
    // Named periods; a month or quarter without a year is the most recent one.
    {"in 2025", "2026-10-26", "2025-01-01", "2025-12-31"},
    {"2026", "2026-10-26", "2026-01-01", "2026-10-26"},
    {"in March", "2026-10-26", "2026-03-01", "2026-03-31"},
    {"in November", "2026-10-26", "2025-11-01", "2025-11-30"},
    {"October", "2026-10-26", "2026-10-01", "2026-10-26"},
    {"March 2025", "2026-10-26", "2025-03-01", "2025-03-31"},
    {"march of 2025", "2026-10-26", "2025-03-01", "2025-03-31"},
    {"Sept 2025", "2026-10-26", "2025-09-01", "2025-09-30"},
    {"Q3 2025", "2026-10-26", "2025-07-01", "2025-09-30"},
    {"2025 Q2", "2026-10-26", "2025-04-01", "2025-06-30"},
    {"q4", "2026-10-26", "2026-10-01", "2026-10-26"},
    {"q1", "2026-10-26", "2026-01-01", "2026-03-31"},
    {"q4", "2026-08-01", "2025-10-01", "2025-12-31"},
    {"third quarter of 2025", "2026-10-26", "2025-07-01", "2025-09-30"},
    {"on 2025-03-04", "2026-10-26", "2025-03-04", "2025-03-04"},
    // Ranges.
    {"since 2025-01-01", "2026-10-26", "2025-01-01", "2026-10-26"},
    {"since March", "2026-10-26", "2026-03-01", "2026-10-26"},
    {"since 2025", "2026-10-26", "2025-01-01", "2026-10-26"},
    {"from 2025-01-01 to 2025-03-31", "2026-10-26", "2025-01-01", "2025-03-31"},
    {"between 2025-02-01 and 2025-02-28", "2026-10-26", "2025-02-01", "2025-02-28"},
    {"from March to June", "2026-10-26", "2026-03-01", "2026-06-30"},
    {"from November to February", "2026-10-26", "2025-11-01", "2026-02-28"},
    {"from 2026-10-01 to 2026-12-31", "2026-10-26", "2026-10-01", "2026-10-26"},
    {"from 2025-06-01 to today", "2026-10-26", "2025-06-01", "2026-10-26"},
    {"from Q1 2025 through Q2 2025", "2026-10-26", "2025-01-01", "2025-06-30"},
    // Leap years.
    {"last month", "2024-03-15", "2024-02-01", "2024-02-29"},
    {"last month", "2023-03-15", "2023-02-01", "2023-02-28"},
    {"February 2024", "2026-10-26", "2024-02-01", "2024-02-29"},
    {"last 12 months", "2024-02-29", "2023-03-01", "2024-02-29"},
    {"last 1 month", "2024-03-31", "2024-03-01", "2024-03-31"},
    {"2024-02-29", "2026-10-26", "2024-02-29", "2024-02-29"},
    {"last year", "2025-02-28", "2024-01-01", "2024-12-31"},
    // Quarter boundaries.
    {"last quarter", "2026-01-01", "2025-10-01", "2025-12-31"},
    {"this quarter", "2026-01-01", "2026-01-01", "2026-01-01"},
    {"this quarter", "2026-03-31", "2026-01-01", "2026-03-31"},
    {"last quarter", "2026-03-31", "2025-10-01", "2025-12-31"},
    {"last quarter", "2026-04-01", "2026-01-01", "2026-03-31"},
    {"last quarter", "2026-12-31", "2026-07-01", "2026-09-30"},
    {"last year", "2026-01-01", "2025-01-01", "2025-12-31"},
};

TEST(PeriodTest, GrammarTable) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(absl::StrCat("\"", c.text, "\" as of ", c.as_of));
    absl::StatusOr<Period> p = ParsePeriod(c.text, Day(c.as_of));
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(FormatDay(p->start), c.start);
    EXPECT_EQ(FormatDay(p->end), c.end);
  }
}

TEST(PeriodTest, PhrasesReadAfterANoun) {
  const absl::CivilDay as_of(2026, 10, 26);
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"last quarter", "last quarter (2026-07-01 to 2026-09-30)"},
      {"this year", "this year (2026-01-01 to 2026-10-26)"},
      {"ytd", "year to date (2026-01-01 to 2026-10-26)"},
      {"in March", "in March 2026 (2026-03-01 to 2026-03-31)"},
      {"Q3 2025", "in Q3 2025 (2025-07-01 to 2025-09-30)"},
      {"2025", "in 2025 (2025-01-01 to 2025-12-31)"},
      {"last 30 days", "in the last 30 days (2026-09-27 to 2026-10-26)"},
      {"yesterday", "yesterday (2026-10-25)"},
      {"2025-03-04", "on 2025-03-04"},
      {"from 2025-01-01 to 2025-03-31", "from 2025-01-01 to 2025-03-31"},
      {"since March", "since March 2026 (2026-03-01 to 2026-10-26)"},
  };
  for (const auto& [text, described] : cases) {
    absl::StatusOr<Period> p = ParsePeriod(text, as_of);
    ASSERT_TRUE(p.ok()) << text << ": " << p.status();
    EXPECT_EQ(p->Describe(), described);
  }
}

TEST(PeriodTest, RejectsPeriodsAfterTheAsOfDay) {
  const absl::CivilDay as_of(2026, 10, 26);
  EXPECT_THAT(ParsePeriod("2027", as_of),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("after the as-of date")));
  EXPECT_THAT(ParsePeriod("December 2026", as_of),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("December 2026")));
  EXPECT_THAT(ParsePeriod("2026-10-27", as_of),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("after the as-of date")));
  EXPECT_THAT(ParsePeriod("since 2026-11-01", as_of), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PeriodTest, UpcomingStartsTheDayAfterTheAsOfDay) {
  const Period p = Upcoming(absl::CivilDay(2026, 10, 26));
  EXPECT_EQ(FormatDay(p.start), "2026-10-27");
  EXPECT_EQ(FormatDay(p.end), "2126-10-27");
  EXPECT_EQ(p.form, PeriodForm::kUpcoming);
  EXPECT_EQ(p.Describe(), "from 2026-10-27 on");
  EXPECT_EQ(PeriodFormFromName(PeriodFormName(p.form)), PeriodForm::kUpcoming);
}

TEST(PeriodTest, RejectsImpossibleDatesAndRanges) {
  const absl::CivilDay as_of(2026, 10, 26);
  EXPECT_THAT(ParsePeriod("2025-02-30", as_of),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a date")));
  EXPECT_THAT(ParsePeriod("2025-02-29", as_of), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParsePeriod("from 2025-03-01 to 2025-01-01", as_of),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ends before it starts")));
  EXPECT_THAT(ParsePeriod("last 0 days", as_of), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PeriodTest, RejectsWhatIsNotAPeriod) {
  const absl::CivilDay as_of(2026, 10, 26);
  for (const char* text : {"next month", "last", "revenue", "last months", "this 3 months",
                           "last quarter please", ""}) {
    EXPECT_THAT(ParsePeriod(text, as_of), StatusIs(absl::StatusCode::kInvalidArgument)) << text;
  }
}

TEST(PeriodTest, MatchPeriodReportsWordsUsed) {
  const std::vector<std::string> words = {"revenue", "last", "3", "months", "by", "vet"};
  absl::StatusOr<absl::optional<PeriodMatch>> m =
      MatchPeriod(words, 1, absl::CivilDay(2026, 10, 26));
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->has_value());
  EXPECT_EQ((*m)->consumed, 3u);
  absl::StatusOr<absl::optional<PeriodMatch>> none =
      MatchPeriod(words, 0, absl::CivilDay(2026, 10, 26));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

Period Parsed(const char* text, const char* as_of) {
  absl::StatusOr<Period> p = ParsePeriod(text, Day(as_of));
  EXPECT_TRUE(p.ok()) << p.status();
  return p.value_or(Period());
}

TEST(PeriodTest, PreviousPeriodFollowsTheCalendarUnit) {
  struct {
    const char* text;
    const char* as_of;
    const char* start;
    const char* end;
  } cases[] = {
      {"last quarter", "2026-10-26", "2026-04-01", "2026-06-30"},
      {"last month", "2026-10-26", "2026-08-01", "2026-08-31"},
      {"this month", "2026-10-26", "2026-09-01", "2026-09-26"},
      {"this year", "2026-10-26", "2025-01-01", "2025-10-26"},
      {"last week", "2026-10-26", "2026-10-12", "2026-10-18"},
      {"last 30 days", "2026-10-26", "2026-08-28", "2026-09-26"},
      {"last month", "2024-04-10", "2024-02-01", "2024-02-29"},
      {"yesterday", "2026-10-26", "2026-10-24", "2026-10-24"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const Period prev = PreviousPeriod(Parsed(c.text, c.as_of));
    EXPECT_EQ(FormatDay(prev.start), c.start);
    EXPECT_EQ(FormatDay(prev.end), c.end);
  }
}

TEST(PeriodTest, SamePeriodLastYearKeepsMonthEnds) {
  struct {
    const char* text;
    const char* as_of;
    const char* start;
    const char* end;
  } cases[] = {
      {"this year", "2026-10-26", "2025-01-01", "2025-10-26"},
      {"last quarter", "2026-10-26", "2025-07-01", "2025-09-30"},
      {"February 2024", "2026-10-26", "2023-02-01", "2023-02-28"},
      {"February 2025", "2026-10-26", "2024-02-01", "2024-02-29"},
      {"2024-02-29", "2026-10-26", "2023-02-28", "2023-02-28"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const Period prev = SamePeriodLastYear(Parsed(c.text, c.as_of));
    EXPECT_EQ(FormatDay(prev.start), c.start);
    EXPECT_EQ(FormatDay(prev.end), c.end);
  }
}

TEST(PeriodTest, Defaults) {
  const absl::CivilDay as_of(2026, 10, 26);
  EXPECT_EQ(ThisYear(as_of).Describe(), "this year (2026-01-01 to 2026-10-26)");
  EXPECT_EQ(LastTwelveMonths(as_of).Describe(), "in the last 12 months (2025-11-01 to 2026-10-26)");
  EXPECT_EQ(FormatDay(LastTwelveWeeks(as_of).start), "2026-08-10");
  EXPECT_EQ(FormatDay(LastThirtyDays(as_of).start), "2026-09-27");
  EXPECT_EQ(FormatDay(LastFiveYears(as_of).start), "2022-01-01");
}

TEST(PeriodTest, CalendarHelpers) {
  EXPECT_EQ(AddMonths(absl::CivilDay(2026, 3, 31), -1), absl::CivilDay(2026, 2, 28));
  EXPECT_EQ(AddMonths(absl::CivilDay(2024, 3, 31), -1), absl::CivilDay(2024, 2, 29));
  EXPECT_EQ(AddMonths(absl::CivilDay(2026, 1, 15), -13), absl::CivilDay(2024, 12, 15));
  EXPECT_EQ(LastDayOfMonth(absl::CivilDay(2024, 2, 3)), absl::CivilDay(2024, 2, 29));
  EXPECT_EQ(StartOfWeek(absl::CivilDay(2026, 10, 25)), absl::CivilDay(2026, 10, 19));
  EXPECT_EQ(StartOfWeek(absl::CivilDay(2026, 10, 26)), absl::CivilDay(2026, 10, 26));
  EXPECT_EQ(StartOfQuarter(absl::CivilDay(2026, 9, 30)), absl::CivilDay(2026, 7, 1));
  EXPECT_FALSE(ParseIsoDay("2026-13-01").has_value());
  EXPECT_FALSE(ParseIsoDay("2026-1-01").has_value());
  EXPECT_TRUE(ParseIsoDay("2024-02-29").has_value());
}

TEST(PeriodTest, GrainAndFormNamesRoundTrip) {
  for (PeriodGrain g : {PeriodGrain::kDay, PeriodGrain::kWeek, PeriodGrain::kMonth,
                        PeriodGrain::kQuarter, PeriodGrain::kYear, PeriodGrain::kCustom}) {
    EXPECT_EQ(PeriodGrainFromName(PeriodGrainName(g)), g);
  }
  for (PeriodForm f : {PeriodForm::kCurrent, PeriodForm::kPrevious, PeriodForm::kRolling,
                       PeriodForm::kNamed, PeriodForm::kRange}) {
    EXPECT_EQ(PeriodFormFromName(PeriodFormName(f)), f);
  }
}

}  // namespace
}  // namespace vet::codegen
