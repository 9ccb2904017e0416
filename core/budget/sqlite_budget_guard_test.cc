#include "core/budget/sqlite_budget_guard.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "core/common/testing/fake_clock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::budget {
namespace {

using ::testing::HasSubstr;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

Practice MakePractice(int64_t limit_micros) {
  Practice p;
  p.id = "clinic";
  p.api_key = "clinic-key";
  p.budget_limit_micros = limit_micros;
  return p;
}

absl::Time Utc(int y, int mo, int d, int h, int mi, int s) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s),
                         absl::UTCTimeZone());
}

class SqliteBudgetGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/sqlite_budget_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/budget.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<SqliteBudgetGuard> OpenGuard(
      BudgetOptions options = {}, SqliteBudgetOptions sqlite = {}) {
    auto guard = SqliteBudgetGuard::Open(path_, options, clock_, sqlite);
    EXPECT_THAT(guard, IsOk());
    return guard.ok() ? std::move(guard).value() : nullptr;
  }

  // Runs `sql` on the file through a separate connection.
  void ExecSql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error),
              SQLITE_OK)
        << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }
  int64_t QueryInt(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr),
              SQLITE_OK);
    int64_t value = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
  }

  FakeClock clock_{Utc(2026, 11, 15, 12, 0, 0)};
  std::string dir_;
  std::string path_;
};

