// The period grammar. Recursive descent over the question's words: a period is
// a relative phrase (this/last/past [N] unit, ytd, today), a named point (an
// ISO day, a month, a quarter, a year), "since" a point, or "from|between" a
// point "to|and" a point.
#include "core/codegen/period.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/codegen/tokenizer.h"

namespace vet::codegen {
namespace {

constexpr const char* kMonthNames[] = {"January",   "February", "March",    "April",
                                       "May",       "June",     "July",     "August",
                                       "September", "October",  "November", "December"};

// Counts beyond this are typing errors, not periods (10,000 days is 27 years).
constexpr int kMaxCount = 10000;

absl::optional<int> MonthNumber(absl::string_view w) {
  static const std::pair<const char*, int> kMonths[] = {
      {"january", 1},   {"jan", 1},   {"february", 2},  {"feb", 2},      {"march", 3},
      {"mar", 3},       {"april", 4}, {"apr", 4},       {"may", 5},      {"june", 6},
      {"jun", 6},       {"july", 7},  {"jul", 7},       {"august", 8},   {"aug", 8},
      {"september", 9}, {"sep", 9},   {"sept", 9},      {"october", 10}, {"oct", 10},
      {"november", 11}, {"nov", 11},  {"december", 12}, {"dec", 12}};
  for (const auto& [name, number] : kMonths) {
    if (w == name) return number;
  }
  return absl::nullopt;
}

absl::optional<int> Count(absl::string_view w) {
  if (w.empty() || w.size() > 5) return absl::nullopt;
  for (char c : w) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return absl::nullopt;
  }
  int n = 0;
  if (!absl::SimpleAtoi(w, &n)) return absl::nullopt;
  return n;
}

absl::optional<int> Year(absl::string_view w) {
  if (w.size() != 4) return absl::nullopt;
  absl::optional<int> n = Count(w);
  if (!n || *n < 1900 || *n > 2199) return absl::nullopt;
  return n;
}

// "q3" -> 3.
absl::optional<int> QuarterWord(absl::string_view w) {
  if (w.size() == 2 && w[0] == 'q' && w[1] >= '1' && w[1] <= '4') return w[1] - '0';
  return absl::nullopt;
}

// "third" / "3rd" (as in "third quarter") -> 3.
absl::optional<int> OrdinalWord(absl::string_view w) {
  static const std::pair<const char*, int> kOrdinals[] = {
      {"first", 1}, {"1st", 1}, {"second", 2}, {"2nd", 2},
      {"third", 3}, {"3rd", 3}, {"fourth", 4}, {"4th", 4}};
  for (const auto& [name, number] : kOrdinals) {
    if (w == name) return number;
  }
  return absl::nullopt;
}

struct Unit {
  PeriodGrain grain;
  bool plural;
};

absl::optional<Unit> UnitWord(absl::string_view w) {
  static const std::pair<const char*, Unit> kUnits[] = {
      {"day", {PeriodGrain::kDay, false}},         {"days", {PeriodGrain::kDay, true}},
      {"week", {PeriodGrain::kWeek, false}},       {"weeks", {PeriodGrain::kWeek, true}},
      {"month", {PeriodGrain::kMonth, false}},     {"months", {PeriodGrain::kMonth, true}},
      {"quarter", {PeriodGrain::kQuarter, false}}, {"quarters", {PeriodGrain::kQuarter, true}},
      {"year", {PeriodGrain::kYear, false}},       {"years", {PeriodGrain::kYear, true}}};
  for (const auto& [name, unit] : kUnits) {
    if (w == name) return unit;
  }
  return absl::nullopt;
}

const char* UnitName(PeriodGrain grain) {
  switch (grain) {
    case PeriodGrain::kDay:
      return "day";
    case PeriodGrain::kWeek:
      return "week";
    case PeriodGrain::kMonth:
      return "month";
    case PeriodGrain::kQuarter:
      return "quarter";
    case PeriodGrain::kYear:
      return "year";
    case PeriodGrain::kCustom:
      break;
  }
  return "period";
}

absl::CivilDay StartOfYear(absl::CivilDay day) { return absl::CivilDay(day.year(), 1, 1); }
absl::CivilDay StartOfMonth(absl::CivilDay day) {
  return absl::CivilDay(day.year(), day.month(), 1);
}

// The calendar unit containing `day`, whole.
std::pair<absl::CivilDay, absl::CivilDay> UnitContaining(absl::CivilDay day, PeriodGrain grain) {
  switch (grain) {
    case PeriodGrain::kDay:
      return {day, day};
    case PeriodGrain::kWeek:
      return {StartOfWeek(day), StartOfWeek(day) + 6};
    case PeriodGrain::kMonth:
      return {StartOfMonth(day), LastDayOfMonth(day)};
    case PeriodGrain::kQuarter: {
      const absl::CivilDay start = StartOfQuarter(day);
      return {start, LastDayOfMonth(AddMonths(start, 2))};
    }
    case PeriodGrain::kYear:
    case PeriodGrain::kCustom:
      break;
  }
  return {StartOfYear(day), absl::CivilDay(day.year(), 12, 31)};
}

absl::Status AfterAsOf(absl::string_view what, absl::CivilDay as_of) {
  return absl::InvalidArgumentError(absl::StrCat(
      what, " is after the as-of date ", FormatDay(as_of), "; there is no data for it yet"));
}

// A named stretch of the calendar: a day, month, quarter or year.
struct Point {
  absl::CivilDay start;
  absl::CivilDay end;
  PeriodGrain grain = PeriodGrain::kDay;
  std::string name;  // "2025-03-04", "March 2026", "Q3 2025", "2025"
  size_t consumed = 0;
};

using PointResult = absl::StatusOr<absl::optional<Point>>;

PointResult Checked(Point p, absl::CivilDay as_of) {
  if (p.start > as_of) return AfterAsOf(p.name, as_of);
  return absl::optional<Point>(std::move(p));
}

// The most recent year in which month `month` starts on or before as_of.
int RecentYearForMonth(int month, absl::CivilDay as_of) {
  return absl::CivilDay(as_of.year(), month, 1) <= as_of ? static_cast<int>(as_of.year())
                                                         : static_cast<int>(as_of.year()) - 1;
}

PointResult QuarterPoint(int quarter, absl::optional<int> year, size_t consumed,
                         absl::CivilDay as_of) {
  const int first_month = 3 * (quarter - 1) + 1;
  const int y = year ? *year : RecentYearForMonth(first_month, as_of);
  const absl::CivilDay start(y, first_month, 1);
  return Checked({start, LastDayOfMonth(AddMonths(start, 2)), PeriodGrain::kQuarter,
                  absl::StrCat("Q", quarter, " ", y), consumed},
                 as_of);
}

PointResult MatchPoint(const std::vector<std::string>& w, size_t pos, absl::CivilDay as_of) {
  if (pos >= w.size()) return absl::optional<Point>();
  auto at = [&](size_t i) -> absl::string_view {
    return i < w.size() ? absl::string_view(w[i]) : absl::string_view();
  };
  // 2025-03-04
  if (w[pos].size() == 10 && w[pos][4] == '-') {
    absl::optional<absl::CivilDay> day = ParseIsoDay(w[pos]);
    if (!day) {
      return absl::InvalidArgumentError(absl::StrCat("\"", w[pos], "\" is not a date that exists"));
    }
    return Checked({*day, *day, PeriodGrain::kDay, FormatDay(*day), 1}, as_of);
  }
  // q3 [of] [2025]
  if (absl::optional<int> q = QuarterWord(w[pos])) {
    size_t i = pos + 1;
    if (at(i) == "of" && Year(at(i + 1))) ++i;
    if (absl::optional<int> y = Year(at(i))) return QuarterPoint(*q, y, i + 1 - pos, as_of);
    return QuarterPoint(*q, absl::nullopt, 1, as_of);
  }
  // third quarter [of] [2025]
  if (absl::optional<int> q = OrdinalWord(w[pos]); q && at(pos + 1) == "quarter") {
    size_t i = pos + 2;
    if (at(i) == "of" && Year(at(i + 1))) ++i;
    if (absl::optional<int> y = Year(at(i))) return QuarterPoint(*q, y, i + 1 - pos, as_of);
    return QuarterPoint(*q, absl::nullopt, 2, as_of);
  }
  // march [of] [2025]
  if (absl::optional<int> m = MonthNumber(w[pos])) {
    size_t i = pos + 1;
    if (at(i) == "of" && Year(at(i + 1))) ++i;
    absl::optional<int> y = Year(at(i));
    const size_t consumed = y ? i + 1 - pos : 1;
    const int year = y ? *y : RecentYearForMonth(*m, as_of);
    const absl::CivilDay start(year, *m, 1);
    return Checked({start, LastDayOfMonth(start), PeriodGrain::kMonth,
                    absl::StrCat(kMonthNames[*m - 1], " ", year), consumed},
                   as_of);
  }
  if (absl::optional<int> y = Year(w[pos])) {
    // 2025 q3
    if (absl::optional<int> q = QuarterWord(at(pos + 1))) return QuarterPoint(*q, y, 2, as_of);
    return Checked({absl::CivilDay(*y, 1, 1), absl::CivilDay(*y, 12, 31), PeriodGrain::kYear,
                    absl::StrCat(*y), 1},
                   as_of);
  }
  return absl::optional<Point>();
}

using MatchResult = absl::StatusOr<absl::optional<PeriodMatch>>;

MatchResult Found(absl::CivilDay start, absl::CivilDay end, PeriodGrain grain, PeriodForm form,
                  std::string phrase, size_t consumed, absl::CivilDay as_of) {
  Period p;
  p.start = start;
  p.end = std::min(end, as_of);
  p.grain = grain;
  p.form = form;
  p.phrase = std::move(phrase);
  return absl::optional<PeriodMatch>(PeriodMatch{std::move(p), consumed});
}

// "in 2025", "on 2025-03-04".
std::string PointPhrase(const Point& p) {
  return absl::StrCat(p.grain == PeriodGrain::kDay ? "on " : "in ", p.name);
}

// The rolling window of `n` units ending on as_of.
absl::CivilDay RollingStart(int n, PeriodGrain grain, absl::CivilDay as_of) {
  switch (grain) {
    case PeriodGrain::kDay:
      return as_of - (n - 1);
    case PeriodGrain::kWeek:
      return as_of - (7 * n - 1);
    case PeriodGrain::kMonth:
      return AddMonths(as_of, -n) + 1;
    case PeriodGrain::kQuarter:
      return AddMonths(as_of, -3 * n) + 1;
    case PeriodGrain::kYear:
    case PeriodGrain::kCustom:
      break;
  }
  return AddMonths(as_of, -12 * n) + 1;
}

bool IsOneOf(absl::string_view w, std::initializer_list<absl::string_view> options) {
  return std::find(options.begin(), options.end(), w) != options.end();
}

// this|current|last|previous|prior|preceding|past [N] unit
MatchResult MatchRelative(const std::vector<std::string>& w, size_t pos, absl::CivilDay as_of) {
  const absl::string_view head = w[pos];
  const bool current = IsOneOf(head, {"this", "current"});
  const bool previous = IsOneOf(head, {"last", "previous", "prior", "preceding"});
  const bool past = head == "past";
  if (!current && !previous && !past) return absl::optional<PeriodMatch>();
  size_t i = pos + 1;
  absl::optional<int> n;
  if (!current && i < w.size()) {
    n = Count(w[i]);
    if (n) ++i;
  }
  if (i >= w.size()) return absl::optional<PeriodMatch>();
  absl::optional<Unit> unit = UnitWord(w[i]);
  if (!unit) return absl::optional<PeriodMatch>();
  const size_t consumed = i + 1 - pos;
  const char* name = UnitName(unit->grain);
  if (n) {
    if (*n < 1 || *n > kMaxCount) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", head, " ", *n, " ", w[i], "\" is not a period the planner can use"));
    }
    return Found(RollingStart(*n, unit->grain, as_of), as_of, PeriodGrain::kCustom,
                 PeriodForm::kRolling,
                 absl::StrCat("in the ", head == "past" ? "past " : "last ", *n, " ", name,
                              *n == 1 ? "" : "s"),
                 consumed, as_of);
  }
  if (unit->plural) return absl::optional<PeriodMatch>();  // "last months"
  if (past) {
    return Found(RollingStart(1, unit->grain, as_of), as_of, PeriodGrain::kCustom,
                 PeriodForm::kRolling, absl::StrCat("in the past ", name), consumed, as_of);
  }
  if (current) {
    const auto [start, end] = UnitContaining(as_of, unit->grain);
    if (unit->grain == PeriodGrain::kDay) {
      return Found(start, end, PeriodGrain::kDay, PeriodForm::kCurrent, "today", consumed, as_of);
    }
    return Found(start, end, unit->grain, PeriodForm::kCurrent, absl::StrCat("this ", name),
                 consumed, as_of);
  }
  const absl::CivilDay this_start = UnitContaining(as_of, unit->grain).first;
  const auto [start, end] = UnitContaining(this_start - 1, unit->grain);
  if (unit->grain == PeriodGrain::kDay) {
    return Found(start, end, PeriodGrain::kDay, PeriodForm::kPrevious, "yesterday", consumed,
                 as_of);
  }
  return Found(start, end, unit->grain, PeriodForm::kPrevious, absl::StrCat("last ", name),
               consumed, as_of);
}

