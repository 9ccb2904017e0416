// The shared budget arithmetic. Money stays integer micro-dollars; the only
// floating point is a cap fraction applied once to a limit.
#include "core/budget/budget_rules.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "core/common/random.h"

namespace vet::budget {

std::string FormatDollars(int64_t micros) {
  return absl::StrFormat("$%.2f", static_cast<double>(micros) / 1e6);
}

absl::Status ValidateBudgetOptions(const BudgetOptions& o) {
  if (o.default_limit_micros < 0) {
    return absl::InvalidArgumentError("BUDGET_LIMIT must not be negative");
  }
  if (!(o.soft_cap > 0 && o.soft_cap <= o.hard_cap)) {
    return absl::InvalidArgumentError(
        absl::StrCat("BUDGET_SOFT_CAP must be above 0 and at most BUDGET_HARD_CAP; got ",
                     o.soft_cap, " and ", o.hard_cap));
  }
  if (!(o.hard_cap > 0 && o.hard_cap <= 10)) {
    return absl::InvalidArgumentError(
        absl::StrCat("BUDGET_HARD_CAP must be in (0, 10]; got ", o.hard_cap));
  }
  if (o.period != "day" && o.period != "month") {
    return absl::InvalidArgumentError(
        absl::StrCat("BUDGET_PERIOD must be 'day' or 'month'; got '", o.period, "'"));
  }
  return absl::OkStatus();
}

BudgetOptions OptionsFor(const BudgetOptions& defaults, const Practice& practice) {
  BudgetOptions o = defaults;
  if (practice.budget_limit_micros >= 0) o.default_limit_micros = practice.budget_limit_micros;
  if (practice.budget_soft_cap > 0) o.soft_cap = practice.budget_soft_cap;
  if (practice.budget_hard_cap > 0) o.hard_cap = practice.budget_hard_cap;
  if (!practice.budget_period.empty()) o.period = practice.budget_period;
  return o;
}

PeriodBounds PeriodAt(absl::Time now, const std::string& period, absl::TimeZone tz) {
  absl::CivilSecond local = absl::ToCivilSecond(now, tz);
  if (period == "day") {
    absl::CivilDay day(local);
    return {absl::FromCivil(day, tz), absl::FromCivil(day + 1, tz)};
  }
  absl::CivilMonth month(local);
  return {absl::FromCivil(month, tz), absl::FromCivil(month + 1, tz)};
}

Reservation NewReservation(const Practice& practice, const BudgetOptions& defaults, int64_t micros,
                           const std::string& model) {
  Reservation r;
  r.id = RandomHex(16);
  r.practice_id = practice.id;
  r.micros = micros;
  r.model = model;
  r.period = OptionsFor(defaults, practice).period;
  r.time_zone = practice.time_zone;
  return r;
}

int64_t CapMicros(int64_t limit_micros, double fraction) {
  return static_cast<int64_t>(std::floor(static_cast<double>(limit_micros) * fraction));
}

BudgetState ComputeBudgetState(const Practice& practice, const BudgetOptions& defaults,
                               const PeriodBounds& bounds, int64_t spent, int64_t reserved) {
  const BudgetOptions options = OptionsFor(defaults, practice);
  BudgetState s;
  s.practice_id = practice.id;
  s.limit_micros = options.default_limit_micros;
  s.spent_micros = spent;
  s.reserved_micros = reserved;
  int64_t hard = CapMicros(s.limit_micros, options.hard_cap);
  s.remaining_micros = std::max<int64_t>(0, hard - spent - reserved);
  s.soft_cap = options.soft_cap;
  s.hard_cap = options.hard_cap;
  s.soft_cap_reached = spent >= CapMicros(s.limit_micros, options.soft_cap);
  s.hard_cap_reached = spent >= hard;
  s.period = options.period;
  s.period_start = bounds.start;
  s.resets_at = bounds.end;
  return s;
}

absl::Status BudgetDenied(const Practice& practice, const BudgetState& s, int64_t micros) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "practice '", practice.id, "' has spent ", FormatDollars(s.spent_micros), " of its ",
      FormatDollars(s.limit_micros), " ", s.period == "day" ? "daily" : "monthly", " budget (",
      FormatDollars(s.reserved_micros),
      " held by questions in flight); this question may cost up to ", FormatDollars(micros),
      ". The budget resets at ",
      absl::FormatTime("%Y-%m-%d %H:%M %Z", s.resets_at, practice.time_zone), "."));
}

}  // namespace vet::budget
