// The libpq layer against a throwaway PostgreSQL 15: transactions roll back
// unless committed, deadlocks are retried, errors keep their meaning, and
// the pool lends each connection to one thread at a time.
#include "core/storage/postgres.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/common/status_macros.h"
#include "gtest/gtest.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"

namespace vet::storage {
namespace {

using ::testing::HasSubstr;
using ::vet::testing::IsOk;
using ::vet::testing::PostgresServer;
using ::vet::testing::StatusIs;
using ::vet::testing::WaitUntil;

class PostgresTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = PostgresServer::Start();
    ASSERT_THAT(server, IsOk());
    server_ = std::move(server).value().release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    auto database = server_->CreateDatabase();
    ASSERT_THAT(database, IsOk());
    url_ = server_->url(*database);
  }
  std::unique_ptr<PostgresPool> MakePool(int size = 2) {
    PostgresOptions options;
    options.pool_size = size;
    auto pool = PostgresPool::Create(url_, options);
    EXPECT_THAT(pool, IsOk());
    return pool.ok() ? std::move(pool).value() : nullptr;
  }
  static int64_t Count(PostgresPool& pool, const std::string& table) {
    auto conn = pool.Acquire();
    if (!conn.ok()) return -1;
    auto result = (*conn)->Exec(absl::StrCat("SELECT COUNT(*) FROM ", table));
    return result.ok() ? result->Int(0, 0) : -1;
  }

  static PostgresServer* server_;
  std::string url_;
};
PostgresServer* PostgresTest::server_ = nullptr;

TEST_F(PostgresTest, TransactionRollsBackUnlessCommitted) {
  auto pool = MakePool();
  ASSERT_NE(pool, nullptr);
  {
    auto conn = pool->Acquire();
    ASSERT_THAT(conn, IsOk());
    ASSERT_THAT((*conn)->Exec("CREATE TABLE t (v BIGINT)"), IsOk());
    {
      auto txn = PgTransaction::Begin(**conn);
      ASSERT_THAT(txn, IsOk());
      ASSERT_THAT((*conn)->Exec("INSERT INTO t VALUES ($1::bigint)", {int64_t{7}}), IsOk());
    }
    auto txn = PgTransaction::Begin(**conn);
    ASSERT_THAT(txn, IsOk());
    ASSERT_THAT((*conn)->Exec("INSERT INTO t VALUES ($1::bigint)", {int64_t{8}}), IsOk());
    ASSERT_THAT(txn->Commit(), IsOk());
  }
  EXPECT_EQ(Count(*pool, "t"), 1);
  // A body that fails rolls back and its error comes back unchanged.
  EXPECT_THAT(pool->Transact([](PgConnection& conn) -> absl::Status {
    auto r = conn.Exec("INSERT INTO t VALUES (9)");
    if (!r.ok()) return r.status();
    return absl::NotFoundError("changed my mind");
  }),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(Count(*pool, "t"), 1);
  // A body that ignores a failed statement cannot commit the rest.
  EXPECT_THAT(pool->Transact([](PgConnection& conn) {
    conn.Exec("INSERT INTO t VALUES (10)").IgnoreError();
    conn.Exec("INSERT INTO no_such_table VALUES (1)").IgnoreError();
    return absl::OkStatus();
  }),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("aborted")));
  EXPECT_EQ(Count(*pool, "t"), 1);
}

TEST_F(PostgresTest, ErrorsKeepTheirMeaning) {
  auto pool = MakePool(1);
  ASSERT_NE(pool, nullptr);
  auto conn = pool->Acquire();
  ASSERT_THAT(conn, IsOk());
  ASSERT_THAT((*conn)->Exec("CREATE TABLE u (k TEXT PRIMARY KEY)"), IsOk());
  ASSERT_THAT((*conn)->Exec("INSERT INTO u VALUES ($1::text)", {"a"}), IsOk());
  EXPECT_THAT((*conn)->Exec("INSERT INTO u VALUES ($1::text)", {"a"}),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("23505")));
  EXPECT_THAT((*conn)->Exec("SELEC 1"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("syntax error")));
  auto nulls = (*conn)->Exec("SELECT $1::text IS NULL, $2::bigint", {std::nullopt, int64_t{-5}});
  ASSERT_THAT(nulls, IsOk());
  EXPECT_EQ(nulls->Text(0, 0), "t");
  EXPECT_EQ(nulls->Int(0, 1), -5);
  auto affected = (*conn)->Exec("DELETE FROM u");
  ASSERT_THAT(affected, IsOk());
  EXPECT_EQ(affected->affected(), 1);
}

