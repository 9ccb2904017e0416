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
InMemoryBudgetGuard::InMemoryBudgetGuard(BudgetOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

InMemoryBudgetGuard::Ledger& InMemoryBudgetGuard::LedgerFor(const std::string& practice_id,
                                                            const PeriodBounds& bounds) {
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

BudgetState InMemoryBudgetGuard::StateOf(const Practice& practice, const Ledger& ledger,
                                         const PeriodBounds& bounds) const {
  BudgetState s = ComputeBudgetState(practice, options_, bounds, ledger.spent, ledger.reserved);
  s.spent_by_model_micros = ledger.by_model;
  return s;
}

absl::StatusOr<BudgetState> InMemoryBudgetGuard::GetState(const Practice& practice) {
  PeriodBounds bounds =
      PeriodAt(clock_.Now(), OptionsFor(options_, practice).period, practice.time_zone);
  absl::MutexLock lock(&mu_);
  return StateOf(practice, LedgerFor(practice.id, bounds), bounds);
}

absl::StatusOr<Reservation> InMemoryBudgetGuard::Reserve(const Practice& practice, int64_t micros,
                                                         const std::string& model) {
  if (micros < 0) {
    return absl::InvalidArgumentError("a reservation cannot be negative");
  }
  const std::string period = OptionsFor(options_, practice).period;
  PeriodBounds bounds = PeriodAt(clock_.Now(), period, practice.time_zone);
  absl::MutexLock lock(&mu_);
  Ledger& ledger = LedgerFor(practice.id, bounds);
  if (micros > 0) {
    BudgetState s = StateOf(practice, ledger, bounds);
    if (micros > s.remaining_micros) return BudgetDenied(practice, s, micros);
  }
  Reservation r = NewReservation(practice, options_, micros, model);
  ledger.reserved += micros;
  reservations_.emplace(r.id, Hold{practice.id, practice.time_zone, period, micros});
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
  Ledger& ledger = LedgerFor(it->second.practice_id,
                             PeriodAt(clock_.Now(), it->second.period, it->second.time_zone));
  ledger.reserved -= it->second.micros;
  reservations_.erase(it);
  return &ledger;
}

absl::Status InMemoryBudgetGuard::Commit(const Reservation& reservation, const Spend& spend) {
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
