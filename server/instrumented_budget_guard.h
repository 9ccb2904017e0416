// Budget metrics where money is decided: a BudgetGuard decorator that counts
// settled spend (tokens, dollars, sandbox seconds) and refusals, and a
// collector that reads every practice's budget state at scrape time.
#ifndef VET_SERVER_INSTRUMENTED_BUDGET_GUARD_H_
#define VET_SERVER_INSTRUMENTED_BUDGET_GUARD_H_

#include <memory>
#include <string>
#include <vector>

#include "core/budget/budget_guard.h"
#include "core/practice/practice.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "server/metrics.h"

namespace vet::server {

// vet_budget_{spent,reserved,remaining,limit}_usd and
// vet_budget_{soft,hard}_cap_reached (0 or 1), per practice of `practices`,
// from `guard.GetState` at each Collect (no polling in between). A practice
// whose state cannot be read is logged and left out of that scrape.
// Thread-safe; both references must outlive it.
class BudgetStateCollector final : public prometheus::Collectable {
 public:
  BudgetStateCollector(const PracticeRegistry& practices, budget::BudgetGuard& guard)
      : practices_(practices), guard_(guard) {}

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const PracticeRegistry& practices_;
  budget::BudgetGuard& guard_;
};

// Forwards to `inner`, and records in `metrics`:
//   - on a successful Commit: vet_model_tokens_total{practice,model,kind}
//     (input = prompt - cached, cached_input, output; not for the offline
//     planner's token-free spend), vet_spend_usd_total{practice,model} and
//     vet_sandbox_charged_seconds_total{practice};
//   - on Reserve refused with kResourceExhausted:
//     vet_budget_denials_total{practice}.
// For its lifetime a BudgetStateCollector over `inner` is added to
// `metrics`. Thread-safe as `inner` is; `practices` and `metrics` must
// outlive it.
class InstrumentedBudgetGuard final : public budget::BudgetGuard {
 public:
  InstrumentedBudgetGuard(std::unique_ptr<budget::BudgetGuard> inner,
                          const PracticeRegistry& practices, Metrics& metrics);
  ~InstrumentedBudgetGuard() override;
  InstrumentedBudgetGuard(const InstrumentedBudgetGuard&) = delete;
  InstrumentedBudgetGuard& operator=(const InstrumentedBudgetGuard&) = delete;

  absl::StatusOr<budget::BudgetState> GetState(const Practice& practice) override;
  absl::StatusOr<budget::BudgetState> GetTotals(const Practice& practice) override;
  absl::StatusOr<budget::Reservation> Reserve(const Practice& practice, int64_t micros,
                                              const std::string& model) override;
  absl::Status Commit(const budget::Reservation& reservation, const budget::Spend& spend) override;
  absl::Status Release(const budget::Reservation& reservation) override;

 private:
  const std::unique_ptr<budget::BudgetGuard> inner_;
  Metrics& metrics_;
  const BudgetStateCollector collector_;
};

}  // namespace vet::server

#endif  // VET_SERVER_INSTRUMENTED_BUDGET_GUARD_H_