// year|month|quarter to date, ytd, mtd, qtd
MatchResult MatchToDate(const std::vector<std::string>& w, size_t pos, absl::CivilDay as_of) {
  absl::optional<PeriodGrain> grain;
  size_t consumed = 1;
  const absl::string_view head = w[pos];
  if (head == "ytd") grain = PeriodGrain::kYear;
  if (head == "qtd") grain = PeriodGrain::kQuarter;
  if (head == "mtd") grain = PeriodGrain::kMonth;
  // "year to date", and "this year to date" (which is not "this year" and
  // then a breakdown by date).
  const size_t unit = IsOneOf(head, {"this", "current"}) ? pos + 1 : pos;
  if (!grain && unit + 2 < w.size() && w[unit + 1] == "to" && w[unit + 2] == "date") {
    if (w[unit] == "year") grain = PeriodGrain::kYear;
    if (w[unit] == "quarter") grain = PeriodGrain::kQuarter;
    if (w[unit] == "month") grain = PeriodGrain::kMonth;
    consumed = unit - pos + 3;
  }
  if (!grain) return absl::optional<PeriodMatch>();
  return Found(UnitContaining(as_of, *grain).first, as_of, *grain, PeriodForm::kCurrent,
               absl::StrCat(UnitName(*grain), " to date"), consumed, as_of);
}

