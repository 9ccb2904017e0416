// InMemoryBudgetGuard: every decision is made under one mutex, so spent +
// reserved never passes the hard cap however many questions are in flight.
#include "core/budget/in_memory_budget_guard.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "core/common/random.h"

namespace vet::budget {
namespace {

std::string Dollars(int64_t micros) {
  return absl::StrFormat("$%.2f", static_cast<double>(micros) / 1e6);
}

}  // namespace

absl::Status ValidateBudgetOptions(const BudgetOptions& o) {
  if (o.default_limit_micros < 0) {
    return absl::InvalidArgumentError("BUDGET_LIMIT must not be negative");
  }
  if (!(o.soft_cap > 0 && o.soft_cap <= o.hard_cap)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "BUDGET_SOFT_CAP must be above 0 and at most BUDGET_HARD_CAP; got ",
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

PeriodBounds PeriodAt(absl::Time now, const std::string& period, absl::TimeZone tz) {
  absl::CivilSecond local = absl::ToCivilSecond(now, tz);
  if (period == "day") {
    absl::CivilDay day(local);
    return {absl::FromCivil(day, tz), absl::FromCivil(day + 1, tz)};
  }
  absl::CivilMonth month(local);
  return {absl::FromCivil(month, tz), absl::FromCivil(month + 1, tz)};
}

InMemoryBudgetGuard::InMemoryBudgetGuard(BudgetOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

InMemoryBudgetGuard::Ledger& InMemoryBudgetGuard::LedgerFor(
    const std::string& practice_id, const PeriodBounds& bounds) {
  Ledger& ledger = ledgers_[practice_id];
  if (ledger.period_start != bounds.start) {
    // A new period starts from zero; reservations still open carry over so
    // that their commits and releases stay balanced.
    int64_t carried = ledger.reserved;
    ledger = Ledger{};
    ledger.period_start = bounds.start;
    ledger.reserved = carried;
  }
  return ledger;
}

int64_t CapMicros(int64_t limit_micros, double fraction) {
  return static_cast<int64_t>(std::floor(static_cast<double>(limit_micros) * fraction));
}

BudgetState ComputeBudgetState(const Practice& practice, const BudgetOptions& options,
                               const PeriodBounds& bounds, int64_t spent, int64_t reserved) {
  BudgetState s;
  s.practice_id = practice.id;
  s.limit_micros = practice.budget_limit_micros >= 0 ? practice.budget_limit_micros
                                                     : options.default_limit_micros;
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
      "practice '", practice.id, "' has spent ", Dollars(s.spent_micros), " of its ",
      Dollars(s.limit_micros), " ", s.period == "day" ? "daily" : "monthly", " budget (",
      Dollars(s.reserved_micros),
      " held by questions in flight); this question may cost up to ", Dollars(micros),
      ". The budget resets at ",
      absl::FormatTime("%Y-%m-%d %H:%M %Z", s.resets_at, practice.time_zone), "."));
}

BudgetState InMemoryBudgetGuard::StateOf(const Practice& practice,
                                         const Ledger& ledger,
                                         const PeriodBounds& bounds) const {
  BudgetState s = ComputeBudgetState(practice, options_, bounds, ledger.spent, ledger.reserved);
  s.spent_by_model_micros = ledger.by_model;
  return s;
}

absl::StatusOr<BudgetState> InMemoryBudgetGuard::GetState(const Practice& practice) {
  PeriodBounds bounds = PeriodAt(clock_.Now(), options_.period, practice.time_zone);
  absl::MutexLock lock(&mu_);
  return StateOf(practice, LedgerFor(practice.id, bounds), bounds);
}

absl::StatusOr<Reservation> InMemoryBudgetGuard::Reserve(const Practice& practice,
                                                         int64_t micros,
                                                         const std::string& model) {
  if (micros < 0) {
    return absl::InvalidArgumentError("a reservation cannot be negative");
  }
  PeriodBounds bounds = PeriodAt(clock_.Now(), options_.period, practice.time_zone);
  absl::MutexLock lock(&mu_);
  Ledger& ledger = LedgerFor(practice.id, bounds);
  if (micros > 0) {
    BudgetState s = StateOf(practice, ledger, bounds);
    if (micros > s.remaining_micros) return BudgetDenied(practice, s, micros);
  }
  Reservation r;
  r.id = RandomHex(16);
  r.practice_id = practice.id;
  r.micros = micros;
  r.model = model;
  ledger.reserved += micros;
  reservations_.emplace(r.id, Hold{practice.id, practice.time_zone, micros});
  return r;
}

absl::StatusOr<InMemoryBudgetGuard::Ledger*> InMemoryBudgetGuard::TakeHold(
    const Reservation& reservation) {
  auto it = reservations_.find(reservation.id);
  if (it == reservations_.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("reservation ", reservation.id, " is not open"));
  }
  // The ledger of the period now: a hold taken just before the period
  // turned was carried over, and its spend counts when it is committed.
  Ledger& ledger = LedgerFor(
      it->second.practice_id, PeriodAt(clock_.Now(), options_.period, it->second.time_zone));
  ledger.reserved -= it->second.micros;
  reservations_.erase(it);
  return &ledger;
}

absl::Status InMemoryBudgetGuard::Commit(const Reservation& reservation,
                                         const Spend& spend) {
  if (spend.micros < 0) return absl::InvalidArgumentError("spend cannot be negative");
  absl::MutexLock lock(&mu_);
  auto ledger = TakeHold(reservation);
  if (!ledger.ok()) return ledger.status();
  (*ledger)->spent += spend.micros;
  if (spend.micros > 0) (*ledger)->by_model[spend.model] += spend.micros;
  return absl::OkStatus();
}

absl::Status InMemoryBudgetGuard::Release(const Reservation& reservation) {
  absl::MutexLock lock(&mu_);
  return TakeHold(reservation).status();
}

}  // namespace vet::budget
