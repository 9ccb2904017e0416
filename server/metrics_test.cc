// The metric decorators and scrape-time collectors on their own: what a
// commit, a refusal and an execution record, budget gauges read at collect
// time, a failing practice left out, and collectors leaving with their owner.
#include "server/metrics.h"

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/civil_time.h"
#include "core/budget/in_memory_budget_guard.h"
#include "core/common/testing/fake_clock.h"
#include "core/sandbox/fair_scheduler.h"
#include "core/sandbox/testing/fake_executor.h"
#include "core/sandbox/testing/recording_sink.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/metric_family.h"
#include "server/instrumented_budget_guard.h"
#include "server/instrumented_executor.h"

namespace vet::server {
namespace {

using ::testing::DoubleEq;
using ::testing::IsEmpty;

// name{label="value",...} -> the sample (counter, gauge or histogram count).
std::map<std::string, double> Scrape(const Metrics& metrics) {
  std::map<std::string, double> out;
  for (const prometheus::MetricFamily& family : metrics.collectable()->Collect()) {
    for (const prometheus::ClientMetric& m : family.metric) {
      std::string key = family.name + "{";
      for (size_t i = 0; i < m.label.size(); ++i) {
        key += (i ? "," : "") + m.label[i].name + "=\"" + m.label[i].value + "\"";
      }
      key += "}";
      switch (family.type) {
        case prometheus::MetricType::Counter:
          out[key] = m.counter.value;
          break;
        case prometheus::MetricType::Gauge:
          out[key] = m.gauge.value;
          break;
        case prometheus::MetricType::Histogram:
          out[key] = static_cast<double>(m.histogram.sample_count);
          out[family.name + "_sum" + key.substr(family.name.size())] = m.histogram.sample_sum;
          break;
        default:
          break;
      }
    }
  }
  return out;
}

Practice MakePractice(std::string id, int64_t limit_micros) {
  Practice p;
  p.id = std::move(id);
  p.api_key = p.id + "-key";
  p.data_dir = "/nonexistent/" + p.id;
  p.budget_limit_micros = limit_micros;
  return p;
}

class InstrumentedBudgetGuardTest : public ::testing::Test {
 protected:
  InstrumentedBudgetGuardTest() {
    auto practices = PracticeRegistry::FromPractices(
        {MakePractice("clinic", 2'000'000), MakePractice("tiny", 100)});
    EXPECT_TRUE(practices.ok()) << practices.status();
    if (practices.ok()) practices_ = std::move(*practices);
  }
  const Practice& practice(const std::string& id) { return **practices_->Find(id); }