// since <point>; from|between <point> to|until|through|and <point|today>
MatchResult MatchRange(const std::vector<std::string>& w, size_t pos, absl::CivilDay as_of) {
  const absl::string_view head = w[pos];
  if (head == "since") {
    PointResult from = MatchPoint(w, pos + 1, as_of);
    if (!from.ok()) return from.status();
    if (!from->has_value()) return absl::optional<PeriodMatch>();
    const Point& p = **from;
    return Found(p.start, as_of, PeriodGrain::kCustom, PeriodForm::kRange,
                 absl::StrCat("since ", p.name), 1 + p.consumed, as_of);
  }
  if (head != "from" && head != "between") return absl::optional<PeriodMatch>();
  PointResult from = MatchPoint(w, pos + 1, as_of);
  if (!from.ok()) return from.status();
  if (!from->has_value()) return absl::optional<PeriodMatch>();
  size_t i = pos + 1 + (*from)->consumed;
  if (i >= w.size() || !IsOneOf(w[i], {"to", "until", "till", "through", "thru", "and"})) {
    return absl::optional<PeriodMatch>();
  }
  ++i;
  absl::CivilDay end;
  if (i < w.size() && IsOneOf(w[i], {"today", "now"})) {
    end = as_of;
    ++i;
  } else {
    PointResult to = MatchPoint(w, i, as_of);
    if (!to.ok()) {
      // An end after as_of is fine ("to 2026-12-31"): the period is cut there.
      to = MatchPoint(w, i, absl::CivilDay(2199, 12, 31));
    }
    if (!to.ok()) return to.status();
    if (!to->has_value()) return absl::optional<PeriodMatch>();
    end = (*to)->end;
    i += (*to)->consumed;
  }
  const absl::CivilDay start = (*from)->start;
  const absl::CivilDay cut_end = std::min(end, as_of);
  if (cut_end < start) {
    return absl::InvalidArgumentError(absl::StrCat("the range from ", FormatDay(start), " to ",
                                                   FormatDay(end), " ends before it starts"));
  }
  return Found(start, cut_end, PeriodGrain::kCustom, PeriodForm::kRange,
               absl::StrCat("from ", FormatDay(start), " to ", FormatDay(cut_end)), i - pos, as_of);
}

}  // namespace