TEST_F(SqliteBudgetGuardTest, DeniesReservationThatWouldPassHardCap) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(1'000'000);
  auto r1 = guard->Reserve(p, 600'000, "m");
  ASSERT_THAT(r1, IsOk());
  auto denied = guard->Reserve(p, 500'000, "m");
  EXPECT_THAT(denied, StatusIs(absl::StatusCode::kResourceExhausted,
                               HasSubstr("resets at 2026-12-01 00:00")));
  EXPECT_THAT(denied,
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("has spent $0.00 of its $1.00 monthly budget "
                                 "($0.60 held")));
  ASSERT_THAT(guard->Commit(*r1, {"m", 10, 0, 20, 0, 700'000, "q1"}), IsOk());
  auto state = guard->GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->spent_micros, 700'000);
  EXPECT_EQ(state->reserved_micros, 0);
  EXPECT_EQ(state->remaining_micros, 300'000);
  EXPECT_FALSE(state->soft_cap_reached);
  EXPECT_EQ(state->spent_by_model_micros.at("m"), 700'000);
  EXPECT_EQ(state->period, "month");
  EXPECT_EQ(state->resets_at, Utc(2026, 12, 1, 0, 0, 0));
}

TEST_F(SqliteBudgetGuardTest, FreeReservationIsGrantedEvenWhenExhausted) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(100);
  auto r = guard->Reserve(p, 100, "m");
  ASSERT_THAT(r, IsOk());
  ASSERT_THAT(guard->Commit(*r, {"m", 0, 0, 0, 0, 100, "q"}), IsOk());
  EXPECT_THAT(guard->Reserve(p, 1, "m"),
              StatusIs(absl::StatusCode::kResourceExhausted));
  auto free = guard->Reserve(p, 0, "planner");
  ASSERT_THAT(free, IsOk());
  EXPECT_THAT(guard->Release(*free), IsOk());
  auto state = guard->GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_TRUE(state->soft_cap_reached);
  EXPECT_TRUE(state->hard_cap_reached);
  EXPECT_EQ(state->remaining_micros, 0);
}

TEST_F(SqliteBudgetGuardTest, SoftCapFollowsTheOption) {
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
  EXPECT_TRUE(state->soft_cap_reached);
  EXPECT_FALSE(state->hard_cap_reached);
}

TEST_F(SqliteBudgetGuardTest, DefaultLimitAppliesWhenThePracticeSetsNone) {
  BudgetOptions options;
  options.default_limit_micros = 2000;
  auto guard = OpenGuard(options);
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(-1);
  EXPECT_THAT(guard->Reserve(p, 2000, "m"), IsOk());
  EXPECT_THAT(guard->Reserve(p, 1, "m"),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(guard->GetState(p)->limit_micros, 2000);
}

TEST_F(SqliteBudgetGuardTest, ReleaseReturnsTheHoldAndIsNotRepeatable) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(1000);
  auto r = guard->Reserve(p, 1000, "m");
  ASSERT_THAT(r, IsOk());
  EXPECT_THAT(guard->Reserve(p, 1, "m"),
              StatusIs(absl::StatusCode::kResourceExhausted));
  ASSERT_THAT(guard->Release(*r), IsOk());
  EXPECT_THAT(guard->Release(*r),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(guard->GetState(p)->reserved_micros, 0);
  EXPECT_THAT(guard->Reserve(p, 1000, "m"), IsOk());
}

TEST_F(SqliteBudgetGuardTest, CommitMovesActualCostAndReleasesTheRest) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(1000);
  auto a = guard->Reserve(p, 400, "m");
  auto b = guard->Reserve(p, 300, "m");
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  ASSERT_THAT(guard->Commit(*a, {"m", 1, 0, 2, 0, 150, "q"}), IsOk());
  auto state = guard->GetState(p);
  EXPECT_EQ(state->spent_micros, 150);
  EXPECT_EQ(state->reserved_micros, 300);
  EXPECT_EQ(state->remaining_micros, 550);
  // Committing twice records nothing more.
  EXPECT_THAT(guard->Commit(*a, {"m", 1, 0, 2, 0, 150, "q"}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(guard->GetState(p)->spent_micros, 150);
  EXPECT_THAT(guard->Commit(*b, {"m", 1, 0, 2, 0, -1, "q"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(guard->Reserve(p, -1, "m"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SqliteBudgetGuardTest, NewPeriodStartsFromZero) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(1000);
  auto r = guard->Reserve(p, 1000, "m");
  ASSERT_THAT(guard->Commit(*r, {"m", 0, 0, 0, 0, 1000, "q"}), IsOk());
  clock_.Set(Utc(2026, 12, 1, 0, 0, 1));
  auto state = guard->GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->spent_micros, 0);
  EXPECT_TRUE(state->spent_by_model_micros.empty());
  EXPECT_EQ(state->period_start,
            absl::FromCivil(absl::CivilDay(2026, 12, 1), absl::UTCTimeZone()));
  EXPECT_THAT(guard->Reserve(p, 1000, "m"), IsOk());
}

TEST_F(SqliteBudgetGuardTest, SpendCommittedAfterThePeriodTurnedIsKept) {
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
  // And the hold left November's row.
  EXPECT_EQ(QueryInt("SELECT SUM(reserved) FROM budget_periods"), 0);
}

TEST_F(SqliteBudgetGuardTest, PeriodsFollowThePracticeTimeZone) {
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
  EXPECT_THAT(denied, StatusIs(absl::StatusCode::kResourceExhausted,
                               HasSubstr("daily budget")));
  EXPECT_THAT(denied, StatusIs(absl::StatusCode::kResourceExhausted,
                               HasSubstr("resets at 2026-12-01 00:00 EST")));
  auto state = guard->GetState(p);
  EXPECT_EQ(state->period_start,
            absl::FromCivil(absl::CivilDay(2026, 11, 30), p.time_zone));
  // Midnight in New York is 05:00 UTC.
  clock_.Set(Utc(2026, 12, 1, 5, 0, 1));
  EXPECT_EQ(guard->GetState(p)->spent_micros, 0);
  EXPECT_THAT(guard->Reserve(p, 1000, "m"), IsOk());
}

TEST_F(SqliteBudgetGuardTest, StateSurvivesClosingAndReopening) {
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
  // A reservation taken before the restart can still be settled.
  ASSERT_THAT(guard->Commit(open, {"gpt-b", 1, 0, 1, 0, 50, "q2"}), IsOk());
  state = guard->GetState(p);
  EXPECT_EQ(state->spent_micros, 300);
  EXPECT_EQ(state->reserved_micros, 0);
}

TEST_F(SqliteBudgetGuardTest, SpendByModelComesFromTheLedger) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(10'000);
  for (auto [model, micros] : std::vector<std::pair<std::string, int64_t>>{
           {"big", 1000}, {"small", 10}, {"big", 500}, {"small", 0}}) {
    auto r = guard->Reserve(p, 2000, model);
    ASSERT_THAT(r, IsOk());
    ASSERT_THAT(guard->Commit(*r, {model, 100, 0, 200, 0, micros, "q"}), IsOk());
  }
  auto released = guard->Reserve(p, 2000, "unused");
  ASSERT_THAT(released, IsOk());
  ASSERT_THAT(guard->Release(*released), IsOk());
  auto state = guard->GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->spent_micros, 1510);
  EXPECT_EQ(state->spent_by_model_micros,
            (std::map<std::string, int64_t>{{"big", 1500}, {"small", 10}}));
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM ledger WHERE kind = 'reserve'"), 5);
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM ledger WHERE kind = 'commit'"), 4);
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM ledger WHERE kind = 'release'"), 1);
  EXPECT_EQ(
      QueryInt("SELECT SUM(prompt_tokens) FROM ledger WHERE kind = 'commit'"),
      400);
}

TEST_F(SqliteBudgetGuardTest, LedgerIsAppendOnly) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(1000);
  ASSERT_THAT(guard->Reserve(p, 10, "m"), IsOk());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, "UPDATE ledger SET micros = 0", nullptr, nullptr,
                         nullptr),
            SQLITE_CONSTRAINT);
  EXPECT_EQ(sqlite3_exec(db, "DELETE FROM ledger", nullptr, nullptr, nullptr),
            SQLITE_CONSTRAINT);
  sqlite3_close(db);
}

TEST_F(SqliteBudgetGuardTest, ExpiredReservationIsReleasedBySweep) {
  SqliteBudgetOptions sqlite;
  sqlite.reservation_ttl = absl::Minutes(10);
  auto guard = OpenGuard({}, sqlite);
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(1000);
  auto stale = guard->Reserve(p, 600, "m");
  ASSERT_THAT(stale, IsOk());
  EXPECT_THAT(guard->Reserve(p, 600, "m"),
              StatusIs(absl::StatusCode::kResourceExhausted));
  clock_.Advance(absl::Minutes(11));
  // Not swept yet, but no longer shown as held.
  EXPECT_EQ(guard->GetState(p)->reserved_micros, 0);
  // The sweep before this reservation releases the stale hold.
  auto fresh = guard->Reserve(p, 600, "m");
  ASSERT_THAT(fresh, IsOk());
  EXPECT_EQ(guard->GetState(p)->reserved_micros, 600);
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM ledger WHERE kind = 'expire'"), 1);
  // A late commit of the expired reservation still records its spend, and
  // does not take its hold out of reserved a second time.
  ASSERT_THAT(guard->Commit(*stale, {"m", 0, 0, 0, 0, 300, "late"}), IsOk());
  auto state = guard->GetState(p);
  EXPECT_EQ(state->spent_micros, 300);
  EXPECT_EQ(state->reserved_micros, 600);
  EXPECT_THAT(guard->Release(*stale),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SqliteBudgetGuardTest, OpenSweepsReservationsOfACrashedProcess) {
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
  EXPECT_EQ(guard->GetState(p)->reserved_micros, 0);
}

TEST_F(SqliteBudgetGuardTest, RefusesANewerSchemaVersion) {
  { ASSERT_NE(OpenGuard(), nullptr); }
  ExecSql("UPDATE schema_version SET version = 99");
  EXPECT_THAT(
      SqliteBudgetGuard::Open(path_, {}, clock_),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("version 99")));
  EXPECT_THAT(
      SqliteBudgetGuard::Open(path_, {}, clock_),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(path_)));
}

TEST_F(SqliteBudgetGuardTest, OpenFailureNamesThePath) {
  std::string bad = dir_ + "/no/such/dir/budget.db";
  EXPECT_THAT(SqliteBudgetGuard::Open(bad, {}, clock_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(bad)));
  BudgetOptions options;
  options.period = "week";
  EXPECT_THAT(
      SqliteBudgetGuard::Open(path_, options, clock_),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("BUDGET_PERIOD")));
}

TEST_F(SqliteBudgetGuardTest, ConcurrentReservationsGrantExactlyTheCap) {
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  constexpr int kAllowed = 50;
  Practice p = MakePractice(kAllowed * 1000);
  std::atomic<int> granted{0};
  std::atomic<int64_t> max_reserved{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 8; ++i) {
        if (guard->Reserve(p, 1000, "m").ok()) ++granted;
        auto state = guard->GetState(p);
        if (state.ok()) {
          int64_t seen = state->reserved_micros + state->spent_micros;
          int64_t prev = max_reserved.load();
          while (seen > prev &&
                 !max_reserved.compare_exchange_weak(prev, seen)) {
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), kAllowed);
  EXPECT_LE(max_reserved.load(), kAllowed * 1000);
  EXPECT_EQ(guard->GetState(p)->reserved_micros, kAllowed * 1000);
}

TEST_F(SqliteBudgetGuardTest, TwoGuardsOnOneFileNeverPassTheCapTogether) {
  auto a = OpenGuard();
  auto b = OpenGuard();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kAllowed = 37;
  Practice p = MakePractice(kAllowed * 1000);
  std::atomic<int> granted{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    SqliteBudgetGuard* guard = (t % 2 == 0 ? a : b).get();
    threads.emplace_back([&, guard] {
      for (int i = 0; i < 8; ++i) {
        auto r = guard->Reserve(p, 1000, "m");
        if (r.ok()) {
          ++granted;
        } else if (r.status().code() != absl::StatusCode::kResourceExhausted) {
          ++errors;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(granted.load(), kAllowed);
  EXPECT_EQ(a->GetState(p)->reserved_micros, kAllowed * 1000);
  EXPECT_EQ(b->GetState(p)->reserved_micros, kAllowed * 1000);
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM reservations"), kAllowed);
}

TEST_F(SqliteBudgetGuardTest, CommittedSpendSurvivesKillDashNine) {
  Practice p = MakePractice(1'000'000);
  pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    // The child owns its own connection; it never returns into gtest.
    FakeClock clock(Utc(2026, 11, 15, 12, 0, 0));
    auto guard = SqliteBudgetGuard::Open(path_, {}, clock);
    if (!guard.ok()) _exit(2);
    auto r = (*guard)->Reserve(p, 5000, "m");
    if (!r.ok()) _exit(3);
    if (!(*guard)->Commit(*r, {"m", 7, 0, 8, 0, 4321, "killed"}).ok()) _exit(4);
    if (!(*guard)->Reserve(p, 1000, "m").ok()) _exit(5);  // left open
    raise(SIGKILL);
    _exit(6);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status))
      << "child exited with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  auto state = guard->GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->spent_micros, 4321);
  EXPECT_EQ(state->spent_by_model_micros.at("m"), 4321);
  // The dead process's open hold stays until it expires.
  EXPECT_EQ(state->reserved_micros, 1000);
  clock_.Advance(absl::Minutes(11));
  auto reopened = OpenGuard();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->GetState(p)->reserved_micros, 0);
}

TEST_F(SqliteBudgetGuardTest, UpgradesAVersionOneFileKeepingItsSpend) {
  // The version 1 schema as the previous release wrote it, with one spend.
  ExecSql(R"sql(
    CREATE TABLE schema_version (version INTEGER NOT NULL);
    INSERT INTO schema_version VALUES (1);
    CREATE TABLE budget_periods (practice_id TEXT NOT NULL, period_start INTEGER NOT NULL,
      time_zone TEXT NOT NULL, spent INTEGER NOT NULL DEFAULT 0,
      reserved INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (practice_id, period_start));
    CREATE TABLE reservations (id TEXT PRIMARY KEY, practice_id TEXT NOT NULL,
      period_start INTEGER NOT NULL, micros INTEGER NOT NULL, model TEXT NOT NULL,
      expires_at INTEGER NOT NULL);
    CREATE TABLE ledger (id INTEGER PRIMARY KEY, practice_id TEXT NOT NULL,
      period_start INTEGER NOT NULL, kind TEXT NOT NULL, model TEXT NOT NULL,
      prompt_tokens INTEGER NOT NULL DEFAULT 0, completion_tokens INTEGER NOT NULL DEFAULT 0,
      micros INTEGER NOT NULL, question_id TEXT NOT NULL DEFAULT '',
      reservation_id TEXT NOT NULL, at INTEGER NOT NULL);
  )sql");
  const int64_t period = absl::ToUnixMicros(Utc(2026, 11, 1, 0, 0, 0));
  ExecSql(absl::StrCat(
      "INSERT INTO budget_periods VALUES ('clinic', ", period, ", 'UTC', 1234, 0);"
      "INSERT INTO ledger (practice_id, period_start, kind, model, micros, reservation_id, at)"
      " VALUES ('clinic', ", period, ", 'commit', 'old-model', 1234, 'r1', 0);"));
  auto guard = OpenGuard();
  ASSERT_NE(guard, nullptr);
  Practice p = MakePractice(10'000);
  auto state = guard->GetState(p);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->spent_micros, 1234);
  EXPECT_EQ(state->spent_by_model_micros.at("old-model"), 1234);
  auto r = guard->Reserve(p, 100, "m");
  ASSERT_THAT(r, IsOk());
  ASSERT_THAT(guard->Commit(*r, {"m", 10, 4, 2, 1500, 100, "q"}), IsOk());
  EXPECT_EQ(QueryInt("SELECT MAX(version) FROM schema_version"), 2);
  EXPECT_EQ(QueryInt("SELECT cached_prompt_tokens FROM ledger WHERE question_id = 'q'"), 4);
  EXPECT_EQ(QueryInt("SELECT sandbox_millis FROM ledger WHERE question_id = 'q'"), 1500);
}

}  // namespace
}  // namespace vet::budget
