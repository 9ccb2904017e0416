// A BudgetGuard that keeps spend and reservations in process memory: correct
// under concurrency (one mutex decides), but forgotten on restart. The first,
// simplest honest guard; durable SQLite and PostgreSQL stores replace it.
#ifndef VET_CORE_BUDGET_IN_MEMORY_BUDGET_GUARD_H_
#define VET_CORE_BUDGET_IN_MEMORY_BUDGET_GUARD_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "core/budget/budget_guard.h"
#include "core/budget/budget_rules.h"
#include "core/common/clock.h"

namespace vet::budget {

// Thread-safe.
class InMemoryBudgetGuard final : public BudgetGuard {
 public:
  InMemoryBudgetGuard(BudgetOptions options, const Clock& clock);

  absl::StatusOr<BudgetState> GetState(const Practice& practice) override;
  absl::StatusOr<Reservation> Reserve(const Practice& practice, int64_t micros,
                                      const std::string& model) override;
  absl::Status Commit(const Reservation& reservation, const Spend& spend) override;
  absl::Status Release(const Reservation& reservation) override;

 private:
  struct Ledger {
    absl::Time period_start;
    int64_t spent = 0;
    int64_t reserved = 0;
    std::map<std::string, int64_t> by_model;
  };
  // The practice's ledger for the period `bounds`, started afresh when the
  // period has turned.
  Ledger& LedgerFor(const std::string& practice_id, const PeriodBounds& bounds)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  struct Hold {
    std::string practice_id;
    absl::TimeZone time_zone;
    std::string period;
    int64_t micros = 0;
  };
  // Settles an open reservation; the caller applies `spent`.
  absl::StatusOr<Ledger*> TakeHold(const Reservation& reservation)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  BudgetState StateOf(const Practice& practice, const Ledger& ledger,
                      const PeriodBounds& bounds) const;

  const BudgetOptions options_;
  const Clock& clock_;
  absl::Mutex mu_;
  std::map<std::string, Ledger> ledgers_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Hold> reservations_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vet::budget

#endif  // VET_CORE_BUDGET_IN_MEMORY_BUDGET_GUARD_H_
