// 64 questions in flight against a budget that admits only some of them,
// through the whole pipeline, on each durable store: the committed total
// never passes the cap, and exactly as many are answered as the cap allows.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/types/variant.h"
#include "core/budget/in_memory_budget_guard.h"
#include "core/budget/postgres_budget_guard.h"
#include "core/budget/sqlite_budget_guard.h"
#include "core/common/clock.h"
#include "core/data/testing/fake_dataset_catalog.h"
#include "core/pipeline/pipeline.h"
#include "core/sandbox/testing/fake_executor.h"
#include "core/session/in_memory_session_store.h"
#include "gtest/gtest.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/status_matchers.h"

namespace vet::pipeline {
namespace {

using ::vet::testing::IsOk;

constexpr int kQuestions = 64;
constexpr int64_t kCostMicros = 10'000;
// Room for 25 questions and a little more, not enough for a 26th.
constexpr int64_t kLimitMicros = 25 * kCostMicros + kCostMicros / 2;

// How long the model holds its calls.
enum class Gate {
  // Until all 64 questions have either been refused or reached it: every
  // admitted question is in flight at once when the budget decides.
  kUntilAllSettled,
  // Until 25 calls wait and the budget has refused at least one
  // reservation meanwhile: some question certainly met the others' holds.
  kUntilAHoldRefused,
};

// A model that costs `actual` (at most its estimate) and holds its calls as
// a model client does, without a thread: the pipeline's own two threads
// carry all 64 questions.
class GatedModel final : public codegen::CodeGenerator {
 public:
  GatedModel(Gate gate, int64_t actual) : gate_(gate), actual_(actual) {}

  codegen::CostEstimate Estimate(const codegen::CodeRequest&) const override {
    return {"gated-model", kCostMicros};
  }
  absl::StatusOr<codegen::GeneratedCode> Generate(const codegen::CodeRequest& request,
                                                  CancellationToken& cancel) override {
    return codegen::AwaitGenerated(*this, request, cancel);
  }
  void GenerateAsync(const codegen::CodeRequest& request, CancellationToken&,
                     codegen::GenerateCallback done) override {
    std::vector<std::pair<const codegen::CodeRequest*, codegen::GenerateCallback>> release;
    {
      absl::MutexLock lock(&mu_);
      held_.emplace_back(&request, std::move(done));
      ++settled_;
      ++arrived_;
      if (OpenLocked()) release.swap(held_);
    }
    Release(release);
  }
  // The budget refused a reservation (the question may wait and try again).
  void ReservationRefused() {
    std::vector<std::pair<const codegen::CodeRequest*, codegen::GenerateCallback>> release;
    {
      absl::MutexLock lock(&mu_);
      ++refusals_;
      if (OpenLocked()) release.swap(held_);
    }
    Release(release);
  }
  // A question refused by the budget never reaches the model.
  void Arrive() {
    std::vector<std::pair<const codegen::CodeRequest*, codegen::GenerateCallback>> release;
    {
      absl::MutexLock lock(&mu_);
      ++settled_;
      if (OpenLocked()) release.swap(held_);
    }
    Release(release);
  }

 private:
  bool OpenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (open_) return true;
    open_ =
        gate_ == Gate::kUntilAllSettled ? settled_ >= kQuestions : arrived_ >= 25 && refusals_ >= 1;
    return open_;
  }

  void Release(
      std::vector<std::pair<const codegen::CodeRequest*, codegen::GenerateCallback>>& calls) {
    for (auto& [request, done] : calls) {
      codegen::GeneratedCode code;
      code.code = "result = 1";
      code.generator = "model";
      code.model = "gated-model";
      code.prompt_tokens = 100;
      code.completion_tokens = 10;
      code.cost_micros = actual_;
      if (request->on_spend) request->on_spend({"gated-model", 100, 0, 10, actual_});
      done(std::move(code));
    }
  }

