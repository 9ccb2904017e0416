// SqliteSessionStore. Every write is one transaction that re-checks the
// session is live (practice, not ended, not expired) in its WHERE clause, so
// a session ended or purged by another process is never written to. Turn
// numbers come from the session row's counter, incremented in the same
// BEGIN IMMEDIATE transaction that inserts the turn.
#include "core/session/sqlite_session_store.h"

#include <sqlite3.h>

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/common/status_macros.h"
#include "core/session/store_common.h"

namespace vet::session {
namespace {

// How long a write waits for another process's transaction on the file: far
// longer than any transaction here takes, short enough to report an
// abandoned lock.
constexpr int kBusyTimeoutMillis = 5000;

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what) {
  std::string message = absl::StrCat("sqlite session store: ", what, ": ", sqlite3_errmsg(db));
  int primary = rc & 0xff;
  // Another process held the file past the busy timeout: worth retrying.
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

// A prepared statement: bind by position, step, read columns. Finalized on
// destruction. (The same helper as core/budget/sqlite_budget_guard.cc.)
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db), sql_(sql) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int64_t v) {
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_int64(stmt_, ++index_, v);
    return *this;
  }
  Statement& Bind(const std::string& v) {
    if (rc_ == SQLITE_OK) {
      rc_ = sqlite3_bind_text(stmt_, ++index_, v.data(), static_cast<int>(v.size()),
                              SQLITE_TRANSIENT);
    }
    return *this;
  }

  // True when a row is ready to read, false when the statement is done.
  absl::StatusOr<bool> Step() {
    if (rc_ != SQLITE_OK) return SqliteError(db_, rc_, sql_);
    // Stepping a finished statement would silently run it again.
    if (done_) return false;
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) {
      done_ = true;
      return false;
    }
    rc_ = rc;
    return SqliteError(db_, rc, sql_);
  }
  // Runs to completion, ignoring any rows.
  absl::Status Run() {
    while (true) {
      VET_ASSIGN_OR_RETURN(bool row, Step());
      if (!row) return absl::OkStatus();
    }
  }

  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string Text(int column) const {
    const unsigned char* text = sqlite3_column_text(stmt_, column);
    return text == nullptr ? std::string()
                           : std::string(reinterpret_cast<const char*>(text),
                                         sqlite3_column_bytes(stmt_, column));
  }

 private:
  sqlite3* db_;
  const char* sql_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
  int index_ = 0;
  bool done_ = false;
};

absl::Status Exec(sqlite3* db, const char* sql) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, sql);
  return absl::OkStatus();
}

// BEGIN IMMEDIATE (write) or BEGIN (read: one snapshot for a session and its
// turns). A write transaction takes the write lock up front, waiting up to
// the busy timeout, so it never fails with BUSY half-way. Rolls back unless
// Commit() succeeded.
class Transaction {
 public:
  static absl::StatusOr<std::unique_ptr<Transaction>> Begin(sqlite3* db, bool write) {
    VET_RETURN_IF_ERROR(Exec(db, write ? "BEGIN IMMEDIATE" : "BEGIN"));
    return std::unique_ptr<Transaction>(new Transaction(db));
  }
  ~Transaction() {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  absl::Status Commit() {
    VET_RETURN_IF_ERROR(Exec(db_, "COMMIT"));
    open_ = false;
    return absl::OkStatus();
  }

 private:
  explicit Transaction(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  bool open_ = true;
};

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  practice_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_active_at INTEGER NOT NULL,
  ended INTEGER NOT NULL DEFAULT 0 CHECK (ended IN (0, 1)),
  turn_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sessions_by_activity
  ON sessions (practice_id, last_active_at DESC, id);
CREATE INDEX IF NOT EXISTS sessions_by_last_active ON sessions (last_active_at);
CREATE TABLE IF NOT EXISTS session_turns (
  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  question TEXT NOT NULL,
  as_of_date TEXT NOT NULL,
  code TEXT NOT NULL,
  answer TEXT NOT NULL,
  summary TEXT NOT NULL,
  plan TEXT NOT NULL,
  status INTEGER NOT NULL,
  cost_micros INTEGER NOT NULL,
  asked_at INTEGER NOT NULL,
  PRIMARY KEY (session_id, number)
);
)sql";

// The columns of a session, in the order ReadSession expects.
constexpr char kLiveSession[] =
    "SELECT id, practice_id, created_at, last_active_at FROM sessions"
    " WHERE id = ? AND practice_id = ? AND ended = 0 AND last_active_at >= ?";

SessionRecord ReadSession(const Statement& row) {
  SessionRecord s;
  s.id = row.Text(0);
  s.practice_id = row.Text(1);
  s.created_at = absl::FromUnixMicros(row.Int(2));
  s.last_active_at = absl::FromUnixMicros(row.Int(3));
  return s;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteSessionStore>> SqliteSessionStore::Open(
    const std::string& path, const Clock& clock, SessionOptions options) {
  VET_RETURN_IF_ERROR(internal::ValidateSessionOptions(options));
  sqlite3* db = nullptr;
  // NOMUTEX: the store's own mutex serializes use of the connection.
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open session database '", path, "': ", message));
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMillis);
  std::unique_ptr<SqliteSessionStore> store(new SqliteSessionStore(db, clock, options));
  absl::Status s;
  {
    absl::MutexLock lock(&store->mu_);
    s = store->InitSchema();
  }
  if (!s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open session database '", path, "': ", s.message()));
  }
  return store;
}

SqliteSessionStore::SqliteSessionStore(sqlite3* db, const Clock& clock, SessionOptions options)
    : clock_(clock), options_(options), db_(db) {}

SqliteSessionStore::~SqliteSessionStore() { sqlite3_close(db_); }

absl::Status SqliteSessionStore::InitSchema() {
  // WAL lets readers run beside the one writer; FULL syncs the WAL on every
  // commit, so an appended turn survives kill -9 and power loss alike.
  {
    Statement wal(db_, "PRAGMA journal_mode=WAL");
    VET_ASSIGN_OR_RETURN(bool row, wal.Step());
    if (!row || wal.Text(0) != "wal") {
      return absl::InternalError(
          absl::StrCat("journal_mode=WAL not accepted (got '", row ? wal.Text(0) : "", "')"));
    }
  }
  VET_RETURN_IF_ERROR(Exec(db_, "PRAGMA synchronous=FULL"));
  VET_RETURN_IF_ERROR(Exec(db_, "PRAGMA foreign_keys=ON"));
  VET_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_, /*write=*/true));
  VET_RETURN_IF_ERROR(
      Exec(db_, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
  Statement read(db_, "SELECT MAX(version) FROM schema_version");
  VET_ASSIGN_OR_RETURN(bool row, read.Step());
  const int64_t version = row ? read.Int(0) : 0;
  if (version > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the file has session schema version ", version, "; this build understands up to ",
        kSchemaVersion, ". Run a newer server, or restore the previous file."));
  }
  if (version == kSchemaVersion) return txn->Commit();
  VET_RETURN_IF_ERROR(Exec(db_, kSchema));
  VET_RETURN_IF_ERROR(Statement(db_, "INSERT INTO schema_version (version) VALUES (?)")
                          .Bind(int64_t{kSchemaVersion})
                          .Run());
  return txn->Commit();
}

