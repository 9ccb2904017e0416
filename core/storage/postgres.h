// A small layer over libpq for the durable stores (budget now, sessions
// next): a fixed pool of connections, parameterised queries in text format,
// transactions that roll back unless committed and are retried on
// serialization failures and deadlocks, and one mapping from libpq errors to
// absl::Status. Never puts the password of a connection URL into a status.
#ifndef VET_CORE_STORAGE_POSTGRES_H_
#define VET_CORE_STORAGE_POSTGRES_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

struct pg_conn;
struct pg_result;

namespace vet::storage {

struct PostgresOptions {
  // Connections opened by Create and kept for the pool's lifetime; at most
  // this many statements run at once.
  int pool_size = 4;
  // Attempts of a transaction that fails with SQLSTATE 40001 (serialization
  // failure) or 40P01 (deadlock detected) before kUnavailable.
  int max_attempts = 4;
  // libpq connect_timeout, unless the URL sets its own.
  absl::Duration connect_timeout = absl::Seconds(10);
};

// One query parameter, sent in text format; nullopt is SQL NULL.
class PgParam {
 public:
  PgParam(int64_t v);             // NOLINT: implicit by design
  PgParam(int v);                 // NOLINT
  PgParam(absl::string_view v);   // NOLINT
  PgParam(const std::string& v);  // NOLINT
  PgParam(const char* v);         // NOLINT
  PgParam(std::nullopt_t);        // NOLINT
  // Raw bytes for a bytea parameter, sent in binary format (no escaping,
  // no doubling on the wire).
  static PgParam Bytes(absl::string_view bytes);
  const std::optional<std::string>& value() const { return value_; }
  bool binary() const { return binary_; }

 private:
  std::optional<std::string> value_;
  bool binary_ = false;
};

// The rows a statement returned. Move-only; frees the libpq result.
class PgResult {
 public:
  explicit PgResult(pg_result* result);
  ~PgResult();
  PgResult(PgResult&& other) noexcept;
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;

  int rows() const;
  // Rows changed by INSERT/UPDATE/DELETE without RETURNING.
  int64_t affected() const;
  bool IsNull(int row, int column) const;
  // Text of a column; "" for NULL.
  std::string Text(int row, int column) const;
  // A bytea column's bytes (the text form's hex decoded); "" for NULL.
  std::string Bytes(int row, int column) const;
  // A column parsed as a 64-bit integer; 0 for NULL. The column must be an
  // integer type (CHECK-fails otherwise: a programming error in the SQL).
  int64_t Int(int row, int column) const;

 private:
  friend class PgConnection;
  pg_result* result_;
};

// One libpq connection. Not thread-safe: a PostgresPool lends it to one
// thread at a time.
class PgConnection {
 public:
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement with $1.. parameters. Codes: kAborted for SQLSTATE
  // 40001/40P01 (PostgresPool::Transact retries those), kAlreadyExists for
  // 23505 (unique violation), kUnavailable when the connection is lost,
  // kInternal with the server's message otherwise.
  absl::StatusOr<PgResult> Exec(absl::string_view sql, std::initializer_list<PgParam> params = {});
  absl::StatusOr<PgResult> Exec(absl::string_view sql, const std::vector<PgParam>& params);

  // True when libpq considers the connection usable.
  bool ok() const;
  // True inside a transaction that a failed statement aborted.
  bool InFailedTransaction() const;
  // Reconnects a broken connection once (PQreset); kUnavailable naming
  // host, port and database when that fails.
  absl::Status Reset();
  // "host:port/database" of this connection: for messages; no credentials.
  std::string Describe() const;

 private:
  friend class PostgresPool;
  friend class PgListener;
  explicit PgConnection(pg_conn* conn) : conn_(conn) {}
  pg_conn* conn_;
};

// A fixed set of connections to one database. Thread-safe: each connection
// is used by one thread at a time; Acquire blocks until one is free.
class PostgresPool {
 public:
  // Opens `options.pool_size` connections to `url` (a libpq URI
  // "postgres://user:password@host:port/database" or a key=value string).
  // Returns kInvalidArgument for a malformed URL or options and kUnavailable
  // naming host, port and database (never the password) when the server
  // cannot be reached or refuses the login.
  static absl::StatusOr<std::unique_ptr<PostgresPool>> Create(const std::string& url,
                                                              PostgresOptions options = {});
  // All leases must have been returned.
  ~PostgresPool();
  PostgresPool(const PostgresPool&) = delete;
  PostgresPool& operator=(const PostgresPool&) = delete;