  const Gate gate_;
  const int64_t actual_;
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
  int settled_ ABSL_GUARDED_BY(mu_) = 0;
  int arrived_ ABSL_GUARDED_BY(mu_) = 0;
  int refusals_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::pair<const codegen::CodeRequest*, codegen::GenerateCallback>> held_
      ABSL_GUARDED_BY(mu_);
};

class RecordingSink final : public EventSink {
 public:
  void Emit(const AskEvent& event) override {
    if (const auto* check = absl::get_if<BudgetCheckEvent>(&event.payload)) {
      absl::MutexLock lock(&mu_);
      waited_ = check->waited > absl::ZeroDuration();
    }
  }
  bool waited() {
    absl::MutexLock lock(&mu_);
    return waited_;
  }

 private:
  absl::Mutex mu_;
  bool waited_ ABSL_GUARDED_BY(mu_) = false;
};

struct Outcome {
  int answered = 0;
  int refused = 0;
  int other = 0;
  // Budget checks that say the question waited for holds.
  int waited = 0;
};

struct Scenario {
  Gate gate = Gate::kUntilAllSettled;
  int64_t actual = kCostMicros;
  absl::Duration budget_wait = absl::ZeroDuration();
};

// Tells the model when the budget refuses a reservation.
class RefusalReporter final : public budget::BudgetGuard {
 public:
  RefusalReporter(budget::BudgetGuard& inner, GatedModel& model) : inner_(inner), model_(model) {}
  absl::StatusOr<budget::BudgetState> GetState(const Practice& practice) override {
    return inner_.GetState(practice);
  }
  absl::StatusOr<budget::Reservation> Reserve(const Practice& practice, int64_t micros,
                                              const std::string& model) override {
    auto reserved = inner_.Reserve(practice, micros, model);
    if (!reserved.ok()) model_.ReservationRefused();
    return reserved;
  }
  absl::Status Commit(const budget::Reservation& r, const budget::Spend& spend) override {
    return inner_.Commit(r, spend);
  }
  absl::Status Release(const budget::Reservation& r) override { return inner_.Release(r); }

