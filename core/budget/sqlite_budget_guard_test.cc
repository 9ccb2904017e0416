// What only the SQLite store has: a file path, kill -9 of a process holding
// the file, and the version 1 schema of an earlier release. The behaviour
// every store shares is tested in budget_store_test.cc.
#include "core/budget/sqlite_budget_guard.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

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
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
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

  std::unique_ptr<SqliteBudgetGuard> OpenGuard(BudgetOptions options = {},
                                               SqliteBudgetOptions sqlite = {}) {
    auto guard = SqliteBudgetGuard::Open(path_, std::move(options), clock_, sqlite);
    EXPECT_THAT(guard, IsOk());
    return guard.ok() ? std::move(guard).value() : nullptr;
  }

  // Runs `sql` on the file through a separate connection.
  void ExecSql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }
  int64_t QueryInt(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
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

TEST_F(SqliteBudgetGuardTest, RefusesANewerSchemaVersion) {
  { ASSERT_NE(OpenGuard(), nullptr); }
  ExecSql("UPDATE schema_version SET version = 99");
  EXPECT_THAT(SqliteBudgetGuard::Open(path_, {}, clock_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("version 99")));
  EXPECT_THAT(SqliteBudgetGuard::Open(path_, {}, clock_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(path_)));
}

TEST_F(SqliteBudgetGuardTest, OpenFailureNamesThePath) {
  std::string bad = dir_ + "/no/such/dir/budget.db";
  EXPECT_THAT(SqliteBudgetGuard::Open(bad, {}, clock_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(bad)));
  BudgetOptions options;
  options.period = "week";
  EXPECT_THAT(SqliteBudgetGuard::Open(path_, options, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("BUDGET_PERIOD")));
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
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
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
      "INSERT INTO budget_periods VALUES ('clinic', ", period,
      ", 'UTC', 1234, 0);"
      "INSERT INTO ledger (practice_id, period_start, kind, model, micros, reservation_id, at)"
      " VALUES ('clinic', ",
      period, ", 'commit', 'old-model', 1234, 'r1', 0);"));
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