  // A connection on loan; returned to the pool on destruction.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();
    PgConnection& operator*() const { return *conn_; }
    PgConnection* operator->() const { return conn_; }

   private:
    friend class PostgresPool;
    Lease(PostgresPool* pool, PgConnection* conn) : pool_(pool), conn_(conn) {}
    PostgresPool* pool_;
    PgConnection* conn_;
  };

  // Blocks until a connection is free. A connection found broken is reset
  // once; kUnavailable if that fails (the connection stays in the pool and
  // is tried again next time).
  absl::StatusOr<Lease> Acquire();

  enum class Mode {
    kReadWrite,     // BEGIN (READ COMMITTED)
    kReadSnapshot,  // BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY
  };
  // Runs `body` inside BEGIN ... COMMIT on one connection. Rolls back when
  // `body` returns an error (which is returned unchanged) and runs `body`
  // again, up to max_attempts in all, when a statement or the COMMIT fails
  // with a serialization failure or deadlock. `body` must therefore have no
  // effects outside the transaction. kUnavailable when the connection is
  // lost or the conflicts persist.
  absl::Status Transact(const std::function<absl::Status(PgConnection&)>& body,
                        Mode mode = Mode::kReadWrite);

  // "host:port/database": for messages; no credentials.
  const std::string& description() const { return description_; }

 private:
  PostgresPool(PostgresOptions options, std::string description,
               std::vector<std::unique_ptr<PgConnection>> connections);
  void Return(PgConnection* conn);

  const PostgresOptions options_;
  const std::string description_;
  const std::vector<std::unique_ptr<PgConnection>> connections_;
  absl::Mutex mu_;
  std::vector<PgConnection*> free_ ABSL_GUARDED_BY(mu_);
};

// The transaction helper Transact uses, for callers that manage their own
// connection: BEGIN now, ROLLBACK on destruction unless Commit() succeeded.
class PgTransaction {
 public:
  static absl::StatusOr<PgTransaction> Begin(
      PgConnection& conn, PostgresPool::Mode mode = PostgresPool::Mode::kReadWrite);
  PgTransaction(PgTransaction&& other) noexcept;
  PgTransaction& operator=(PgTransaction&&) = delete;
  ~PgTransaction();
  absl::Status Commit();

 private:
  explicit PgTransaction(PgConnection* conn) : conn_(conn) {}
  PgConnection* conn_;
};

// A connection of its own that LISTENs on one channel and hands over the
// NOTIFY payloads that arrive. A lost connection is reopened (and LISTEN
// sent again) by the next Wait; notifications sent while it was down are
// lost, so callers poll as well. Not thread-safe: one thread waits.
class PgListener {
 public:
  // kInvalidArgument for a malformed URL or channel (letters, digits and
  // '_' only); kUnavailable when the server cannot be reached.
  static absl::StatusOr<std::unique_ptr<PgListener>> Create(const std::string& url,
                                                            const std::string& channel,
                                                            PostgresOptions options = {});
  ~PgListener();
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

  // Blocks up to `timeout` for notifications; returns their payloads (empty
  // after the timeout). kUnavailable when the connection is lost and could
  // not be reopened (after waiting out the timeout, so a loop calling it
  // does not spin).
  absl::StatusOr<std::vector<std::string>> Wait(absl::Duration timeout);

 private:
  PgListener(std::string url, std::string channel, PostgresOptions options)
      : url_(std::move(url)), channel_(std::move(channel)), options_(options) {}
  absl::Status Connect();

  const std::string url_;
  const std::string channel_;
  const PostgresOptions options_;
  pg_conn* conn_ = nullptr;
};

}  // namespace vet::storage

#endif  // VET_CORE_STORAGE_POSTGRES_H_
