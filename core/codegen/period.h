// The period grammar of the planner: phrases such as "last quarter", "year to
// date", "in March", "Q3 2025", "the last 30 days" or "from 2025-01-01 to
// 2025-03-31", resolved against the as-of day into inclusive calendar days.
//
// Rules (DATA_SCHEMA.md, "Definitions"):
//   - Weeks run Monday to Sunday; quarters are calendar quarters.
//   - "this week|month|quarter|year" runs from the start of that unit to the
//     as-of day; "last|previous|prior week|month|quarter|year" is the whole
//     unit before it; "year|month|quarter to date" (ytd, mtd, qtd) likewise.
//   - "last|past N days|weeks|months|quarters|years" is rolling and ends on the
//     as-of day ("last 3 months" on 2026-10-26 is 2026-07-27..2026-10-26);
//     "past week|month|quarter|year" without N is the rolling unit too.
//   - A month or quarter without a year ("in March", "q3") is the most recent
//     one that starts on or before the as-of day.
//   - A period that starts after the as-of day is an error; one that ends
//     after it is cut at the as-of day (there is no data yet beyond it).
#ifndef VET_CORE_CODEGEN_PERIOD_H_
#define VET_CORE_CODEGEN_PERIOD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/types/optional.h"

namespace vet::codegen {

// The calendar unit a period is aligned to; kCustom for rolling windows and
// explicit ranges. Decides what "the previous period" is.
enum class PeriodGrain { kDay, kWeek, kMonth, kQuarter, kYear, kCustom };

// How the phrase named the period; decides how a comparison reads it
// ("compared to last year" is the same period a year earlier).
enum class PeriodForm {
  kCurrent,   // today, this week, year to date
  kPrevious,  // yesterday, last week, last month, last year
  kRolling,   // the last 30 days, the past year
  kNamed,     // 2025, March 2026, Q3 2025, 2025-03-04
  kRange,     // from .. to .., since ..
  kUpcoming,  // upcoming, future: the days after the as-of day
  kAllTime,   // ever, of all time: every day the data has, to the as-of day
};

struct Period {
  absl::CivilDay start;
  // Inclusive.
  absl::CivilDay end;
  PeriodGrain grain = PeriodGrain::kCustom;
  PeriodForm form = PeriodForm::kRange;
  // Reads after a noun: "last quarter", "in March 2026", "year to date",
  // "in the last 30 days", "since 2025-01-01", "from 2025-01-01 to 2025-03-31".
  std::string phrase;

  int64_t days() const { return end - start + 1; }
  // The phrase with its dates: "last quarter (2026-07-01 to 2026-09-30)";
  // just the phrase when it already is the dates ("from .. to ..", "on ..").
  std::string Describe() const;
};

bool operator==(const Period& a, const Period& b);

struct PeriodMatch {
  Period period;
  // Words of the question the period phrase used.
  size_t consumed = 0;
};

// Tries the grammar at words[pos] (words as Tokenize() gives them).
// Returns nullopt when no period phrase starts there, and kInvalidArgument when
// one does but cannot be used: a date that does not exist, a period that starts
// after `as_of`, a range that ends before it starts.
absl::StatusOr<absl::optional<PeriodMatch>> MatchPeriod(const std::vector<std::string>& words,
                                                        size_t pos, absl::CivilDay as_of);

// The whole of `text` as one period ("last quarter", "Q3 2025"). Returns
// kInvalidArgument when it is not exactly one period phrase.
absl::StatusOr<Period> ParsePeriod(absl::string_view text, absl::CivilDay as_of);

// "Ever", "of all time", "all time": AllTime(as_of), matched by MatchPeriod.
// Its start is a placeholder far before any data (1900-01-01): the program
// narrows it to the first day the data has, and says so.
Period AllTime(absl::CivilDay as_of);

// Defaults when a question names no period.
// The year so far: "this year".
Period ThisYear(absl::CivilDay as_of);
// The 12 calendar months up to and including as_of's month (the current one
// cut at as_of): "in the last 12 months". Aligned to month starts so that a
// monthly chart has no partial first month.
Period LastTwelveMonths(absl::CivilDay as_of);
// The 12 weeks up to and including as_of's week (Monday-aligned).
Period LastTwelveWeeks(absl::CivilDay as_of);
// The 30 days ending on as_of.
Period LastThirtyDays(absl::CivilDay as_of);
// The four calendar years before as_of's year and this year so far.
Period LastFiveYears(absl::CivilDay as_of);
// The days after the as-of day, for what is booked ahead ("upcoming
// appointments"): from the next day, 100 years on (an open end that pandas
// timestamps, good to 2262, can still hold).
Period Upcoming(absl::CivilDay as_of);

// The same days one year earlier ("the same period last year"); a period
// ending on the last day of a month ends on the last day of that month a year
// earlier (2024-02-29 -> 2023-02-28, 2025-02-28 -> 2024-02-29).
Period SamePeriodLastYear(const Period& p);
// The period just before: the previous unit for calendar-aligned periods
// ("last quarter" 2026-07-01..09-30 -> 2026-04-01..06-30; "this month" so far
// 2026-10-01..10-26 -> 2026-09-01..09-26), otherwise the same number of days
// immediately before.
Period PreviousPeriod(const Period& p);

// The period a rate of return looks back to (client retention): for a
// calendar period the whole unit before it ("this year" so far ->
// last year, whole; "Q1 2026" -> Q4 2025), otherwise the same number of days
// just before. Its phrase is its dates: "from 2025-01-01 to 2025-12-31".
Period UnitBefore(const Period& p);

// "2026-07-01".
std::string FormatDay(absl::CivilDay day);
// `day` moved by `months`, the day of month clamped to the target month's
// length (2026-03-31 - 1 month = 2026-02-28).
absl::CivilDay AddMonths(absl::CivilDay day, int months);
absl::CivilDay LastDayOfMonth(absl::CivilDay day);
absl::CivilDay StartOfWeek(absl::CivilDay day);  // the Monday
absl::CivilDay StartOfQuarter(absl::CivilDay day);

// Serialisation for plans: "quarter", "previous" and back.
absl::string_view PeriodGrainName(PeriodGrain grain);
absl::optional<PeriodGrain> PeriodGrainFromName(absl::string_view name);
absl::string_view PeriodFormName(PeriodForm form);
absl::optional<PeriodForm> PeriodFormFromName(absl::string_view name);
// "2026-07-01" -> the day; nullopt unless a real date in that exact form.
absl::optional<absl::CivilDay> ParseIsoDay(absl::string_view text);

}  // namespace vet::codegen

#endif  // VET_CORE_CODEGEN_PERIOD_H_
