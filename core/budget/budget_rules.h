// The budget arithmetic every store shares: the options, a practice's
// overrides of them, period boundaries in the practice's time zone, caps in
// micro-dollars, the state derived from a period's totals, and the refusal
// of a reservation that would pass the hard cap.
#ifndef VET_CORE_BUDGET_BUDGET_RULES_H_
#define VET_CORE_BUDGET_BUDGET_RULES_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/budget/budget_guard.h"
#include "core/practice/practice.h"

namespace vet::budget {

struct BudgetOptions {
  // Per period, when the practice sets none.
  int64_t default_limit_micros = 10'000'000;
  // Fractions of the limit.
  double soft_cap = 0.80;
  double hard_cap = 1.0;
  // "day" or "month", in the practice's time zone.
  std::string period = "month";
};

// kInvalidArgument naming the option when caps or period are out of range.
absl::Status ValidateBudgetOptions(const BudgetOptions& options);

// The server's options with the practice's overrides applied (limit, caps,
// period); default_limit_micros is then the practice's limit.
BudgetOptions OptionsFor(const BudgetOptions& defaults, const Practice& practice);

// The start of the period containing `now` and the start of the next one.
struct PeriodBounds {
  absl::Time start;
  absl::Time end;
};
PeriodBounds PeriodAt(absl::Time now, const std::string& period, absl::TimeZone tz);

// A cap in micro-dollars, rounded down.
int64_t CapMicros(int64_t limit_micros, double fraction);

// The state from a period's totals, with the practice's overrides applied.
BudgetState ComputeBudgetState(const Practice& practice, const BudgetOptions& defaults,
                               const PeriodBounds& bounds, int64_t spent, int64_t reserved);

// kResourceExhausted naming the spent amount, the limit, what is held by
// questions in flight, this question's worst case and when the period
// resets (in the practice's time zone).
absl::Status BudgetDenied(const Practice& practice, const BudgetState& state, int64_t micros);

// A new reservation of `micros` for `model`: a random 128-bit id, the
// practice, and its period kind and zone (a commit counts in the period it
// happens in).
Reservation NewReservation(const Practice& practice, const BudgetOptions& defaults, int64_t micros,
                           const std::string& model);

// "$12.35": micro-dollars for people, rounded to the cent.
std::string FormatDollars(int64_t micros);

}  // namespace vet::budget

#endif  // VET_CORE_BUDGET_BUDGET_RULES_H_
