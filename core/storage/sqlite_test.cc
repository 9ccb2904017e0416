// The SQLite layer on real files: values round-trip through Bind and Step,
// transactions roll back unless committed, a file locked by another
// connection is kUnavailable once the busy timeout has passed, WAL is really
// on, and the schema version is checked and recorded.
#include "core/storage/sqlite.h"

#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::storage {
namespace {

using ::testing::HasSubstr;
using ::vet::testing::IsOk;
using ::vet::testing::IsOkAndHolds;
using ::vet::testing::StatusIs;

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/storage_sqlite_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/test.sqlite3";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<SqliteDatabase> Open(absl::Duration busy_timeout = absl::Seconds(5)) {
    SqliteOptions options;
    options.name = "test";
    options.busy_timeout = busy_timeout;
    auto db = SqliteDatabase::Open(path_, options);
    EXPECT_THAT(db, IsOk());
    return db.ok() ? std::move(db).value() : nullptr;
  }

  static int64_t Count(SqliteDatabase& db, const char* sql) {
    SqliteStatement count(db, sql);
    absl::StatusOr<bool> row = count.Step();
    EXPECT_THAT(row, IsOk());
    return row.ok() && *row ? count.Int(0) : -1;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(SqliteTest, IntTextAndNullRoundTripThroughBindAndStep) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_THAT(db->Exec("CREATE TABLE t (i INTEGER, s TEXT, n TEXT)"), IsOk());
  const std::string text("h\xc3\xa9llo\0world", 11);  // UTF-8 and an embedded NUL
  ASSERT_THAT(SqliteStatement(*db, "INSERT INTO t VALUES (?, ?, ?)")
                  .Bind(int64_t{-9007199254740993})
                  .Bind(text)
                  .Bind(std::nullopt)
                  .Run(),
              IsOk());
  SqliteStatement read(*db, "SELECT i, s, n FROM t");
  ASSERT_THAT(read.Step(), IsOkAndHolds(true));
  EXPECT_EQ(read.Int(0), -9007199254740993);
  EXPECT_EQ(read.Text(1), text);
  EXPECT_FALSE(read.IsNull(0));
  EXPECT_FALSE(read.IsNull(1));
  EXPECT_TRUE(read.IsNull(2));
  EXPECT_EQ(read.Text(2), "");
  EXPECT_EQ(read.Int(2), 0);
  EXPECT_THAT(read.Step(), IsOkAndHolds(false));
  // A finished statement stays finished: it is not run a second time.
  SqliteStatement insert(*db, "INSERT INTO t (i) VALUES (1)");
  ASSERT_THAT(insert.Run(), IsOk());
  EXPECT_THAT(insert.Step(), IsOkAndHolds(false));
  EXPECT_EQ(Count(*db, "SELECT COUNT(*) FROM t"), 2);
}

TEST_F(SqliteTest, ErrorsNameTheStoreAndTheStatement) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  EXPECT_THAT(SqliteStatement(*db, "SELECT * FROM missing").Run(),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("sqlite test store: SELECT * FROM missing: no such table")));
  ASSERT_THAT(db->Exec("CREATE TABLE t (v INTEGER)"), IsOk());
  // A bind past the last parameter fails at the next Step, not silently.
  EXPECT_THAT(SqliteStatement(*db, "INSERT INTO t VALUES (?)").Bind(1).Bind(2).Run(),
              StatusIs(absl::StatusCode::kInternal));
  EXPECT_EQ(Count(*db, "SELECT COUNT(*) FROM t"), 0);
  EXPECT_THAT(db->Exec("NOT SQL"), StatusIs(absl::StatusCode::kInternal, HasSubstr("NOT SQL")));
}

TEST_F(SqliteTest, TransactionRollsBackUnlessCommitted) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_THAT(db->Exec("CREATE TABLE t (v INTEGER)"), IsOk());
  {
    auto txn = SqliteTransaction::Begin(*db);
    ASSERT_THAT(txn, IsOk());
    ASSERT_THAT(SqliteStatement(*db, "INSERT INTO t VALUES (?)").Bind(7).Run(), IsOk());
  }
  EXPECT_EQ(Count(*db, "SELECT COUNT(*) FROM t"), 0);
  {
    auto txn = SqliteTransaction::Begin(*db);
    ASSERT_THAT(txn, IsOk());
    ASSERT_THAT(SqliteStatement(*db, "INSERT INTO t VALUES (?)").Bind(8).Run(), IsOk());
    // Moving the transaction hands over the rollback, not a second one.
    SqliteTransaction moved = std::move(txn).value();
    ASSERT_THAT(moved.Commit(), IsOk());
  }
  EXPECT_EQ(Count(*db, "SELECT SUM(v) FROM t"), 8);
  // A read transaction is one snapshot: a write committed by another
  // connection meanwhile is not seen until it ends.
  auto other = Open();
  ASSERT_NE(other, nullptr);
  {
    auto snapshot = SqliteTransaction::Begin(*db, SqliteTransaction::Mode::kRead);
    ASSERT_THAT(snapshot, IsOk());
    EXPECT_EQ(Count(*db, "SELECT COUNT(*) FROM t"), 1);
    ASSERT_THAT(other->Exec("INSERT INTO t VALUES (9)"), IsOk());
    EXPECT_EQ(Count(*db, "SELECT COUNT(*) FROM t"), 1);
    ASSERT_THAT(snapshot->Commit(), IsOk());
  }
  EXPECT_EQ(Count(*db, "SELECT COUNT(*) FROM t"), 2);
}