TEST_F(PostgresTest, TransactRetriesTheLoserOfADeadlock) {
  PostgresOptions options;
  options.pool_size = 2;
  // Retries may collide again by chance; the test is about retrying, not
  // about giving up.
  options.max_attempts = 10;
  auto created = PostgresPool::Create(url_, options);
  ASSERT_THAT(created, IsOk());
  std::unique_ptr<PostgresPool> pool = std::move(created).value();
  ASSERT_THAT(pool->Transact([](PgConnection& conn) -> absl::Status {
    auto r = conn.Exec("CREATE TABLE rows (id INT PRIMARY KEY, v INT NOT NULL)");
    if (!r.ok()) return r.status();
    return conn.Exec("INSERT INTO rows VALUES (1, 0), (2, 0)").status();
  }),
              IsOk());
  std::atomic<int> attempts{0};
  std::atomic<int> first_locks{0};
  // Each side locks one row, waits until the other holds its row, then
  // takes the other's: a deadlock on the first attempt, none on the retry.
  auto side = [&](int first, int second) {
    bool first_attempt = true;
    return pool->Transact([&, first, second](PgConnection& conn) -> absl::Status {
      ++attempts;
      auto r = conn.Exec("UPDATE rows SET v = v + 1 WHERE id = $1::int", {first});
      if (!r.ok()) return r.status();
      if (first_attempt) {
        first_attempt = false;
        ++first_locks;
        if (!WaitUntil([&] { return first_locks.load() == 2; })) {
          return absl::DeadlineExceededError("the other side never locked its row");
        }
      }
      return conn.Exec("UPDATE rows SET v = v + 1 WHERE id = $1::int", {second}).status();
    });
  };
  absl::Status a, b;
  std::thread ta([&] { a = side(1, 2); });
  std::thread tb([&] { b = side(2, 1); });
  ta.join();
  tb.join();
  EXPECT_THAT(a, IsOk());
  EXPECT_THAT(b, IsOk());
  // At least one side lost the deadlock and ran again (PostgreSQL may,
  // rarely, cancel both).
  EXPECT_GE(attempts.load(), 3);
  auto conn = pool->Acquire();
  ASSERT_THAT(conn, IsOk());
  auto sum = (*conn)->Exec("SELECT SUM(v)::bigint FROM rows");
  ASSERT_THAT(sum, IsOk());
  EXPECT_EQ(sum->Int(0, 0), 4) << "each side's two updates, once";
}

TEST_F(PostgresTest, AcquireWaitsForAFreeConnection) {
  auto pool = MakePool(1);
  ASSERT_NE(pool, nullptr);
  std::atomic<bool> released{false};
  std::atomic<bool> acquired_early{false};
  std::thread waiter;
  {
    auto held = pool->Acquire();
    ASSERT_THAT(held, IsOk());
    waiter = std::thread([&] {
      auto conn = pool->Acquire();
      if (!released.load()) acquired_early = true;
      EXPECT_THAT(conn, IsOk());
    });
    // Give the waiter time to block; correctness does not depend on it.
    absl::SleepFor(absl::Milliseconds(50));
    released = true;
  }
  waiter.join();
  EXPECT_FALSE(acquired_early.load());
}

TEST_F(PostgresTest, ABrokenConnectionIsResetOnce) {
  auto pool = MakePool(1);
  ASSERT_NE(pool, nullptr);
  int64_t backend = 0;
  {
    auto conn = pool->Acquire();
    ASSERT_THAT(conn, IsOk());
    auto pid = (*conn)->Exec("SELECT pg_backend_pid()");
    ASSERT_THAT(pid, IsOk());
    backend = pid->Int(0, 0);
  }
  // An administrator (or a failover) ends the session under the pool.
  ASSERT_THAT(server_->Query(absl::StrCat("SELECT pg_terminate_backend(", backend, ")")), IsOk());
  EXPECT_THAT(pool->Transact([](PgConnection& conn) { return conn.Exec("SELECT 1").status(); }),
              IsOk());
  // Outside Transact a statement on a connection the server dropped fails
  // (it may or may not have run, so it is not repeated); the next Acquire
  // finds the connection broken and resets it.
  ASSERT_THAT(server_->Restart(), IsOk());
  {
    auto conn = pool->Acquire();
    ASSERT_THAT(conn, IsOk());
    EXPECT_THAT((*conn)->Exec("SELECT 1"), StatusIs(absl::StatusCode::kUnavailable));
  }
  EXPECT_GT(Count(*pool, "pg_class"), 0);
}

TEST_F(PostgresTest, BytesGoInAndComeBackExactly) {
  auto pool = MakePool();
  ASSERT_NE(pool, nullptr);
  auto conn = pool->Acquire();
  ASSERT_THAT(conn, IsOk());
  ASSERT_THAT((*conn)->Exec("CREATE TABLE blobs (data BYTEA)").status(), IsOk());
  std::string bytes;
  for (int i = 0; i < 3 * 256; ++i) bytes.push_back(static_cast<char>(i % 256));
  bytes += std::string("\\x00'\"", 6);
  ASSERT_THAT((*conn)->Exec("INSERT INTO blobs VALUES ($1)", {PgParam::Bytes(bytes)}).status(),
              IsOk());
  auto result = (*conn)->Exec("SELECT data, length(data) FROM blobs");
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->Bytes(0, 0), bytes);
  EXPECT_EQ(result->Int(0, 1), static_cast<int64_t>(bytes.size()));
}

TEST_F(PostgresTest, AListenerReceivesNotificationsAndTimesOutWithoutThem) {
  auto listener = PgListener::Create(url_, "vet_test_channel");
  ASSERT_THAT(listener, IsOk());
  auto quiet = (*listener)->Wait(absl::Milliseconds(50));
  ASSERT_THAT(quiet, IsOk());
  EXPECT_TRUE(quiet->empty());

  auto pool = MakePool();
  ASSERT_NE(pool, nullptr);
  ASSERT_THAT(pool->Transact([](PgConnection& c) {
    VET_RETURN_IF_ERROR(c.Exec("SELECT pg_notify('vet_test_channel', 'alpha')").status());
    return c.Exec("SELECT pg_notify('vet_test_channel', 'beta')").status();
  }),
              IsOk());
  std::vector<std::string> got;
  for (int i = 0; i < 20 && got.size() < 2; ++i) {
    auto some = (*listener)->Wait(absl::Seconds(1));
    ASSERT_THAT(some, IsOk());
    got.insert(got.end(), some->begin(), some->end());
  }
  EXPECT_EQ(got, (std::vector<std::string>{"alpha", "beta"}));

  EXPECT_THAT(PgListener::Create(url_, "bad channel; DROP TABLE x").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("letters, digits and '_'")));
}

}  // namespace
}  // namespace vet::storage