 private:
  budget::BudgetGuard& inner_;
  GatedModel& model_;
};

Outcome AskConcurrently(budget::BudgetGuard& inner_guard, const Practice& practice,
                        Scenario scenario = {}) {
  GatedModel model(scenario.gate, scenario.actual);
  RefusalReporter guard(inner_guard, model);
  sandbox::FakeExecutor executor;
  for (int i = 0; i < kQuestions; ++i) executor.Push({{}, sandbox::FakeExecutor::Number(1)});
  data::FakeDatasetCatalog catalog;
  session::InMemorySessionStore sessions(RealClock::Get());
  PipelineOptions options;
  options.budget_wait = scenario.budget_wait;
  Pipeline pipeline(options, {&sessions, &guard, &model, &executor, &catalog, &RealClock::Get()});
  std::atomic<int> answered{0}, refused{0}, other{0}, waited{0};
  std::vector<std::thread> threads;
  threads.reserve(kQuestions);
  for (int i = 0; i < kQuestions; ++i) {
    threads.emplace_back([&] {
      RecordingSink sink;
      CancellationToken cancel;
      absl::Status s = pipeline.Ask(practice, {"revenue", "", "2026-10-26"}, sink, cancel);
      if (sink.waited()) ++waited;
      if (s.ok()) {
        ++answered;
      } else if (s.code() == absl::StatusCode::kResourceExhausted) {
        ++refused;
        model.Arrive();
      } else {
        ++other;
        ADD_FAILURE() << s;
        model.Arrive();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return {answered.load(), refused.load(), other.load(), waited.load()};
}

Practice MakePractice() {
  Practice p;
  p.id = "clinic";
  p.api_key = "clinic-key";
  p.data_dir = ::testing::TempDir();
  p.budget_limit_micros = kLimitMicros;
  return p;
}

void ExpectTheCapHeld(budget::BudgetGuard& guard, const Practice& practice,
                      const Outcome& outcome) {
  EXPECT_EQ(outcome.answered, 25) << "the cap allows 25 questions of $0.01";
  EXPECT_EQ(outcome.refused, kQuestions - 25);
  EXPECT_EQ(outcome.other, 0);
  auto state = guard.GetState(practice);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->spent_micros, 25 * kCostMicros);
  EXPECT_LE(state->spent_micros, kLimitMicros);
  EXPECT_EQ(state->reserved_micros, 0) << "every reservation was settled";
  EXPECT_EQ(state->spent_by_model_micros.at("gated-model"), 25 * kCostMicros);
}

TEST(PipelineConcurrencyTest, InMemoryStoreAdmitsExactlyWhatTheCapAllows) {
  budget::InMemoryBudgetGuard guard({}, RealClock::Get());
  Practice practice = MakePractice();
  Outcome outcome = AskConcurrently(guard, practice);
  ExpectTheCapHeld(guard, practice, outcome);
}

TEST(PipelineConcurrencyTest, SqliteStoreAdmitsExactlyWhatTheCapAllows) {
  std::string dir = ::testing::TempDir() + "/pipeline_concurrency_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  {
    auto guard = budget::SqliteBudgetGuard::Open(dir + "/budget.sqlite3", {}, RealClock::Get());
    ASSERT_THAT(guard, IsOk());
    Practice practice = MakePractice();
    Outcome outcome = AskConcurrently(**guard, practice);
    ExpectTheCapHeld(**guard, practice, outcome);
  }
  std::filesystem::remove_all(dir);
}

TEST(PipelineConcurrencyTest, PostgresStoreAdmitsExactlyWhatTheCapAllows) {
  auto server = vet::testing::PostgresServer::Start();
  ASSERT_THAT(server, IsOk());
  auto database = (*server)->CreateDatabase();
  ASSERT_THAT(database, IsOk());
  auto guard = budget::PostgresBudgetGuard::Open((*server)->url(*database), {}, RealClock::Get());
  ASSERT_THAT(guard, IsOk());
  Practice practice = MakePractice();
  Outcome outcome = AskConcurrently(**guard, practice);
  ExpectTheCapHeld(**guard, practice, outcome);
}

// The case: worst-case holds of questions in flight would refuse
// questions the budget can pay for. Waiting for holds to settle admits
// every one of them, and the cap still holds.
TEST(PipelineConcurrencyTest, QuestionsWaitForHoldsInsteadOfBeingRefused) {
  budget::InMemoryBudgetGuard guard({}, RealClock::Get());
  Practice practice = MakePractice();
  Outcome outcome = AskConcurrently(
      guard, practice,
      {Gate::kUntilAHoldRefused, /*actual=*/kCostMicros / 10, /*budget_wait=*/absl::Seconds(60)});
  EXPECT_EQ(outcome.answered, kQuestions);
  EXPECT_EQ(outcome.refused, 0);
  EXPECT_GT(outcome.waited, 0) << "some questions met the others' holds and waited";
  auto state = guard.GetState(practice);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->spent_micros, kQuestions * kCostMicros / 10);
  EXPECT_EQ(state->reserved_micros, 0);
}

// Waiting never lets spend pass the cap: once what is spent alone leaves no
// room, the rest are refused.
TEST(PipelineConcurrencyTest, WaitingForHoldsStillRefusesARealOverspend) {
  budget::InMemoryBudgetGuard guard({}, RealClock::Get());
  Practice practice = MakePractice();
  Outcome outcome = AskConcurrently(
      guard, practice,
      {Gate::kUntilAHoldRefused, /*actual=*/kCostMicros, /*budget_wait=*/absl::Seconds(60)});
  EXPECT_EQ(outcome.answered, 25);
  EXPECT_EQ(outcome.refused, kQuestions - 25);
  auto state = guard.GetState(practice);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->spent_micros, 25 * kCostMicros);
  EXPECT_EQ(state->reserved_micros, 0);
}

}  // namespace
}  // namespace vet::pipeline