std::string FormatDay(absl::CivilDay day) { return absl::FormatCivilTime(day); }

absl::CivilDay LastDayOfMonth(absl::CivilDay day) {
  return absl::CivilDay(absl::CivilMonth(day) + 1) - 1;
}

absl::CivilDay AddMonths(absl::CivilDay day, int months) {
  const absl::CivilMonth target = absl::CivilMonth(day) + months;
  const absl::CivilDay last = LastDayOfMonth(absl::CivilDay(target));
  return absl::CivilDay(target.year(), target.month(), std::min(day.day(), last.day()));
}

absl::CivilDay StartOfWeek(absl::CivilDay day) {
  // absl::Weekday counts from Monday = 0.
  return day - static_cast<int>(absl::GetWeekday(day));
}

absl::CivilDay StartOfQuarter(absl::CivilDay day) {
  return absl::CivilDay(day.year(), 3 * ((day.month() - 1) / 3) + 1, 1);
}

absl::optional<absl::CivilDay> ParseIsoDay(absl::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return absl::nullopt;
  int y = 0, m = 0, d = 0;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return absl::nullopt;
  }
  if (!absl::SimpleAtoi(text.substr(0, 4), &y) || !absl::SimpleAtoi(text.substr(5, 2), &m) ||
      !absl::SimpleAtoi(text.substr(8, 2), &d)) {
    return absl::nullopt;
  }
  const absl::CivilDay day(y, m, d);
  // CivilDay normalises (2025-02-30 -> 2025-03-02); a real date survives it.
  if (day.year() != y || day.month() != m || day.day() != d) return absl::nullopt;
  return day;
}