  FakeClock clock_{absl::FromCivil(absl::CivilSecond(2026, 11, 15, 12, 0, 0), absl::UTCTimeZone())};
  std::unique_ptr<PracticeRegistry> practices_;
  Metrics metrics_;
};

TEST_F(InstrumentedBudgetGuardTest, CommitCountsTokensByKindAndDollarsByModel) {
  InstrumentedBudgetGuard guard(
      std::make_unique<budget::InMemoryBudgetGuard>(budget::BudgetOptions{}, clock_), *practices_,
      metrics_);
  auto reservation = guard.Reserve(practice("clinic"), 500'000, "gpt-x");
  ASSERT_TRUE(reservation.ok()) << reservation.status();
  budget::Spend spend;
  spend.model = "gpt-x";
  spend.prompt_tokens = 1000;
  spend.cached_prompt_tokens = 250;
  spend.completion_tokens = 80;
  spend.sandbox_millis = 1500;
  spend.micros = 12'345;
  ASSERT_TRUE(guard.Commit(*reservation, spend).ok());

  // The planner's free answer: dollars (zero) but no token series.
  auto planner = guard.Reserve(practice("clinic"), 0, "planner");
  ASSERT_TRUE(planner.ok());
  budget::Spend free;
  free.model = "planner";
  ASSERT_TRUE(guard.Commit(*planner, free).ok());

  auto scraped = Scrape(metrics_);
  EXPECT_EQ(scraped["vet_model_tokens_total{kind=\"input\",model=\"gpt-x\",practice=\"clinic\"}"],
            750);
  EXPECT_EQ(
      scraped["vet_model_tokens_total{kind=\"cached_input\",model=\"gpt-x\",practice=\"clinic\"}"],
      250);
  EXPECT_EQ(scraped["vet_model_tokens_total{kind=\"output\",model=\"gpt-x\",practice=\"clinic\"}"],
            80);
  EXPECT_EQ(
      scraped.count("vet_model_tokens_total{kind=\"input\",model=\"planner\",practice=\"clinic\"}"),
      0u);
  EXPECT_THAT(scraped["vet_spend_usd_total{model=\"gpt-x\",practice=\"clinic\"}"],
              DoubleEq(0.012345));
  EXPECT_EQ(scraped["vet_spend_usd_total{model=\"planner\",practice=\"clinic\"}"], 0);
  EXPECT_THAT(scraped["vet_sandbox_charged_seconds_total{practice=\"clinic\"}"], DoubleEq(1.5));
  EXPECT_THAT(scraped["vet_budget_spent_usd{practice=\"clinic\"}"], DoubleEq(0.012345));
  EXPECT_EQ(scraped["vet_budget_reserved_usd{practice=\"clinic\"}"], 0);
  EXPECT_THAT(scraped["vet_budget_remaining_usd{practice=\"clinic\"}"], DoubleEq(1.987655));
  EXPECT_EQ(scraped["vet_budget_limit_usd{practice=\"clinic\"}"], 2);
  EXPECT_EQ(scraped["vet_budget_soft_cap_reached{practice=\"clinic\"}"], 0);
  EXPECT_EQ(scraped["vet_budget_hard_cap_reached{practice=\"clinic\"}"], 0);
  EXPECT_THAT(scraped["vet_budget_limit_usd{practice=\"tiny\"}"], DoubleEq(0.0001));
  EXPECT_EQ(scraped.count("vet_budget_denials_total{practice=\"clinic\"}"), 0u);
}

TEST_F(InstrumentedBudgetGuardTest, GaugesAreReadAtScrapeTimeAndRefusalsCounted) {
  InstrumentedBudgetGuard guard(
      std::make_unique<budget::InMemoryBudgetGuard>(budget::BudgetOptions{}, clock_), *practices_,
      metrics_);
  auto held = guard.Reserve(practice("clinic"), 1'700'000, "gpt-x");
  ASSERT_TRUE(held.ok());
  auto scraped = Scrape(metrics_);
  EXPECT_THAT(scraped["vet_budget_reserved_usd{practice=\"clinic\"}"], DoubleEq(1.7));
  EXPECT_THAT(scraped["vet_budget_remaining_usd{practice=\"clinic\"}"], DoubleEq(0.3));

  EXPECT_EQ(guard.Reserve(practice("tiny"), 1'000, "gpt-x").status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(guard.Reserve(practice("tiny"), 1'000, "gpt-x").status().code(),
            absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(guard.Release(*held).ok());
  scraped = Scrape(metrics_);
  EXPECT_EQ(scraped["vet_budget_denials_total{practice=\"tiny\"}"], 2);
  EXPECT_EQ(scraped["vet_budget_reserved_usd{practice=\"clinic\"}"], 0);
  EXPECT_EQ(scraped["vet_budget_remaining_usd{practice=\"clinic\"}"], 2);
}

// Fails GetState for one practice.
class FailingGuard final : public budget::BudgetGuard {
 public:
  explicit FailingGuard(std::unique_ptr<budget::BudgetGuard> inner) : inner_(std::move(inner)) {}
  absl::StatusOr<budget::BudgetState> GetState(const Practice& practice) override {
    if (practice.id == "tiny") return absl::UnavailableError("database is locked");
    return inner_->GetState(practice);
  }
  absl::StatusOr<budget::Reservation> Reserve(const Practice& p, int64_t micros,
                                              const std::string& model) override {
    return inner_->Reserve(p, micros, model);
  }
  absl::Status Commit(const budget::Reservation& r, const budget::Spend& s) override {
    return inner_->Commit(r, s);
  }
  absl::Status Release(const budget::Reservation& r) override { return inner_->Release(r); }

 private:
  std::unique_ptr<budget::BudgetGuard> inner_;
};

TEST_F(InstrumentedBudgetGuardTest, APracticeWhoseStateFailsIsLeftOutOfTheScrape) {
  InstrumentedBudgetGuard guard(
      std::make_unique<FailingGuard>(
          std::make_unique<budget::InMemoryBudgetGuard>(budget::BudgetOptions{}, clock_)),
      *practices_, metrics_);
  auto scraped = Scrape(metrics_);
  EXPECT_EQ(scraped.count("vet_budget_limit_usd{practice=\"clinic\"}"), 1u);
  EXPECT_EQ(scraped.count("vet_budget_limit_usd{practice=\"tiny\"}"), 0u);
}

TEST_F(InstrumentedBudgetGuardTest, BudgetGaugesLeaveWithTheGuard) {
  {
    InstrumentedBudgetGuard guard(
        std::make_unique<budget::InMemoryBudgetGuard>(budget::BudgetOptions{}, clock_), *practices_,
        metrics_);
    EXPECT_EQ(Scrape(metrics_).count("vet_budget_limit_usd{practice=\"clinic\"}"), 1u);
  }
  for (const auto& [key, value] : Scrape(metrics_)) {
    EXPECT_NE(key.rfind("vet_budget_limit_usd", 0), 0u) << key;
  }
}

TEST(InstrumentedExecutorTest, TimesExecutionsThatRanAndReportsTheLoad) {
  Metrics metrics;
  auto fake = std::make_unique<sandbox::FakeExecutor>();
  sandbox::ExecutionResult ran = sandbox::FakeExecutor::Number(1);
  ran.elapsed = absl::Milliseconds(250);
  ran.queued = absl::Milliseconds(40);
  sandbox::ExecutionResult raised = sandbox::FakeExecutor::Raised("KeyError", "'x'", 1);
  raised.elapsed = absl::Milliseconds(50);
  fake->Push({{}, ran});
  fake->Push({{}, raised});
  fake->Push({{}, absl::DeadlineExceededError("wall clock")});
  {
    InstrumentedExecutor executor(std::move(fake), metrics, [] {
      return SandboxLoad{/*workers=*/2, /*running=*/1,
                         /*waiting=*/3};
    });
    sandbox::RecordingSink sink;
    CancellationToken cancel;
    sandbox::ExecutionRequest request;
    request.practice_id = "clinic";
    for (int i = 0; i < 3; ++i) (void)executor.Execute(request, sink, cancel);

    auto scraped = Scrape(metrics);
    EXPECT_EQ(scraped["vet_sandbox_execution_seconds{practice=\"clinic\"}"], 2)
        << "the timed-out execution has no run time to report";
    EXPECT_THAT(scraped["vet_sandbox_execution_seconds_sum{practice=\"clinic\"}"], DoubleEq(0.3));
    EXPECT_EQ(scraped["vet_sandbox_queue_wait_seconds{}"], 2);
    EXPECT_THAT(scraped["vet_sandbox_queue_wait_seconds_sum{}"], DoubleEq(0.04));
    EXPECT_EQ(scraped["vet_sandbox_workers{}"], 2);
    EXPECT_EQ(scraped["vet_sandbox_running{}"], 1);
    EXPECT_EQ(scraped["vet_sandbox_waiting{}"], 3);
  }
  EXPECT_EQ(Scrape(metrics).count("vet_sandbox_workers{}"), 0u);
}

TEST(InstrumentedExecutorTest, TheLoadComesFromTheScheduler) {
  Metrics metrics;
  auto fake = std::make_unique<sandbox::FakeExecutor>();
  sandbox::FakeExecutor* inner = fake.get();
  inner->block_until_cancelled = true;
  inner->Push({{}, sandbox::FakeExecutor::Number(1)});
  inner->Push({{}, sandbox::FakeExecutor::Number(2)});
  sandbox::FairScheduler::Options options;
  options.max_concurrent = 1;
  options.max_running_per_practice = 1;
  FakeClock clock;
  auto scheduler = sandbox::FairScheduler::Create(options, std::move(fake), clock);
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  sandbox::RecordingSink sink;
  CancellationToken first, second;
  absl::Notification first_done, second_done;
  {
    std::unique_ptr<sandbox::Executor> executor =
        InstrumentExecutor(*std::move(scheduler), metrics);
    sandbox::ExecutionRequest request;
    request.practice_id = "clinic";
    executor->ExecuteAsync(request, sink, first, [&](auto) { first_done.Notify(); });
    executor->ExecuteAsync(request, sink, second, [&](auto) { second_done.Notify(); });
    ASSERT_TRUE(inner->started.WaitForNotificationWithTimeout(absl::Seconds(20)));

    auto scraped = Scrape(metrics);
    EXPECT_EQ(scraped["vet_sandbox_workers{}"], 0) << "not a zygote executor";
    EXPECT_EQ(scraped["vet_sandbox_running{}"], 1);
    EXPECT_EQ(scraped["vet_sandbox_waiting{}"], 1);
    EXPECT_EQ(scraped["vet_sandbox_practice_running{practice=\"clinic\"}"], 1);
    EXPECT_EQ(scraped["vet_sandbox_practice_waiting{practice=\"clinic\"}"], 1);
    second.Cancel();
    first.Cancel();
    ASSERT_TRUE(first_done.WaitForNotificationWithTimeout(absl::Seconds(20)));
    ASSERT_TRUE(second_done.WaitForNotificationWithTimeout(absl::Seconds(20)));
    // An idle practice has no series.
    EXPECT_EQ(Scrape(metrics).count("vet_sandbox_practice_running{practice=\"clinic\"}"), 0u);
  }
}

TEST(MetricsTest, CollectableServesTheRegistryWithoutCollectors) {
  Metrics metrics;
  metrics.RecordQuestion("clinic", "OK", absl::Milliseconds(120));
  metrics.RecordWorkerPoolWait(absl::Milliseconds(3));
  metrics.RecordDowngrade("clinic", "gpt-big", "gpt-small");
  auto scraped = Scrape(metrics);
  EXPECT_EQ(scraped["vet_questions_total{practice=\"clinic\",status=\"OK\"}"], 1);
  EXPECT_EQ(scraped["vet_worker_pool_queue_wait_seconds{}"], 1);
  EXPECT_EQ(
      scraped["vet_budget_downgrades_total{from=\"gpt-big\",practice=\"clinic\",to=\"gpt-small\"}"],
      1);
  EXPECT_THAT(metrics.registry()->Collect(), ::testing::Not(IsEmpty()));
}

// A server with no model has no token or downgrade series, but the families
// are announced all the same, once, also after series appear.
TEST(MetricsTest, FamiliesWithoutSeriesAreStillAnnounced) {
  Metrics metrics;
  metrics.AddPractice("clinic", {"planner"}, {});
  auto count = [&](const std::string& name) {
    int n = 0;
    for (const prometheus::MetricFamily& f : metrics.collectable()->Collect()) {
      if (f.name == name) ++n;
    }
    return n;
  };
  EXPECT_EQ(count("vet_model_tokens_total"), 1);
  EXPECT_EQ(count("vet_budget_downgrades_total"), 1);
  metrics.RecordDowngrade("clinic", "gpt-big", "gpt-small");
  EXPECT_EQ(count("vet_budget_downgrades_total"), 1);
}

TEST(MetricsTest, AuditCountersHaveEveryDropReasonFromTheStart) {
  Metrics metrics;
  auto scraped = Scrape(metrics);
  for (const char* reason : {"queue_full", "write_failed", "refusal_limit", "unattributed"}) {
    EXPECT_EQ(
        scraped.count(absl::StrCat("vet_audit_entries_dropped_total{reason=\"", reason, "\"}")), 1u)
        << reason;
  }
  metrics.audit().Written(5);
  metrics.audit().Dropped(audit::kDropQueueFull, 2);
  scraped = Scrape(metrics);
  EXPECT_EQ(scraped["vet_audit_entries_written_total{}"], 5);
  EXPECT_EQ(scraped["vet_audit_entries_dropped_total{reason=\"queue_full\"}"], 2);
}

}  // namespace
}  // namespace vet::server
