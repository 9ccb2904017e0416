// The SQLite layer of the durable stores. Everything that turns a SQLite
// result code into an absl::Status goes through SqliteDatabase::Error, so
// both stores report a locked file the same way (kUnavailable).
#include "core/storage/sqlite.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"

namespace vet::storage {

absl::StatusOr<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const std::string& path,
                                                                     SqliteOptions options) {
  const std::string context =
      absl::StrCat("cannot open ", options.name, " database '", path, "': ");
  sqlite3* db = nullptr;
  // NOMUTEX: the owner serializes use of the connection.
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return absl::FailedPreconditionError(absl::StrCat(context, message));
  }
  sqlite3_busy_timeout(db, static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
  std::unique_ptr<SqliteDatabase> database(new SqliteDatabase(db, std::move(options)));
  // WAL lets readers run beside the one writer; FULL syncs the WAL on every
  // commit, so a commit survives kill -9 and power loss alike.
  absl::Status s = [&]() -> absl::Status {
    SqliteStatement wal(*database, "PRAGMA journal_mode=WAL");
    VET_ASSIGN_OR_RETURN(bool row, wal.Step());
    if (!row || wal.Text(0) != "wal") {
      return absl::InternalError(
          absl::StrCat("journal_mode=WAL not accepted (got '", row ? wal.Text(0) : "", "')"));
    }
    return database->Exec("PRAGMA synchronous=FULL");
  }();
  if (!s.ok()) return absl::FailedPreconditionError(absl::StrCat(context, s.message()));
  return database;
}

SqliteDatabase::~SqliteDatabase() { sqlite3_close(db_); }

absl::Status SqliteDatabase::Exec(const char* sql) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(rc, sql);
  return absl::OkStatus();
}

absl::Status SqliteDatabase::Error(int rc, absl::string_view what) const {
  std::string message =
      absl::StrCat("sqlite ", options_.name, " store: ", what, ": ", sqlite3_errmsg(db_));
  const int primary = rc & 0xff;
  // Another connection held the file past the busy timeout: worth retrying.
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

SqliteStatement::SqliteStatement(SqliteDatabase& db, const char* sql) : db_(db), sql_(sql) {
  rc_ = sqlite3_prepare_v2(db.db_, sql, -1, &stmt_, nullptr);
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

SqliteStatement& SqliteStatement::Bind(int64_t v) {
  if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_int64(stmt_, ++index_, v);
  return *this;
}

SqliteStatement& SqliteStatement::Bind(const std::string& v) {
  if (rc_ == SQLITE_OK) {
    rc_ =
        sqlite3_bind_text(stmt_, ++index_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  return *this;
}

SqliteStatement& SqliteStatement::Bind(std::nullopt_t) {
  if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_null(stmt_, ++index_);
  return *this;
}

absl::StatusOr<bool> SqliteStatement::Step() {
  if (rc_ != SQLITE_OK) return db_.Error(rc_, sql_);
  // Stepping a finished statement would silently run it again.
  if (done_) return false;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) {
    done_ = true;
    return false;
  }
  rc_ = rc;
  return db_.Error(rc, sql_);
}

absl::Status SqliteStatement::Run() {
  while (true) {
    VET_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return absl::OkStatus();
  }
}

bool SqliteStatement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t SqliteStatement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string SqliteStatement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  return text == nullptr ? std::string()
                         : std::string(reinterpret_cast<const char*>(text),
                                       sqlite3_column_bytes(stmt_, column));
}

absl::StatusOr<SqliteTransaction> SqliteTransaction::Begin(SqliteDatabase& db, Mode mode) {
  VET_RETURN_IF_ERROR(db.Exec(mode == Mode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN"));
  return SqliteTransaction(&db);
}

SqliteTransaction::SqliteTransaction(SqliteTransaction&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)) {}

SqliteTransaction::~SqliteTransaction() {
  // Best effort: a failed ROLLBACK leaves nothing to undo that closing the
  // connection would not.
  if (db_ != nullptr) db_->Exec("ROLLBACK").IgnoreError();
}

absl::Status SqliteTransaction::Commit() {
  VET_RETURN_IF_ERROR(db_->Exec("COMMIT"));
  db_ = nullptr;
  return absl::OkStatus();
}

absl::Status MigrateSchema(SqliteDatabase& db, int64_t version,
                           const std::function<absl::Status(int64_t found)>& migrate) {
  VET_ASSIGN_OR_RETURN(SqliteTransaction txn, SqliteTransaction::Begin(db));
  VET_RETURN_IF_ERROR(
      db.Exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
  SqliteStatement read(db, "SELECT MAX(version) FROM schema_version");
  VET_ASSIGN_OR_RETURN(bool row, read.Step());
  const int64_t found = row ? read.Int(0) : 0;
  if (found > version) {
    return absl::FailedPreconditionError(
        absl::StrCat("the file has ", db.options().name, " schema version ", found,
                     "; this build understands up to ", version,
                     ". Run a newer server, or restore the previous file."));
  }
  VET_RETURN_IF_ERROR(migrate(found));
  if (found < version) {
    VET_RETURN_IF_ERROR(
        SqliteStatement(db, "INSERT INTO schema_version (version) VALUES (?)").Bind(version).Run());
  }
  return txn.Commit();
}

}  // namespace vet::storage
