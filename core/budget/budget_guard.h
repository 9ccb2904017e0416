// Spend governance per practice: reserve the worst case before paying for a
// question, commit the actual cost after, release on failure. Money is
// integer micro-dollars; no floating point accumulates.
#ifndef VET_CORE_BUDGET_BUDGET_GUARD_H_
#define VET_CORE_BUDGET_BUDGET_GUARD_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/practice/practice.h"

namespace vet::budget {

struct BudgetState {
  std::string practice_id;
  int64_t limit_micros = 0;
  int64_t spent_micros = 0;
  int64_t reserved_micros = 0;
  // limit * hard_cap - spent - reserved, never below 0.
  int64_t remaining_micros = 0;
  double soft_cap = 0.8;
  double hard_cap = 1.0;
  bool soft_cap_reached = false;
  bool hard_cap_reached = false;
  std::string period;  // "day" or "month"
  absl::Time period_start;
  absl::Time resets_at;
  std::map<std::string, int64_t> spent_by_model_micros;
};

struct Reservation {
  std::string id;
  std::string practice_id;
  int64_t micros = 0;
  std::string model;
  // The practice's period ("day" or "month") and time zone when it was
  // taken: a commit counts in the period it happens in.
  std::string period = "month";
  absl::TimeZone time_zone = absl::UTCTimeZone();
};

// What one question spent: one append-only ledger entry.
struct Spend {
  std::string model;
  // Token counts of every model call of the question; cached_prompt_tokens
  // is the part of prompt_tokens the API billed at the cached rate.
  int64_t prompt_tokens = 0;
  int64_t cached_prompt_tokens = 0;
  int64_t completion_tokens = 0;
  // Time spent executing in the sandbox (SANDBOX_COST_PER_SECOND).
  int64_t sandbox_millis = 0;
  // The total: model calls plus sandbox time.
  int64_t micros = 0;
  std::string question_id;
};

// Thread-safe.
class BudgetGuard {
 public:
  virtual ~BudgetGuard() = default;

  virtual absl::StatusOr<BudgetState> GetState(const Practice& practice) = 0;

  // GetState without spent_by_model_micros (left empty): what a question's
  // budget check and the metrics need, without summing the period's ledger
  // by model (which grows with every paid question of the period). The
  // default is GetState.
  virtual absl::StatusOr<BudgetState> GetTotals(const Practice& practice) {
    return GetState(practice);
  }

  // Holds `micros` against the practice's budget. Returns
  // kResourceExhausted, naming spent, limit and the reset time, when
  // spent + reserved + micros would pass the hard cap. A reservation of 0
  // (the offline planner) is always granted.
  virtual absl::StatusOr<Reservation> Reserve(const Practice& practice, int64_t micros,
                                              const std::string& model) = 0;

  // Records `spend` and releases the rest of the reservation.
  virtual absl::Status Commit(const Reservation& reservation, const Spend& spend) = 0;

  // Releases the reservation without spending (failure, cancellation).
  virtual absl::Status Release(const Reservation& reservation) = 0;
};

}  // namespace vet::budget

#endif  // VET_CORE_BUDGET_BUDGET_GUARD_H_
