// One behavioural suite for every BudgetGuard store: in memory, SQLite and
// PostgreSQL. BudgetStoreTest runs against all three; DurableBudgetStoreTest
// (restarts, replicas, expiry, the ledger) against the two durable ones.
// PostgreSQL runs in a throwaway server started once per test binary, with
// a fresh database per test (tests/testing/postgres_fixture.h).
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "core/budget/budget_guard.h"
#include "core/budget/budget_rules.h"
#include "core/budget/in_memory_budget_guard.h"
#include "core/budget/postgres_budget_guard.h"
#include "core/budget/sqlite_budget_guard.h"
#include "core/common/testing/fake_clock.h"
#include "gtest/gtest.h"
#include "tests/testing/postgres_fixture.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/sqlite_file.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/store_kinds.h"

namespace vet::budget {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::vet::testing::FreshPostgresDatabase;
using ::vet::testing::IsOk;
using ::vet::testing::PostgresDatabase;
using ::vet::testing::PostgresServer;
using ::vet::testing::StatusIs;

Practice MakePractice(int64_t limit_micros) {
  Practice p;
  p.id = "clinic";
  p.api_key = "clinic-key";
  p.budget_limit_micros = limit_micros;
  return p;
}

absl::Time Utc(int y, int mo, int d, int h, int mi, int s) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

// One fresh, empty store. Open may be called several times: each guard is
// another replica (or a restart) on the same data.
class Store {
 public:
  virtual ~Store() = default;
  virtual absl::StatusOr<std::unique_ptr<BudgetGuard>> Open(
      const BudgetOptions& options, const Clock& clock, absl::Duration ttl = absl::Minutes(10)) = 0;
  // Raw SQL on the store through its own connection, bypassing the guard.
  virtual absl::Status Exec(const std::string& sql) = 0;
  virtual absl::StatusOr<int64_t> QueryInt(const std::string& sql) = 0;
};

class InMemoryStore final : public Store {
 public:
  absl::StatusOr<std::unique_ptr<BudgetGuard>> Open(const BudgetOptions& options,
                                                    const Clock& clock, absl::Duration) override {
    return std::make_unique<InMemoryBudgetGuard>(options, clock);
  }
  absl::Status Exec(const std::string&) override {
    return absl::UnimplementedError("in memory: no SQL");
  }
  absl::StatusOr<int64_t> QueryInt(const std::string&) override {
    return absl::UnimplementedError("in memory: no SQL");
  }
};

class SqliteStore final : public Store {
 public:
  SqliteStore() {
    std::string tmpl = ::testing::TempDir() + "/budget_store_XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    dir_ = tmpl;
    path_ = dir_ + "/budget.db";
  }
  ~SqliteStore() override { std::filesystem::remove_all(dir_); }

  absl::StatusOr<std::unique_ptr<BudgetGuard>> Open(const BudgetOptions& options,
                                                    const Clock& clock,
                                                    absl::Duration ttl) override {
    SqliteBudgetOptions sqlite;
    sqlite.reservation_ttl = ttl;
    auto guard = SqliteBudgetGuard::Open(path_, options, clock, sqlite);
    if (!guard.ok()) return guard.status();
    return std::unique_ptr<BudgetGuard>(std::move(guard).value());
  }
  absl::Status Exec(const std::string& sql) override {
    return vet::testing::ExecSqliteFile(path_, sql);
  }
  absl::StatusOr<int64_t> QueryInt(const std::string& sql) override {
    sqlite3* db = nullptr;
    sqlite3_open(path_.c_str(), &db);
    sqlite3_stmt* stmt = nullptr;
    absl::StatusOr<int64_t> value = absl::InternalError(sqlite3_errmsg(db));
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
      value = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
  }

 private:
  std::string dir_;
  std::string path_;
};

class PostgresStore final : public Store {
 public:
  PostgresStore(PostgresServer* server, std::string database)
      : server_(server), database_(std::move(database)) {}

  absl::StatusOr<std::unique_ptr<BudgetGuard>> Open(const BudgetOptions& options,
                                                    const Clock& clock,
                                                    absl::Duration ttl) override {
    PostgresBudgetOptions pg;
    pg.reservation_ttl = ttl;
    auto guard = PostgresBudgetGuard::Open(server_->url(database_), options, clock, pg);
    if (!guard.ok()) return guard.status();
    return std::unique_ptr<BudgetGuard>(std::move(guard).value());
  }
  absl::Status Exec(const std::string& sql) override {
    return server_->Query(sql, database_).status();
  }
  absl::StatusOr<int64_t> QueryInt(const std::string& sql) override {
    absl::StatusOr<std::string> text = server_->Query(sql, database_);
    if (!text.ok()) return text.status();
    int64_t value = 0;
    if (!text->empty() && !absl::SimpleAtoi(*text, &value)) {
      return absl::InternalError(absl::StrCat("not an integer: ", *text));
    }
    return value;
  }