std::string Period::Describe() const {
  // The program replaces the placeholder start with the data's first day.
  if (form == PeriodForm::kAllTime) return absl::StrCat(phrase, " up to ", FormatDay(end));
  if (absl::StartsWith(phrase, "from ") || absl::StartsWith(phrase, "on ")) return phrase;
  if (start == end) return absl::StrCat(phrase, " (", FormatDay(start), ")");
  return absl::StrCat(phrase, " (", FormatDay(start), " to ", FormatDay(end), ")");
}

bool operator==(const Period& a, const Period& b) {
  return a.start == b.start && a.end == b.end && a.grain == b.grain && a.form == b.form &&
         a.phrase == b.phrase;
}

absl::StatusOr<absl::optional<PeriodMatch>> MatchPeriod(const std::vector<std::string>& words,
                                                        size_t pos, absl::CivilDay as_of) {
  if (pos >= words.size()) return absl::optional<PeriodMatch>();
  const absl::string_view head = words[pos];
  if (head == "today") {
    return Found(as_of, as_of, PeriodGrain::kDay, PeriodForm::kCurrent, "today", 1, as_of);
  }
  // "ever", "of all time", "all time" ("all-time" tokenizes the same).
  if (head == "ever") return absl::optional<PeriodMatch>(PeriodMatch{AllTime(as_of), 1});
  for (size_t n : {size_t{3}, size_t{2}}) {
    if (pos + n > words.size()) continue;
    const bool of = n == 3;
    if ((!of || words[pos] == "of") && words[pos + n - 2] == "all" &&
        words[pos + n - 1] == "time") {
      return absl::optional<PeriodMatch>(PeriodMatch{AllTime(as_of), n});
    }
  }
  if (head == "yesterday") {
    return Found(as_of - 1, as_of - 1, PeriodGrain::kDay, PeriodForm::kPrevious, "yesterday", 1,
                 as_of);
  }
  for (auto matcher : {&MatchRange, &MatchToDate, &MatchRelative}) {
    MatchResult m = matcher(words, pos, as_of);
    if (!m.ok() || m->has_value()) return m;
  }
  PointResult point = MatchPoint(words, pos, as_of);
  if (!point.ok()) return point.status();
  if (!point->has_value()) return absl::optional<PeriodMatch>();
  const Point& p = **point;
  return Found(p.start, p.end, p.grain, PeriodForm::kNamed, PointPhrase(p), p.consumed, as_of);
}

