// What the budget check costs a question, per store: Reserve + Commit (the
// two writes every paid question makes), one client after another and 8 at
// once, on the in-memory guard, SQLite (WAL, synchronous=FULL) and a
// PostgreSQL 15 started for the run. A tool, not a test: see
// scripts/bench-budget.sh.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/budget/in_memory_budget_guard.h"
#include "core/budget/postgres_budget_guard.h"
#include "core/budget/sqlite_budget_guard.h"
#include "core/common/clock.h"
#include "tests/testing/postgres_server.h"

namespace vet::budget {
namespace {

struct Result {
  double per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

// `threads` clients, each doing `per_thread` Reserve + Commit pairs on its
// own practice (so that they measure the store, not one row's lock) or on
// one shared practice.
Result Run(BudgetGuard& guard, int threads, int per_thread, bool shared) {
  std::vector<std::vector<double>> latencies(threads);
  std::atomic<int> failures{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> workers;
  workers.reserve(threads);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      Practice p;
      p.id = shared ? "bench" : "bench-" + std::to_string(t);
      p.budget_limit_micros = int64_t{1} << 50;
      for (int i = 0; i < per_thread; ++i) {
        const absl::Time t0 = absl::Now();
        auto r = guard.Reserve(p, 50'000, "gpt-5.2-mini");
        Spend spend;
        spend.model = "gpt-5.2-mini";
        spend.prompt_tokens = 3000;
        spend.completion_tokens = 300;
        spend.micros = 1'350;
        if (!r.ok() || !guard.Commit(*r, spend).ok()) ++failures;
        latencies[t].push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
      }
    });
  }
  for (std::thread& w : workers) w.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  if (failures > 0) std::fprintf(stderr, "  %d failures\n", failures.load());
  return {all.size() / seconds, all[all.size() / 2], all[all.size() * 99 / 100]};
}

void Report(const char* store, BudgetGuard& guard, int n) {
  for (auto [threads, shared] : {std::pair{1, false}, std::pair{8, false}, std::pair{8, true}}) {
    Result r = Run(guard, threads, n / threads, shared);
    std::printf("%-10s %d client%s%-14s %8.0f questions/s   p50 %6.2f ms   p99 %6.2f ms\n", store,
                threads, threads == 1 ? " " : "s", shared ? ", one practice" : "", r.per_second,
                r.p50_ms, r.p99_ms);
  }
}

}  // namespace
}  // namespace vet::budget

int main(int argc, char** argv) {
  using namespace vet;
  const int n = argc > 1 ? std::atoi(argv[1]) : 2000;
  const std::string dir = argc > 2 ? argv[2] : "/tmp/vet-bench-budget";
  std::filesystem::create_directories(dir);
  std::printf("Reserve + Commit pairs, %d per line\n", n);
  {
    budget::InMemoryBudgetGuard guard({}, RealClock::Get());
    budget::Report("memory", guard, n);
  }
  {
    std::filesystem::remove(dir + "/budget.sqlite3");
    auto guard = budget::SqliteBudgetGuard::Open(dir + "/budget.sqlite3", {}, RealClock::Get());
    if (!guard.ok()) {
      std::fprintf(stderr, "%s\n", guard.status().ToString().c_str());
      return 1;
    }
    budget::Report("sqlite", **guard, n);
  }
  auto postgres = testing::PostgresServer::Start();
  if (!postgres.ok()) {
    std::fprintf(stderr, "postgres: %s\n", postgres.status().ToString().c_str());
    return 1;
  }
  auto database = (*postgres)->CreateDatabase();
  budget::PostgresBudgetOptions pg;
  pg.pool_size = 8;
  auto guard =
      budget::PostgresBudgetGuard::Open((*postgres)->url(*database), {}, RealClock::Get(), pg);
  if (!guard.ok()) {
    std::fprintf(stderr, "%s\n", guard.status().ToString().c_str());
    return 1;
  }
  budget::Report("postgres", **guard, n);
  return 0;
}
