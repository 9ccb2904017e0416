// Micro-dollars become dollars only here, at the edge: Prometheus wants base
// units, and the ledger keeps integers.
#include "server/instrumented_budget_guard.h"

#include <algorithm>
#include <utility>

#include "core/common/log.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_type.h"

namespace vet::server {
namespace {

constexpr char kPlannerModel[] = "planner";

double Usd(int64_t micros) { return static_cast<double>(micros) / 1e6; }

prometheus::MetricFamily GaugeFamily(std::string name, std::string help) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = prometheus::MetricType::Gauge;
  return family;
}

void AddSample(prometheus::MetricFamily& family, const std::string& practice_id, double value) {
  prometheus::ClientMetric metric;
  metric.label.push_back({"practice", practice_id});
  metric.gauge.value = value;
  family.metric.push_back(std::move(metric));
}

}  // namespace

std::vector<prometheus::MetricFamily> BudgetStateCollector::Collect() const {
  std::vector<prometheus::MetricFamily> families = {
      GaugeFamily("vet_budget_spent_usd", "Spent in the practice's current budget period"),
      GaugeFamily("vet_budget_reserved_usd", "Held for questions in flight"),
      GaugeFamily("vet_budget_remaining_usd",
                  "What may still be reserved: limit * hard cap - spent - reserved, at least 0"),
      GaugeFamily("vet_budget_limit_usd", "The practice's budget per period"),
      GaugeFamily("vet_budget_soft_cap_reached",
                  "1 when spend has reached the soft cap (cheaper model), else 0"),
      GaugeFamily("vet_budget_hard_cap_reached",
                  "1 when spend has reached the hard cap (model questions refused), else 0"),
  };
  for (const Practice& practice : practices_.practices()) {
    absl::StatusOr<budget::BudgetState> state = guard_.GetTotals(practice);
    if (!state.ok()) {
      LogWarning("metrics: budget of practice ", practice.id,
                 " left out of this scrape: ", state.status().ToString());
      continue;
    }
    AddSample(families[0], practice.id, Usd(state->spent_micros));
    AddSample(families[1], practice.id, Usd(state->reserved_micros));
    AddSample(families[2], practice.id, Usd(state->remaining_micros));
    AddSample(families[3], practice.id, Usd(state->limit_micros));
    AddSample(families[4], practice.id, state->soft_cap_reached ? 1 : 0);
    AddSample(families[5], practice.id, state->hard_cap_reached ? 1 : 0);
  }
  return families;
}

InstrumentedBudgetGuard::InstrumentedBudgetGuard(std::unique_ptr<budget::BudgetGuard> inner,
                                                 const PracticeRegistry& practices,
                                                 Metrics& metrics)
    : inner_(std::move(inner)), metrics_(metrics), collector_(practices, *inner_) {
  metrics_.AddCollector(&collector_);
}

InstrumentedBudgetGuard::~InstrumentedBudgetGuard() { metrics_.RemoveCollector(&collector_); }

absl::StatusOr<budget::BudgetState> InstrumentedBudgetGuard::GetState(const Practice& practice) {
  return inner_->GetState(practice);
}

absl::StatusOr<budget::BudgetState> InstrumentedBudgetGuard::GetTotals(const Practice& practice) {
  return inner_->GetTotals(practice);
}

absl::StatusOr<budget::Reservation> InstrumentedBudgetGuard::Reserve(const Practice& practice,
                                                                     int64_t micros,
                                                                     const std::string& model) {
  absl::StatusOr<budget::Reservation> reservation = inner_->Reserve(practice, micros, model);
  if (reservation.status().code() == absl::StatusCode::kResourceExhausted) {
    metrics_.RecordBudgetDenial(practice.id);
  }
  return reservation;
}

absl::Status InstrumentedBudgetGuard::Commit(const budget::Reservation& reservation,
                                             const budget::Spend& spend) {
  absl::Status committed = inner_->Commit(reservation, spend);
  if (!committed.ok()) return committed;
  const std::string& practice_id = reservation.practice_id;
  const bool has_tokens =
      spend.prompt_tokens > 0 || spend.cached_prompt_tokens > 0 || spend.completion_tokens > 0;
  if (spend.model != kPlannerModel || has_tokens) {
    const int64_t cached = std::min(spend.cached_prompt_tokens, spend.prompt_tokens);
    metrics_.RecordTokens(practice_id, spend.model, "input", spend.prompt_tokens - cached);
    metrics_.RecordTokens(practice_id, spend.model, "cached_input", cached);
    metrics_.RecordTokens(practice_id, spend.model, "output", spend.completion_tokens);
  }
  metrics_.RecordSpend(practice_id, spend.model, Usd(spend.micros));
  if (spend.sandbox_millis > 0) {
    metrics_.RecordSandboxCharged(practice_id, static_cast<double>(spend.sandbox_millis) / 1e3);
  }
  return committed;
}

absl::Status InstrumentedBudgetGuard::Release(const budget::Reservation& reservation) {
  return inner_->Release(reservation);
}

}  // namespace vet::server
