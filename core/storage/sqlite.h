// A small layer over SQLite for the durable stores (budget, sessions): one
// connection opened for durability (WAL, synchronous=FULL, a busy timeout),
// prepared statements bound by position, transactions that roll back unless
// committed, the schema_version check, and one mapping from SQLite errors to
// absl::Status. sqlite3.h stays out of this header.
#ifndef VET_CORE_STORAGE_SQLITE_H_
#define VET_CORE_STORAGE_SQLITE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

struct sqlite3;
struct sqlite3_stmt;

namespace vet::storage {

struct SqliteOptions {
  // What the file holds ("budget", "session"): messages say "cannot open
  // <name> database '<path>'", "sqlite <name> store: ..." and "<name> schema
  // version".
  std::string name = "sqlite";
  // How long a statement waits for another connection's lock on the file
  // before failing with kUnavailable.
  absl::Duration busy_timeout = absl::Seconds(5);
};

// One connection to a SQLite file. Not thread-safe (opened NOMUTEX): the
// owner serializes all use, e.g. behind its own mutex. Several connections,
// in this process or others, may share a file; SQLite's locks coordinate.
class SqliteDatabase {
 public:
  // Opens or creates the file at `path`, sets the busy timeout and switches
  // to journal_mode=WAL (readers run beside the one writer) and
  // synchronous=FULL (a commit survives a crash of the process or the
  // machine). Returns kFailedPrecondition naming the path and SQLite's
  // message when the file cannot be opened or refuses WAL.
  static absl::StatusOr<std::unique_ptr<SqliteDatabase>> Open(const std::string& path,
                                                              SqliteOptions options = {});
  ~SqliteDatabase();
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  // Runs one or more statements, ignoring any rows.
  absl::Status Exec(const char* sql);

  // The status for SQLite result code `rc` on this connection:
  // "sqlite <name> store: <what>: <SQLite's message>", kUnavailable when the
  // file stayed locked past the busy timeout (SQLITE_BUSY, SQLITE_LOCKED:
  // worth retrying), kInternal otherwise.
  absl::Status Error(int rc, absl::string_view what) const;

  const SqliteOptions& options() const { return options_; }

 private:
  friend class SqliteStatement;
  SqliteDatabase(sqlite3* db, SqliteOptions options) : db_(db), options_(std::move(options)) {}

  sqlite3* const db_;
  const SqliteOptions options_;
};

// A prepared statement: bind by position, step, read columns. Finalized on
// destruction; `db` and `sql` must outlive it. An error in preparing or
// binding is returned by the next Step or Run.
class SqliteStatement {
 public:
  SqliteStatement(SqliteDatabase& db, const char* sql);
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  // Bind the next parameter (?1, ?2, ... in call order).
  SqliteStatement& Bind(int64_t v);
  SqliteStatement& Bind(const std::string& v);
  SqliteStatement& Bind(std::nullopt_t);

  // True when a row is ready to read, false when the statement is done
  // (and stays done: it is never run again).
  absl::StatusOr<bool> Step();
  // Runs to completion, ignoring any rows.
  absl::Status Run();

  // Columns of the current row; NULL reads as 0 and "".
  bool IsNull(int column) const;
  int64_t Int(int column) const;
  std::string Text(int column) const;

 private:
  SqliteDatabase& db_;
  const char* sql_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
  int index_ = 0;
  bool done_ = false;
};

// BEGIN now; ROLLBACK on destruction unless Commit() succeeded. A write
// transaction is BEGIN IMMEDIATE: it takes the write lock up front (waiting
// up to the busy timeout), so it never has to upgrade a read lock and fail
// with kUnavailable half-way. A read transaction (BEGIN) is one snapshot.
class SqliteTransaction {
 public:
  enum class Mode { kWrite, kRead };
  static absl::StatusOr<SqliteTransaction> Begin(SqliteDatabase& db, Mode mode = Mode::kWrite);
  SqliteTransaction(SqliteTransaction&& other) noexcept;
  SqliteTransaction& operator=(SqliteTransaction&&) = delete;
  ~SqliteTransaction();
  absl::Status Commit();

 private:
  explicit SqliteTransaction(SqliteDatabase* db) : db_(db) {}
  SqliteDatabase* db_;  // null once committed or moved from
};

// Creates or upgrades a schema in one write transaction: creates table
// schema_version(version) if missing and reads the version recorded (0 for
// a new file); returns kFailedPrecondition ("the file has <name> schema
// version N; this build understands up to `version`...") when it is newer
// than `version`; otherwise calls `migrate(found)` (also when found ==
// `version`, so it must then change nothing: CREATE ... IF NOT EXISTS, or
// return early), records `version` when found was older and commits. Any
// error rolls everything back.
absl::Status MigrateSchema(SqliteDatabase& db, int64_t version,
                           const std::function<absl::Status(int64_t found)>& migrate);

}  // namespace vet::storage

#endif  // VET_CORE_STORAGE_SQLITE_H_
