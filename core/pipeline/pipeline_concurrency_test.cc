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
#include <vector>

#include "absl/synchronization/mutex.h"
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

// A model that costs exactly its estimate, and holds every call until all
// 64 questions have either been refused or reached it: every admitted
// question is in flight at once when the budget decides.
class GatedModel final : public codegen::CodeGenerator {
 public:
  codegen::CostEstimate Estimate(const codegen::CodeRequest&) const override {
    return {"gated-model", kCostMicros};
  }
  absl::StatusOr<codegen::GeneratedCode> Generate(const codegen::CodeRequest& request,
                                                  CancellationToken&) override {
    Arrive();
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* settled) { return *settled >= kQuestions; }, &settled_));
    codegen::GeneratedCode code;
    code.code = "result = 1";
    code.generator = "model";
    code.model = "gated-model";
    code.prompt_tokens = 100;
    code.completion_tokens = 10;
    code.cost_micros = kCostMicros;
    if (request.on_spend) {
      request.on_spend({"gated-model", 100, 0, 10, kCostMicros});
    }
    return code;
  }
  // A question refused by the budget never reaches the model.
  void Arrive() {
    absl::MutexLock lock(&mu_);
    ++settled_;
  }

 private:
  absl::Mutex mu_;
  int settled_ ABSL_GUARDED_BY(mu_) = 0;
};

class RecordingSink final : public EventSink {
 public:
  void Emit(const AskEvent&) override {}
};

struct Outcome {
  int answered = 0;
  int refused = 0;
  int other = 0;
};

Outcome AskConcurrently(budget::BudgetGuard& guard, const Practice& practice) {
  GatedModel model;
  sandbox::FakeExecutor executor;
  for (int i = 0; i < kQuestions; ++i) executor.Push({{}, sandbox::FakeExecutor::Number(1)});
  data::FakeDatasetCatalog catalog;
  session::InMemorySessionStore sessions(RealClock::Get());
  Pipeline pipeline({}, {&sessions, &guard, &model, &executor, &catalog, &RealClock::Get()});
  std::atomic<int> answered{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kQuestions; ++i) {
    threads.emplace_back([&] {
      RecordingSink sink;
      CancellationToken cancel;
      absl::Status s = pipeline.Ask(practice, {"revenue", "", "2026-10-26"}, sink, cancel);
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
  return {answered.load(), refused.load(), other.load()};
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
  auto guard =
      budget::PostgresBudgetGuard::Open((*server)->url(*database), {}, RealClock::Get());
  ASSERT_THAT(guard, IsOk());
  Practice practice = MakePractice();
  Outcome outcome = AskConcurrently(**guard, practice);
  ExpectTheCapHeld(**guard, practice, outcome);
}

}  // namespace
}  // namespace vet::pipeline