absl::StatusOr<Period> ParsePeriod(absl::string_view text, absl::CivilDay as_of) {
  const std::vector<std::string> words = WordTexts(Tokenize(text));
  // Leading "in", "on", "during", "for", "the" add nothing ("in the last 3
  // months").
  size_t pos = 0;
  while (pos < words.size() && IsOneOf(words[pos], {"in", "on", "during", "for", "the", "over"})) {
    ++pos;
  }
  absl::StatusOr<absl::optional<PeriodMatch>> m = MatchPeriod(words, pos, as_of);
  if (!m.ok()) return m.status();
  if (!m->has_value() || pos + (*m)->consumed != words.size()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not a period"));
  }
  return std::move((*m)->period);
}

Period ThisYear(absl::CivilDay as_of) {
  return {StartOfYear(as_of), as_of, PeriodGrain::kYear, PeriodForm::kCurrent, "this year"};
}

Period LastTwelveMonths(absl::CivilDay as_of) {
  return {AddMonths(StartOfMonth(as_of), -11), as_of, PeriodGrain::kCustom, PeriodForm::kRolling,
          "in the last 12 months"};
}

Period LastTwelveWeeks(absl::CivilDay as_of) {
  return {StartOfWeek(as_of) - int64_t{7} * 11, as_of, PeriodGrain::kCustom, PeriodForm::kRolling,
          "in the last 12 weeks"};
}

Period LastThirtyDays(absl::CivilDay as_of) {
  return {as_of - 29, as_of, PeriodGrain::kCustom, PeriodForm::kRolling, "in the last 30 days"};
}

Period LastFiveYears(absl::CivilDay as_of) {
  return {absl::CivilDay(as_of.year() - 4, 1, 1), as_of, PeriodGrain::kCustom, PeriodForm::kRolling,
          "in the last 5 years"};
}

Period AllTime(absl::CivilDay as_of) {
  return {absl::CivilDay(1900, 1, 1), as_of, PeriodGrain::kCustom, PeriodForm::kAllTime,
          "over all the data"};
}

Period Upcoming(absl::CivilDay as_of) {
  const absl::CivilDay start = as_of + 1;
  return {start, absl::CivilDay(start.year() + 100, start.month(), start.day()),
          PeriodGrain::kCustom, PeriodForm::kUpcoming,
          absl::StrCat("from ", FormatDay(start), " on")};
}