TEST_F(SqliteTest, BusyFileIsUnavailableAfterTheTimeout) {
  auto holder = Open();
  ASSERT_NE(holder, nullptr);
  ASSERT_THAT(holder->Exec("CREATE TABLE t (v INTEGER)"), IsOk());
  auto hold = SqliteTransaction::Begin(*holder);
  ASSERT_THAT(hold, IsOk());

  constexpr absl::Duration kTimeout = absl::Milliseconds(300);
  auto waiter = Open(kTimeout);
  ASSERT_NE(waiter, nullptr);
  absl::Time start = absl::Now();
  auto blocked = SqliteTransaction::Begin(*waiter);
  const absl::Duration waited = absl::Now() - start;
  EXPECT_THAT(blocked, StatusIs(absl::StatusCode::kUnavailable,
                                HasSubstr("sqlite test store: BEGIN IMMEDIATE")));
  // It waited for the lock before giving up (SQLite sleeps the whole
  // timeout; a little slack for the clock).
  EXPECT_GE(waited, kTimeout - absl::Milliseconds(20));
  // A lone statement outside a transaction waits and fails the same way.
  EXPECT_THAT(SqliteStatement(*waiter, "INSERT INTO t VALUES (?)").Bind(1).Run(),
              StatusIs(absl::StatusCode::kUnavailable));
  // A reader is not blocked by the writer (WAL).
  EXPECT_EQ(Count(*waiter, "SELECT COUNT(*) FROM t"), 0);

  ASSERT_THAT(hold->Commit(), IsOk());
  auto now_free = SqliteTransaction::Begin(*waiter);
  ASSERT_THAT(now_free, IsOk());
  EXPECT_THAT(now_free->Commit(), IsOk());
}

TEST_F(SqliteTest, OpensTheFileInWalModeWithFullSync) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_THAT(db->Exec("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1)"), IsOk());
  // synchronous is per connection: FULL is 2.
  EXPECT_EQ(Count(*db, "PRAGMA synchronous"), 2);
  // WAL is recorded in the file: a plain connection opened separately sees it.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
  EXPECT_TRUE(std::filesystem::exists(path_ + "-wal"));
}

TEST_F(SqliteTest, OpenFailureNamesThePath) {
  SqliteOptions options;
  options.name = "test";
  const std::string path = dir_ + "/no/such/dir/test.sqlite3";
  EXPECT_THAT(SqliteDatabase::Open(path, options),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot open test database '" + path + "'")));
}

TEST_F(SqliteTest, MigrateSchemaRecordsTheVersionAndRefusesNewerFiles) {
  std::vector<int64_t> seen;
  auto create = [&](SqliteDatabase& db) {
    return [&](int64_t found) -> absl::Status {
      seen.push_back(found);
      return db.Exec("CREATE TABLE IF NOT EXISTS t (v INTEGER)");
    };
  };
  {
    auto db = Open();
    ASSERT_NE(db, nullptr);
    ASSERT_THAT(MigrateSchema(*db, 2, create(*db)), IsOk());
    // Opened again: the migration sees the version and records nothing new.
    ASSERT_THAT(MigrateSchema(*db, 2, create(*db)), IsOk());
    EXPECT_EQ(Count(*db, "SELECT COUNT(*) FROM schema_version"), 1);
    EXPECT_EQ(Count(*db, "SELECT MAX(version) FROM schema_version"), 2);
    // An older build refuses the file and changes nothing.
    EXPECT_THAT(MigrateSchema(*db, 1, create(*db)),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("the file has test schema version 2; this build understands "
                                   "up to 1")));
  }
  EXPECT_EQ(seen, (std::vector<int64_t>{0, 2}));

  // A failed migration rolls back everything, the version table included.
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  auto db = Open();
  ASSERT_NE(db, nullptr);
  EXPECT_THAT(MigrateSchema(*db, 1,
                            [&](int64_t) -> absl::Status {
                              EXPECT_THAT(db->Exec("CREATE TABLE u (v INTEGER)"), IsOk());
                              return absl::InternalError("migration failed");
                            }),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("migration failed")));
  EXPECT_EQ(Count(*db, "SELECT COUNT(*) FROM sqlite_master"), 0);
}

}  // namespace
}  // namespace vet::storage