absl::Status SqliteSessionStore::ReadTurns(SessionRecord& session) {
  Statement turns(db_,
                  "SELECT number, question, as_of_date, code, answer, summary, plan,"
                  " status, cost_micros, asked_at FROM session_turns"
                  " WHERE session_id = ? ORDER BY number");
  turns.Bind(session.id);
  while (true) {
    VET_ASSIGN_OR_RETURN(bool row, turns.Step());
    if (!row) return absl::OkStatus();
    TurnRecord t;
    t.number = static_cast<int>(turns.Int(0));
    t.question = turns.Text(1);
    t.as_of_date = turns.Text(2);
    t.code = turns.Text(3);
    t.answer = turns.Text(4);
    t.summary = turns.Text(5);
    t.plan = turns.Text(6);
    t.status = static_cast<absl::StatusCode>(turns.Int(7));
    t.cost_micros = turns.Int(8);
    t.asked_at = absl::FromUnixMicros(turns.Int(9));
    session.turns.push_back(std::move(t));
  }
}

absl::StatusOr<SessionRecord> SqliteSessionStore::Create(const std::string& practice_id) {
  const SessionRecord s = internal::NewSession(practice_id, clock_);
  absl::MutexLock lock(&mu_);
  VET_RETURN_IF_ERROR(Statement(db_,
                                "INSERT INTO sessions (id, practice_id, created_at, last_active_at)"
                                " VALUES (?, ?, ?, ?)")
                          .Bind(s.id)
                          .Bind(practice_id)
                          .Bind(Micros(s.created_at))
                          .Bind(Micros(s.last_active_at))
                          .Run());
  return s;
}

absl::StatusOr<SessionRecord> SqliteSessionStore::Get(const std::string& practice_id,
                                                      const std::string& session_id) {
  const int64_t live_since = internal::LiveSinceMicros(internal::NowMicros(clock_), options_.ttl);
  absl::MutexLock lock(&mu_);
  VET_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_, /*write=*/false));
  Statement find(db_, kLiveSession);
  find.Bind(session_id).Bind(practice_id).Bind(live_since);
  VET_ASSIGN_OR_RETURN(bool found, find.Step());
  if (!found) return SessionNotFound(session_id);
  SessionRecord s = ReadSession(find);
  VET_RETURN_IF_ERROR(find.Run());
  VET_RETURN_IF_ERROR(ReadTurns(s));
  VET_RETURN_IF_ERROR(txn->Commit());
  return s;
}