 private:
  PostgresServer* server_;
  std::string database_;
};

using StoreKind = vet::testing::StoreKind<Store>;

std::vector<StoreKind> Stores(bool durable_only) {
  return vet::testing::ThreeStores<Store, InMemoryStore, SqliteStore, PostgresStore>(durable_only);
}

class BudgetStoreTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Store>> store = GetParam().make();
    ASSERT_THAT(store, IsOk()) << "cannot set up the " << GetParam().name << " store";
    store_ = std::move(store).value();
  }

  std::unique_ptr<BudgetGuard> OpenGuard(const BudgetOptions& options = {},
                                         absl::Duration ttl = absl::Minutes(10)) {
    auto guard = store_->Open(options, clock_, ttl);
    EXPECT_THAT(guard, IsOk());
    return guard.ok() ? std::move(guard).value() : nullptr;
  }
  int64_t QueryInt(const std::string& sql) {
    absl::StatusOr<int64_t> value = store_->QueryInt(sql);
    EXPECT_THAT(value, IsOk()) << sql;
    return value.ok() ? *value : -1;
  }

  FakeClock clock_{Utc(2026, 11, 15, 12, 0, 0)};
  std::unique_ptr<Store> store_;
};

class DurableBudgetStoreTest : public BudgetStoreTest {};