namespace {

// `day` moved by `months`; a month's last day stays a month's last day.
absl::CivilDay ShiftEnd(absl::CivilDay day, int months) {
  if (day == LastDayOfMonth(day)) return LastDayOfMonth(AddMonths(day, months));
  return AddMonths(day, months);
}

int MonthsIn(PeriodGrain grain) {
  switch (grain) {
    case PeriodGrain::kMonth:
      return 1;
    case PeriodGrain::kQuarter:
      return 3;
    case PeriodGrain::kYear:
      return 12;
    default:
      return 0;
  }
}

}  // namespace

Period SamePeriodLastYear(const Period& p) {
  Period q;
  q.start = AddMonths(p.start, -12);
  q.end = ShiftEnd(p.end, -12);
  q.grain = p.grain;
  q.form = PeriodForm::kRange;
  q.phrase = "in the same period last year";
  return q;
}

Period PreviousPeriod(const Period& p) {
  Period q;
  q.grain = p.grain;
  q.form = PeriodForm::kRange;
  q.phrase = "in the previous period";
  if (const int months = MonthsIn(p.grain); months > 0) {
    q.start = AddMonths(p.start, -months);
    q.end = ShiftEnd(p.end, -months);
  } else if (p.grain == PeriodGrain::kWeek) {
    q.start = p.start - 7;
    q.end = p.end - 7;
  } else {
    q.start = p.start - p.days();
    q.end = p.start - 1;
  }
  return q;
}

Period UnitBefore(const Period& p) {
  Period q = PreviousPeriod(p);
  const absl::CivilDay s = q.start;
  switch (p.grain) {
    case PeriodGrain::kYear:
      q.end = absl::CivilDay(s.year(), 12, 31);
      break;
    case PeriodGrain::kQuarter:
      q.end = LastDayOfMonth(AddMonths(StartOfQuarter(s), 2));
      break;
    case PeriodGrain::kMonth:
      q.end = LastDayOfMonth(s);
      break;
    case PeriodGrain::kWeek:
      q.end = StartOfWeek(s) + 6;
      break;
    case PeriodGrain::kDay:
    case PeriodGrain::kCustom:
      break;
  }
  q.phrase = absl::StrCat("from ", FormatDay(q.start), " to ", FormatDay(q.end));
  return q;
}

absl::string_view PeriodGrainName(PeriodGrain grain) {
  return grain == PeriodGrain::kCustom ? "custom" : UnitName(grain);
}

absl::optional<PeriodGrain> PeriodGrainFromName(absl::string_view name) {
  for (PeriodGrain g : {PeriodGrain::kDay, PeriodGrain::kWeek, PeriodGrain::kMonth,
                        PeriodGrain::kQuarter, PeriodGrain::kYear, PeriodGrain::kCustom}) {
    if (PeriodGrainName(g) == name) return g;
  }
  return absl::nullopt;
}

absl::string_view PeriodFormName(PeriodForm form) {
  switch (form) {
    case PeriodForm::kCurrent:
      return "current";
    case PeriodForm::kPrevious:
      return "previous";
    case PeriodForm::kRolling:
      return "rolling";
    case PeriodForm::kNamed:
      return "named";
    case PeriodForm::kUpcoming:
      return "upcoming";
    case PeriodForm::kAllTime:
      return "all_time";
    case PeriodForm::kRange:
      break;
  }
  return "range";
}

absl::optional<PeriodForm> PeriodFormFromName(absl::string_view name) {
  for (PeriodForm f :
       {PeriodForm::kCurrent, PeriodForm::kPrevious, PeriodForm::kRolling, PeriodForm::kNamed,
        PeriodForm::kRange, PeriodForm::kUpcoming, PeriodForm::kAllTime}) {
    if (PeriodFormName(f) == name) return f;
  }
  return absl::nullopt;
}

}  // namespace vet::codegen