absl::Status SqliteSessionStore::AppendTurn(const std::string& practice_id,
                                            const std::string& session_id, TurnRecord turn) {
  const absl::Time now = internal::NowMicros(clock_);
  absl::MutexLock lock(&mu_);
  VET_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_, /*write=*/true));
  // MAX: a replica whose clock lags never moves the activity time back.
  Statement claim(db_,
                  "UPDATE sessions SET turn_count = turn_count + 1,"
                  " last_active_at = MAX(last_active_at, ?1)"
                  " WHERE id = ?2 AND practice_id = ?3 AND ended = 0 AND last_active_at >= ?4"
                  " RETURNING turn_count");
  claim.Bind(Micros(now))
      .Bind(session_id)
      .Bind(practice_id)
      .Bind(internal::LiveSinceMicros(now, options_.ttl));
  VET_ASSIGN_OR_RETURN(bool live, claim.Step());
  if (!live) return SessionNotFound(session_id);
  const int64_t number = claim.Int(0);
  VET_RETURN_IF_ERROR(claim.Run());
  VET_RETURN_IF_ERROR(
      Statement(db_,
                "INSERT INTO session_turns (session_id, number, question, as_of_date, code,"
                " answer, summary, plan, status, cost_micros, asked_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
          .Bind(session_id)
          .Bind(number)
          .Bind(turn.question)
          .Bind(turn.as_of_date)
          .Bind(turn.code)
          .Bind(turn.answer)
          .Bind(turn.summary)
          .Bind(turn.plan)
          .Bind(static_cast<int64_t>(turn.status))
          .Bind(turn.cost_micros)
          .Bind(Micros(turn.asked_at))
          .Run());
  return txn->Commit();
}

absl::Status SqliteSessionStore::End(const std::string& practice_id,
                                     const std::string& session_id) {
  const int64_t live_since = internal::LiveSinceMicros(internal::NowMicros(clock_), options_.ttl);
  absl::MutexLock lock(&mu_);
  // Kept (NOT_FOUND) until Purge deletes it with its turns.
  Statement end(db_,
                "UPDATE sessions SET ended = 1"
                " WHERE id = ? AND practice_id = ? AND ended = 0 AND last_active_at >= ?"
                " RETURNING id");
  end.Bind(session_id).Bind(practice_id).Bind(live_since);
  VET_ASSIGN_OR_RETURN(bool ended, end.Step());
  VET_RETURN_IF_ERROR(end.Run());
  if (!ended) return SessionNotFound(session_id);
  return absl::OkStatus();
}

absl::StatusOr<SessionPage> SqliteSessionStore::List(const std::string& practice_id, int page_size,
                                                     const std::string& page_token) {
  VET_ASSIGN_OR_RETURN(const internal::ListRequest request,
                       internal::ParseListRequest(page_size, page_token, clock_, options_.ttl));
  const std::optional<internal::PageKey>& after = request.after;
  const int size = request.page_size;
  const int64_t live_since = request.live_since_micros;
  absl::MutexLock lock(&mu_);
  VET_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_, /*write=*/false));
  // One row more than the page, to know whether there is a next page.
  Statement list(db_,
                 "SELECT id, practice_id, created_at, last_active_at FROM sessions"
                 " WHERE practice_id = ?1 AND ended = 0 AND last_active_at >= ?2"
                 "   AND (?3 = 0 OR last_active_at < ?4"
                 "        OR (last_active_at = ?4 AND id > ?5))"
                 " ORDER BY last_active_at DESC, id LIMIT ?6");
  list.Bind(practice_id)
      .Bind(live_since)
      .Bind(int64_t{after.has_value() ? 1 : 0})
      .Bind(after.has_value() ? after->last_active_micros : int64_t{0})
      .Bind(after.has_value() ? after->id : std::string())
      .Bind(int64_t{size} + 1);
  SessionPage page;
  bool more = false;
  while (true) {
    VET_ASSIGN_OR_RETURN(bool row, list.Step());
    if (!row) break;
    if (static_cast<int>(page.sessions.size()) == size) {
      more = true;
      VET_RETURN_IF_ERROR(list.Run());
      break;
    }
    page.sessions.push_back(ReadSession(list));
  }
  for (SessionRecord& s : page.sessions) VET_RETURN_IF_ERROR(ReadTurns(s));
  VET_RETURN_IF_ERROR(txn->Commit());
  if (more) page.next_page_token = internal::NextPageToken(page.sessions.back());
  return page;
}

absl::StatusOr<int> SqliteSessionStore::Purge() {
  const int64_t live_since = internal::LiveSinceMicros(internal::NowMicros(clock_), options_.ttl);
  absl::MutexLock lock(&mu_);
  VET_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(db_, /*write=*/true));
  // The turns go first and explicitly: the cascade is a second line, in case
  // some other connection to the file left foreign keys off.
  VET_RETURN_IF_ERROR(Statement(db_,
                                "DELETE FROM session_turns WHERE session_id IN"
                                " (SELECT id FROM sessions WHERE ended = 1 OR last_active_at < ?)")
                          .Bind(live_since)
                          .Run());
  Statement purge(db_, "DELETE FROM sessions WHERE ended = 1 OR last_active_at < ? RETURNING id");
  purge.Bind(live_since);
  int removed = 0;
  while (true) {
    VET_ASSIGN_OR_RETURN(bool row, purge.Step());
    if (!row) break;
    ++removed;
  }
  VET_RETURN_IF_ERROR(txn->Commit());
  return removed;
}

}  // namespace vet::session