TEST_P(BudgetStoreTest, DeniesReservationThatWouldPassHardCap) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(1'000'000);
  auto r1 = guard->Reserve(p, 600'000, "m");
  ASSERT_THAT(r1, IsOk());
  auto denied = guard->Reserve(p, 500'000, "m");
  EXPECT_THAT(denied, StatusIs(absl::StatusCode::kResourceExhausted,
                               HasSubstr("has spent $0.00 of its $1.00 monthly budget "
                                         "($0.60 held by questions in flight); this "
                                         "question may cost up to $0.50")));
  EXPECT_THAT(denied, StatusIs(absl::StatusCode::kResourceExhausted,
                               HasSubstr("resets at 2026-12-01 00:00 UTC")));
  ASSERT_THAT(guard->Commit(*r1, {"m", 10, 0, 20, 0, 700'000, "q1"}), IsOk());
  auto state = guard->GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->limit_micros, 1'000'000);
  EXPECT_EQ(state->spent_micros, 700'000);
  EXPECT_EQ(state->reserved_micros, 0);
  EXPECT_EQ(state->remaining_micros, 300'000);
  EXPECT_FALSE(state->soft_cap_reached);
  EXPECT_EQ(state->spent_by_model_micros.at("m"), 700'000);
  EXPECT_EQ(state->period, "month");
  EXPECT_EQ(state->resets_at, Utc(2026, 12, 1, 0, 0, 0));
  // Spent is named once something was spent.
  EXPECT_THAT(guard->Reserve(p, 400'000, "m"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("has spent $0.70 of its $1.00 monthly budget")));
}

TEST_P(BudgetStoreTest, FreeReservationIsGrantedEvenWhenExhausted) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(100);
  auto r = guard->Reserve(p, 100, "m");
  ASSERT_THAT(r, IsOk());
  ASSERT_THAT(guard->Commit(*r, {"m", 0, 0, 0, 0, 100, "q"}), IsOk());
  EXPECT_THAT(guard->Reserve(p, 1, "m"), StatusIs(absl::StatusCode::kResourceExhausted));
  auto free = guard->Reserve(p, 0, "planner");
  ASSERT_THAT(free, IsOk());
  EXPECT_EQ(free->micros, 0);
  EXPECT_THAT(guard->Release(*free), IsOk());
  auto state = guard->GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_TRUE(state->soft_cap_reached);
  EXPECT_TRUE(state->hard_cap_reached);
  EXPECT_EQ(state->remaining_micros, 0);
}

TEST_P(BudgetStoreTest, SoftCapFollowsTheOption) {
  BudgetOptions options;
  options.soft_cap = 0.5;
  auto guard = OpenGuard(options);
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(1000);
  auto r = guard->Reserve(p, 600, "m");
  ASSERT_THAT(r, IsOk());
  ASSERT_THAT(guard->Commit(*r, {"m", 0, 0, 0, 0, 499, "q"}), IsOk());
  EXPECT_FALSE(guard->GetState(p)->soft_cap_reached);
  r = guard->Reserve(p, 1, "m");
  ASSERT_THAT(r, IsOk());
  ASSERT_THAT(guard->Commit(*r, {"m", 0, 0, 0, 0, 1, "q"}), IsOk());
  auto state = guard->GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_TRUE(state->soft_cap_reached);
  EXPECT_FALSE(state->hard_cap_reached);
}

TEST_P(BudgetStoreTest, DefaultLimitAppliesWhenThePracticeSetsNone) {
  BudgetOptions options;
  options.default_limit_micros = 2000;
  auto guard = OpenGuard(options);
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(-1);
  EXPECT_THAT(guard->Reserve(p, 2000, "m"), IsOk());
  EXPECT_THAT(guard->Reserve(p, 1, "m"), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(guard->GetState(p)->limit_micros, 2000);
}

TEST_P(BudgetStoreTest, ReleaseReturnsTheHoldAndIsNotRepeatable) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(1000);
  auto r = guard->Reserve(p, 1000, "m");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(guard->GetState(p)->reserved_micros, 1000);
  EXPECT_THAT(guard->Reserve(p, 1, "m"), StatusIs(absl::StatusCode::kResourceExhausted));
  ASSERT_THAT(guard->Release(*r), IsOk());
  EXPECT_THAT(guard->Release(*r), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(guard->GetState(p)->reserved_micros, 0);
  EXPECT_THAT(guard->Reserve(p, 1000, "m"), IsOk());
}

TEST_P(BudgetStoreTest, CommitMovesActualCostAndIsNotRepeatable) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(1000);
  auto a = guard->Reserve(p, 400, "m");
  auto b = guard->Reserve(p, 300, "m");
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  ASSERT_THAT(guard->Commit(*a, {"m", 1, 0, 2, 0, 150, "q"}), IsOk());
  auto state = guard->GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->spent_micros, 150);
  EXPECT_EQ(state->reserved_micros, 300);
  EXPECT_EQ(state->remaining_micros, 550);
  // Committing twice records nothing more.
  EXPECT_THAT(guard->Commit(*a, {"m", 1, 0, 2, 0, 150, "q"}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(guard->GetState(p)->spent_micros, 150);
  // Nor can a committed reservation be released.
  EXPECT_THAT(guard->Release(*a), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(guard->GetState(p)->reserved_micros, 300);
}

TEST_P(BudgetStoreTest, CommitAfterReleaseIsRefused) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(1000);
  auto r = guard->Reserve(p, 400, "m");
  ASSERT_THAT(r, IsOk());
  ASSERT_THAT(guard->Release(*r), IsOk());
  EXPECT_THAT(guard->Commit(*r, {"m", 1, 0, 2, 0, 150, "q"}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  auto state = guard->GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->spent_micros, 0);
  EXPECT_EQ(state->reserved_micros, 0);
  EXPECT_TRUE(state->spent_by_model_micros.empty());
}

TEST_P(BudgetStoreTest, NegativeAmountsAreInvalid) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(1000);
  EXPECT_THAT(guard->Reserve(p, -1, "m"), StatusIs(absl::StatusCode::kInvalidArgument));
  auto r = guard->Reserve(p, 300, "m");
  ASSERT_THAT(r, IsOk());
  EXPECT_THAT(guard->Commit(*r, {"m", 1, 0, 2, 0, -1, "q"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // The refused commit left the reservation open.
  EXPECT_EQ(guard->GetState(p)->reserved_micros, 300);
  EXPECT_THAT(guard->Commit(*r, {"m", 1, 0, 2, 0, 100, "q"}), IsOk());
  EXPECT_EQ(guard->GetState(p)->spent_micros, 100);
}

TEST_P(BudgetStoreTest, NewPeriodStartsFromZero) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(1000);
  auto r = guard->Reserve(p, 1000, "m");
  ASSERT_THAT(r, IsOk());
  ASSERT_THAT(guard->Commit(*r, {"m", 0, 0, 0, 0, 1000, "q"}), IsOk());
  EXPECT_THAT(guard->Reserve(p, 1, "m"), StatusIs(absl::StatusCode::kResourceExhausted));
  clock_.Set(Utc(2026, 12, 1, 0, 0, 1));
  auto state = guard->GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->spent_micros, 0);
  EXPECT_TRUE(state->spent_by_model_micros.empty());
  EXPECT_EQ(state->period_start, Utc(2026, 12, 1, 0, 0, 0));
  EXPECT_EQ(state->resets_at, Utc(2027, 1, 1, 0, 0, 0));
  EXPECT_THAT(guard->Reserve(p, 1000, "m"), IsOk());
}

TEST_P(BudgetStoreTest, SpendCommittedAfterThePeriodTurnedCountsInTheNewPeriod) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(1000);
  clock_.Set(Utc(2026, 11, 30, 23, 59, 0));
  auto r = guard->Reserve(p, 500, "m");
  ASSERT_THAT(r, IsOk());
  clock_.Set(Utc(2026, 12, 1, 0, 1, 0));
  ASSERT_THAT(guard->Commit(*r, {"m", 0, 0, 0, 0, 300, "q"}), IsOk());
  auto state = guard->GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->spent_micros, 300);
  EXPECT_EQ(state->reserved_micros, 0);
  EXPECT_EQ(state->spent_by_model_micros.at("m"), 300);
  EXPECT_THAT(guard->Reserve(p, 701, "m"), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(guard->Reserve(p, 700, "m"), IsOk());
}

TEST_P(BudgetStoreTest, PeriodsFollowThePracticeTimeZone) {
  BudgetOptions options;
  options.period = "day";
  auto guard = OpenGuard(options);
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(1000);
  ASSERT_TRUE(absl::LoadTimeZone("America/New_York", &p.time_zone));
  p.time_zone_name = "America/New_York";
  // 03:00 UTC on Dec 1 is still Nov 30 in New York.
  clock_.Set(Utc(2026, 12, 1, 3, 0, 0));
  auto r = guard->Reserve(p, 1000, "m");
  ASSERT_THAT(r, IsOk());
  ASSERT_THAT(guard->Commit(*r, {"m", 0, 0, 0, 0, 1000, "q"}), IsOk());
  auto denied = guard->Reserve(p, 1, "m");
  EXPECT_THAT(denied, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("daily budget")));
  EXPECT_THAT(denied, StatusIs(absl::StatusCode::kResourceExhausted,
                               HasSubstr("resets at 2026-12-01 00:00 EST")));
  EXPECT_EQ(guard->GetState(p)->period_start,
            absl::FromCivil(absl::CivilDay(2026, 11, 30), p.time_zone));
  // Midnight in New York is 05:00 UTC.
  clock_.Set(Utc(2026, 12, 1, 5, 0, 1));
  EXPECT_EQ(guard->GetState(p)->spent_micros, 0);
  EXPECT_THAT(guard->Reserve(p, 1000, "m"), IsOk());
}

TEST_P(BudgetStoreTest, PracticeOverridesCapsAndPeriod) {
  BudgetOptions defaults;
  defaults.period = "month";
  auto guard = OpenGuard(defaults);
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(1'000'000);
  p.budget_soft_cap = 0.5;
  p.budget_hard_cap = 1.5;
  p.budget_period = "day";
  auto state = guard->GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->period, "day");
  EXPECT_DOUBLE_EQ(state->soft_cap, 0.5);
  EXPECT_DOUBLE_EQ(state->hard_cap, 1.5);
  EXPECT_EQ(state->remaining_micros, 1'500'000) << "the hard cap may be above the limit";
  EXPECT_EQ(state->resets_at, Utc(2026, 11, 16, 0, 0, 0));
  auto r = guard->Reserve(p, 1'400'000, "m");
  ASSERT_THAT(r, IsOk());
  EXPECT_THAT(guard->Reserve(p, 200'000, "m"),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("daily budget")));
  EXPECT_THAT(guard->Reserve(p, 100'000, "m"), IsOk());
  ASSERT_THAT(guard->Commit(*r, {"m", 0, 0, 0, 0, 600'000, "q"}), IsOk());
  state = guard->GetState(p);
  EXPECT_TRUE(state->soft_cap_reached);
  EXPECT_FALSE(state->hard_cap_reached);
  // Another practice on the same store keeps the server's defaults.
  Practice other = MakePractice(1000);
  other.id = "other";
  auto other_state = guard->GetState(other);
  ASSERT_THAT(other_state, IsOk());
  EXPECT_EQ(other_state->period, "month");
  EXPECT_EQ(other_state->spent_micros, 0);
  // The next day starts from zero.
  clock_.Advance(absl::Hours(12));
  state = guard->GetState(p);
  EXPECT_EQ(state->spent_micros, 0);
}

TEST_P(BudgetStoreTest, SpendByModelSumsCommittedSpend) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(10'000);
  for (auto [model, micros] : std::vector<std::pair<std::string, int64_t>>{
           {"big", 1000}, {"small", 10}, {"big", 500}, {"small", 0}}) {
    auto r = guard->Reserve(p, 2000, model);
    ASSERT_THAT(r, IsOk());
    ASSERT_THAT(guard->Commit(*r, {model, 100, 20, 200, 0, micros, "q"}), IsOk());
  }
  auto released = guard->Reserve(p, 2000, "unused");
  ASSERT_THAT(released, IsOk());
  ASSERT_THAT(guard->Release(*released), IsOk());
  auto state = guard->GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->spent_micros, 1510);
  EXPECT_EQ(state->spent_by_model_micros,
            (std::map<std::string, int64_t>{{"big", 1500}, {"small", 10}}));
  // The totals alone: the same figures, without the sums by model.
  auto held = guard->Reserve(p, 700, "big");
  ASSERT_THAT(held, IsOk());
  auto full = guard->GetState(p);
  auto totals = guard->GetTotals(p);
  ASSERT_THAT(full, IsOk());
  ASSERT_THAT(totals, IsOk());
  EXPECT_EQ(totals->spent_micros, full->spent_micros);
  EXPECT_EQ(totals->reserved_micros, 700);
  EXPECT_EQ(totals->remaining_micros, full->remaining_micros);
  EXPECT_EQ(totals->soft_cap_reached, full->soft_cap_reached);
  EXPECT_EQ(totals->resets_at, full->resets_at);
  if (GetParam().durable) {
    EXPECT_TRUE(totals->spent_by_model_micros.empty());
  }
}

TEST_P(BudgetStoreTest, SixteenThreadsRacingGrantExactlyWhatTheCapAllows) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  constexpr int kAllowed = 50;
  Practice p = MakePractice(int64_t{kAllowed} * 1000);
  std::atomic<int> granted{0};
  std::atomic<int> errors{0};
  std::atomic<int64_t> max_seen{0};
  std::vector<std::thread> threads;
  threads.reserve(16);
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 8; ++i) {
        auto r = guard->Reserve(p, 1000, "m");
        if (r.ok()) {
          ++granted;
          // Half the questions spend their whole hold, half release it.
          absl::Status settled =
              i % 2 == 0 ? guard->Commit(*r, {"m", 1, 0, 1, 0, 1000, "q"}) : absl::OkStatus();
          if (!settled.ok()) ++errors;
        } else if (r.status().code() != absl::StatusCode::kResourceExhausted) {
          ++errors;
        }
        auto state = guard->GetState(p);
        if (!state.ok()) {
          ++errors;
          continue;
        }
        int64_t seen = state->reserved_micros + state->spent_micros;
        int64_t prev = max_seen.load();
        while (seen > prev && !max_seen.compare_exchange_weak(prev, seen)) {
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(granted.load(), kAllowed);
  EXPECT_LE(max_seen.load(), kAllowed * 1000);
  auto state = guard->GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_LE(state->spent_micros, kAllowed * 1000);
  EXPECT_EQ(state->spent_micros + state->reserved_micros, kAllowed * 1000);
}

TEST_P(DurableBudgetStoreTest, StateSurvivesClosingAndReopening) {
  Practice p = MakePractice(1000);
  Reservation open;
  {
    auto guard = OpenGuard();
    ASSERT_NE(guard, nullptr);
    auto r = guard->Reserve(p, 400, "gpt-a");
    ASSERT_THAT(r, IsOk());
    ASSERT_THAT(guard->Commit(*r, {"gpt-a", 5, 0, 6, 0, 250, "q1"}), IsOk());
    auto held = guard->Reserve(p, 100, "gpt-b");
    ASSERT_THAT(held, IsOk());
    open = *held;
  }
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  auto state = guard->GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->spent_micros, 250);
  EXPECT_EQ(state->reserved_micros, 100);
  EXPECT_EQ(state->spent_by_model_micros.at("gpt-a"), 250);
  // A reservation taken before the restart can still be settled, once.
  ASSERT_THAT(guard->Commit(open, {"gpt-b", 1, 0, 1, 0, 50, "q2"}), IsOk());
  EXPECT_THAT(guard->Commit(open, {"gpt-b", 1, 0, 1, 0, 50, "q2"}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  state = guard->GetState(p);
  EXPECT_EQ(state->spent_micros, 300);
  EXPECT_EQ(state->reserved_micros, 0);
}

TEST_P(DurableBudgetStoreTest, TwoReplicasNeverPassTheCapTogether) {
  auto a = OpenGuard();
  auto b = OpenGuard();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kAllowed = 37;
  Practice p = MakePractice(int64_t{kAllowed} * 1000);
  std::atomic<int> granted{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    BudgetGuard* guard = (t % 2 == 0 ? a : b).get();
    threads.emplace_back([&, guard, t] {
      for (int i = 0; i < 8; ++i) {
        auto r = guard->Reserve(p, 1000, "m");
        if (r.ok()) {
          ++granted;
          // Some are committed by the other replica.
          if (i % 3 == 0) {
            BudgetGuard* other = (t % 2 == 0 ? b : a).get();
            if (!other->Commit(*r, {"m", 1, 0, 1, 0, 1000, "q"}).ok()) ++errors;
          }
        } else if (r.status().code() != absl::StatusCode::kResourceExhausted) {
          ADD_FAILURE() << r.status();
          ++errors;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(granted.load(), kAllowed);
  for (BudgetGuard* guard : {a.get(), b.get()}) {
    auto state = guard->GetState(p);
    ASSERT_THAT(state, IsOk());
    EXPECT_EQ(state->spent_micros + state->reserved_micros, kAllowed * 1000);
  }
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM reservations") +
                QueryInt("SELECT COUNT(*) FROM ledger WHERE kind = 'commit'"),
            kAllowed);
}

TEST_P(DurableBudgetStoreTest, RacingCommitsOfOneReservationRecordItOnce) {
  auto a = OpenGuard();
  auto b = OpenGuard();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  Practice p = MakePractice(10'000);
  auto r = a->Reserve(p, 1000, "m");
  ASSERT_THAT(r, IsOk());
  std::atomic<int> committed{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    BudgetGuard* guard = (t % 2 == 0 ? a : b).get();
    threads.emplace_back([&, guard] {
      absl::Status s = guard->Commit(*r, {"m", 1, 0, 1, 0, 700, "q"});
      if (s.ok()) {
        ++committed;
      } else if (s.code() == absl::StatusCode::kFailedPrecondition) {
        ++refused;
      } else {
        ADD_FAILURE() << s;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(committed.load(), 1);
  EXPECT_EQ(refused.load(), 7);
  auto state = a->GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->spent_micros, 700);
  EXPECT_EQ(state->reserved_micros, 0);
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM ledger WHERE kind = 'commit'"), 1);
}

TEST_P(DurableBudgetStoreTest, AbandonedReservationExpiresAndALateCommitCountsOnce) {
  auto guard = OpenGuard({}, /*ttl=*/absl::Minutes(10));
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(1000);
  auto stale = guard->Reserve(p, 600, "m");
  ASSERT_THAT(stale, IsOk());
  EXPECT_THAT(guard->Reserve(p, 600, "m"), StatusIs(absl::StatusCode::kResourceExhausted));
  clock_.Advance(absl::Minutes(11));
  // Not swept yet, but no longer shown as held.
  EXPECT_EQ(guard->GetState(p)->reserved_micros, 0);
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM reservations"), 1);
  // The sweep before this reservation releases the stale hold.
  auto fresh = guard->Reserve(p, 600, "m");
  ASSERT_THAT(fresh, IsOk());
  EXPECT_EQ(guard->GetState(p)->reserved_micros, 600);
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM ledger WHERE kind = 'expire'"), 1);
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM reservations"), 1);
  // A late commit of the expired reservation still records its spend, once,
  // and does not take its hold out of reserved a second time.
  ASSERT_THAT(guard->Commit(*stale, {"m", 0, 0, 0, 0, 300, "late"}), IsOk());
  EXPECT_THAT(guard->Commit(*stale, {"m", 0, 0, 0, 0, 300, "late"}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  auto state = guard->GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->spent_micros, 300);
  EXPECT_EQ(state->reserved_micros, 600);
  EXPECT_THAT(guard->Release(*stale), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_P(DurableBudgetStoreTest, OpenSweepsReservationsOfACrashedProcess) {
  Practice p = MakePractice(1000);
  {
    auto guard = OpenGuard();
    ASSERT_NE(guard, nullptr);
    ASSERT_THAT(guard->Reserve(p, 700, "m"), IsOk());  // never settled
  }
  clock_.Advance(absl::Minutes(11));
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM reservations"), 0);
  EXPECT_EQ(QueryInt("SELECT SUM(reserved) FROM budget_periods"), 0);
  EXPECT_EQ(guard->GetState(p)->reserved_micros, 0);
}

TEST_P(DurableBudgetStoreTest, LedgerRecordsEveryChange) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(10'000);
  for (int64_t micros : {1000, 10, 500, 0}) {
    auto r = guard->Reserve(p, 2000, "m");
    ASSERT_THAT(r, IsOk());
    ASSERT_THAT(guard->Commit(*r, {"m", 100, 30, 200, 1500, micros, "q"}), IsOk());
  }
  auto released = guard->Reserve(p, 2000, "unused");
  ASSERT_THAT(released, IsOk());
  ASSERT_THAT(guard->Release(*released), IsOk());
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM ledger WHERE kind = 'reserve'"), 5);
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM ledger WHERE kind = 'commit'"), 4);
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM ledger WHERE kind = 'release'"), 1);
  EXPECT_EQ(QueryInt("SELECT SUM(micros) FROM ledger WHERE kind = 'commit'"), 1510);
  EXPECT_EQ(QueryInt("SELECT SUM(prompt_tokens) FROM ledger WHERE kind = 'commit'"), 400);
  EXPECT_EQ(QueryInt("SELECT SUM(cached_prompt_tokens) FROM ledger WHERE kind = 'commit'"), 120);
  EXPECT_EQ(QueryInt("SELECT SUM(completion_tokens) FROM ledger WHERE kind = 'commit'"), 800);
  EXPECT_EQ(QueryInt("SELECT SUM(sandbox_millis) FROM ledger WHERE kind = 'commit'"), 6000);
  EXPECT_EQ(QueryInt(absl::StrCat("SELECT COUNT(*) FROM ledger WHERE reservation_id = '",
                                  released->id, "' AND practice_id = 'clinic'")),
            2);
  EXPECT_EQ(QueryInt(absl::StrCat("SELECT MIN(at) FROM ledger")), absl::ToUnixMicros(clock_.Now()));
}

TEST_P(DurableBudgetStoreTest, HoldLeavesThePeriodItWasTakenIn) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(1000);
  clock_.Set(Utc(2026, 11, 30, 23, 59, 0));
  auto r = guard->Reserve(p, 500, "m");
  ASSERT_THAT(r, IsOk());
  clock_.Set(Utc(2026, 12, 1, 0, 1, 0));
  ASSERT_THAT(guard->Commit(*r, {"m", 0, 0, 0, 0, 300, "q"}), IsOk());
  EXPECT_EQ(QueryInt("SELECT SUM(reserved) FROM budget_periods"), 0);
  EXPECT_EQ(QueryInt(absl::StrCat("SELECT spent FROM budget_periods WHERE period_start = ",
                                  absl::ToUnixMicros(Utc(2026, 12, 1, 0, 0, 0)))),
            300);
  EXPECT_EQ(QueryInt(absl::StrCat("SELECT spent FROM budget_periods WHERE period_start = ",
                                  absl::ToUnixMicros(Utc(2026, 11, 1, 0, 0, 0)))),
            0);
}

TEST_P(DurableBudgetStoreTest, LedgerRefusesUpdateAndDelete) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(1000);
  ASSERT_THAT(guard->Reserve(p, 10, "m"), IsOk());
  EXPECT_THAT(store_->Exec("UPDATE ledger SET micros = 0"), Not(IsOk()));
  EXPECT_THAT(store_->Exec("DELETE FROM ledger"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("append-only")));
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM ledger WHERE micros = 10"), 1);
}

TEST_P(DurableBudgetStoreTest, RefusesANewerSchemaVersion) {
  { ASSERT_NE(OpenGuard(), nullptr); }
  ASSERT_THAT(store_->Exec("UPDATE schema_version SET version = 99"), IsOk());
  EXPECT_THAT(store_->Open({}, clock_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("version 99")));
}

INSTANTIATE_TEST_SUITE_P(AllStores, BudgetStoreTest, ::testing::ValuesIn(Stores(false)),
                         vet::testing::StoreName<Store>);
INSTANTIATE_TEST_SUITE_P(DurableStores, DurableBudgetStoreTest,
                         ::testing::ValuesIn(Stores(/*durable_only=*/true)),
                         vet::testing::StoreName<Store>);

// What only PostgreSQL has: a network between the guard and its data.
class PostgresBudgetGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<PostgresDatabase> database = FreshPostgresDatabase();
    ASSERT_THAT(database, IsOk());
    server_ = database->server;
    url_ = database->url();
  }
  FakeClock clock_{Utc(2026, 11, 15, 12, 0, 0)};
  PostgresServer* server_ = nullptr;
  std::string url_;
};

TEST_F(PostgresBudgetGuardTest, ReplicasStartingTogetherCreateTheSchemaOnce) {
  std::vector<absl::StatusOr<std::unique_ptr<PostgresBudgetGuard>>> guards(6);
  std::vector<std::thread> threads;
  PostgresBudgetOptions pg;
  pg.pool_size = 1;
  threads.reserve(guards.size());
  for (auto& guard : guards) {
    threads.emplace_back([&] { guard = PostgresBudgetGuard::Open(url_, {}, clock_, pg); });
  }
  for (auto& t : threads) t.join();
  for (auto& guard : guards) ASSERT_THAT(guard, IsOk());
  auto count =
      server_->Query("SELECT COUNT(*) FROM schema_version", url_.substr(url_.rfind('/') + 1));
  ASSERT_THAT(count, IsOk());
  EXPECT_EQ(*count, "1");
  Practice p = MakePractice(1000);
  EXPECT_THAT((*guards[0])->Reserve(p, 600, "m"), IsOk());
  EXPECT_THAT((*guards[5])->Reserve(p, 600, "m"), StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST_F(PostgresBudgetGuardTest, ConnectionFailuresAreUnavailableAndHideThePassword) {
  const std::string secret = "s3cret-pa55word";
  const std::string port = absl::StrCat(server_->port());
  // Nothing listens on port 1.
  auto refused = PostgresBudgetGuard::Open("postgres://postgres:" + secret + "@127.0.0.1:1/budget",
                                           {}, clock_);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("127.0.0.1:1/budget")));
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kUnavailable, Not(HasSubstr(secret))));
  auto wrong_password = PostgresBudgetGuard::Open(
      "postgres://postgres:" + secret + "@127.0.0.1:" + port + "/postgres", {}, clock_);
  EXPECT_THAT(wrong_password, StatusIs(absl::StatusCode::kUnavailable,
                                       HasSubstr("password authentication failed")));
  EXPECT_THAT(wrong_password, StatusIs(absl::StatusCode::kUnavailable, Not(HasSubstr(secret))));
  // The right password, a database that does not exist.
  auto missing = PostgresBudgetGuard::Open(absl::StrCat("postgres://postgres:", server_->password(),
                                                        "@127.0.0.1:", port, "/no_such_database"),
                                           {}, clock_);
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kUnavailable,
                                HasSubstr("127.0.0.1:" + port + "/no_such_database")));
  EXPECT_THAT(missing,
              StatusIs(absl::StatusCode::kUnavailable, Not(HasSubstr(server_->password()))));
  EXPECT_THAT(
      PostgresBudgetGuard::Open("postgres://u:" + secret + "@127.0.0.1:1/db?bogus=1", {}, clock_),
      StatusIs(absl::StatusCode::kInvalidArgument, Not(HasSubstr(secret))));
  BudgetOptions bad;
  bad.period = "week";
  EXPECT_THAT(PostgresBudgetGuard::Open(url_, bad, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("BUDGET_PERIOD")));
}

TEST_F(PostgresBudgetGuardTest, KeepsWorkingAcrossADatabaseRestart) {
  auto guard = PostgresBudgetGuard::Open(url_, {}, clock_);
  ASSERT_THAT(guard, IsOk());
  Practice p = MakePractice(1000);
  auto r = (*guard)->Reserve(p, 400, "m");
  ASSERT_THAT(r, IsOk());
  ASSERT_THAT(server_->Restart(), IsOk());
  // Every pooled connection broke; each reconnects on its next use.
  for (int i = 0; i < 8; ++i) {
    auto state = (*guard)->GetState(p);
    ASSERT_THAT(state, IsOk());
    EXPECT_EQ(state->reserved_micros, 400);
  }
  ASSERT_THAT((*guard)->Commit(*r, {"m", 0, 0, 0, 0, 250, "q"}), IsOk());
  EXPECT_EQ((*guard)->GetState(p)->spent_micros, 250);
}

}  // namespace
}  // namespace vet::budget
