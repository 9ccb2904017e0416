// SqliteSessionStore. Every write is one transaction that re-checks the
// session is live (practice, not ended, not expired) in its WHERE clause, so
// a session ended or purged by another process is never written to. Turn
// numbers come from the session row's counter, incremented in the same
// BEGIN IMMEDIATE transaction that inserts the turn.
#include "core/session/sqlite_session_store.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/session/store_common.h"
#include "core/storage/sqlite.h"

namespace vet::session {
namespace {

using ::vet::storage::SqliteStatement;
using ::vet::storage::SqliteTransaction;

// How long a write waits for another process's transaction on the file: far
// longer than any transaction here takes, short enough to report an
// abandoned lock.
constexpr absl::Duration kBusyTimeout = absl::Seconds(5);

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  practice_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_active_at INTEGER NOT NULL,
  ended INTEGER NOT NULL DEFAULT 0 CHECK (ended IN (0, 1)),
  turn_count INTEGER NOT NULL DEFAULT 0,
  claimed_by TEXT NOT NULL DEFAULT '',
  claimed_until INTEGER NOT NULL DEFAULT 0
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

// The columns of a session, in the order ReadSession expects: a session
// not expired, ended or not (an ended one stays readable until purged).
constexpr char kKeptSession[] =
    "SELECT id, practice_id, created_at, last_active_at, ended FROM sessions"
    " WHERE id = ? AND practice_id = ? AND last_active_at >= ?";

SessionRecord ReadSession(const SqliteStatement& row) {
  SessionRecord s;
  s.id = row.Text(0);
  s.practice_id = row.Text(1);
  s.created_at = absl::FromUnixMicros(row.Int(2));
  s.last_active_at = absl::FromUnixMicros(row.Int(3));
  s.ended = row.Int(4) != 0;
  return s;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteSessionStore>> SqliteSessionStore::Open(
    const std::string& path, const Clock& clock, SessionOptions options) {
  VET_RETURN_IF_ERROR(internal::ValidateSessionOptions(options));
  storage::SqliteOptions storage_options;
  storage_options.name = "session";
  storage_options.busy_timeout = kBusyTimeout;
  VET_ASSIGN_OR_RETURN(std::unique_ptr<storage::SqliteDatabase> db,
                       storage::SqliteDatabase::Open(path, storage_options));
  std::unique_ptr<SqliteSessionStore> store(new SqliteSessionStore(std::move(db), clock, options));
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

SqliteSessionStore::SqliteSessionStore(std::unique_ptr<storage::SqliteDatabase> db,
                                       const Clock& clock, SessionOptions options)
    : clock_(clock), options_(options), db_(std::move(db)) {}

SqliteSessionStore::~SqliteSessionStore() = default;

absl::Status SqliteSessionStore::InitSchema() {
  VET_RETURN_IF_ERROR(db_->Exec("PRAGMA foreign_keys=ON"));
  return storage::MigrateSchema(*db_, kSchemaVersion, [this](int64_t found) -> absl::Status {
    mu_.AssertHeld();
    if (found == kSchemaVersion) return absl::OkStatus();
    return db_->Exec(kSchema);
  });
}

absl::Status SqliteSessionStore::ReadTurns(SessionRecord& session) {
  SqliteStatement turns(*db_,
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
  VET_RETURN_IF_ERROR(
      SqliteStatement(*db_,
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
  VET_ASSIGN_OR_RETURN(auto txn, SqliteTransaction::Begin(*db_, SqliteTransaction::Mode::kRead));
  SqliteStatement find(*db_, kKeptSession);
  find.Bind(session_id).Bind(practice_id).Bind(live_since);
  VET_ASSIGN_OR_RETURN(bool found, find.Step());
  if (!found) return SessionNotFound(session_id);
  SessionRecord s = ReadSession(find);
  VET_RETURN_IF_ERROR(find.Run());
  VET_RETURN_IF_ERROR(ReadTurns(s));
  VET_RETURN_IF_ERROR(txn.Commit());
  return s;
}

absl::Status SqliteSessionStore::AppendTurn(const std::string& practice_id,
                                            const std::string& session_id, TurnRecord turn) {
  const absl::Time now = internal::NowMicros(clock_);
  absl::MutexLock lock(&mu_);
  VET_ASSIGN_OR_RETURN(auto txn, SqliteTransaction::Begin(*db_, SqliteTransaction::Mode::kWrite));
  // MAX: a replica whose clock lags never moves the activity time back.
  SqliteStatement claim(*db_,
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
      SqliteStatement(*db_,
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
  return txn.Commit();
}

absl::Status SqliteSessionStore::End(const std::string& practice_id,
                                     const std::string& session_id) {
  const int64_t live_since = internal::LiveSinceMicros(internal::NowMicros(clock_), options_.ttl);
  absl::MutexLock lock(&mu_);
  // Readable (ended) until Purge deletes it with its turns; ending it again
  // is OK, so a client may retry.
  SqliteStatement end(*db_,
                      "UPDATE sessions SET ended = 1"
                      " WHERE id = ? AND practice_id = ? AND last_active_at >= ?"
                      " RETURNING id");
  end.Bind(session_id).Bind(practice_id).Bind(live_since);
  VET_ASSIGN_OR_RETURN(bool ended, end.Step());
  VET_RETURN_IF_ERROR(end.Run());
  if (!ended) return SessionNotFound(session_id);
  return absl::OkStatus();
}

absl::StatusOr<bool> SqliteSessionStore::TryClaim(const std::string& practice_id,
                                                  const std::string& session_id,
                                                  const std::string& holder, absl::Duration lease) {
  const absl::Time now = internal::NowMicros(clock_);
  const int64_t live_since = internal::LiveSinceMicros(now, options_.ttl);
  absl::MutexLock lock(&mu_);
  VET_ASSIGN_OR_RETURN(auto txn, SqliteTransaction::Begin(*db_, SqliteTransaction::Mode::kWrite));
  SqliteStatement claim(*db_,
                        "UPDATE sessions SET claimed_by = ?1, claimed_until = ?2"
                        " WHERE id = ?3 AND practice_id = ?4 AND ended = 0 AND last_active_at >= ?5"
                        "   AND (claimed_by = ?1 OR claimed_until < ?6)"
                        " RETURNING 1");
  claim.Bind(holder)
      .Bind(Micros(now + lease))
      .Bind(session_id)
      .Bind(practice_id)
      .Bind(live_since)
      .Bind(Micros(now));
  VET_ASSIGN_OR_RETURN(bool claimed, claim.Step());
  VET_RETURN_IF_ERROR(claim.Run());
  if (!claimed) {
    SqliteStatement live(*db_,
                         "SELECT 1 FROM sessions WHERE id = ? AND practice_id = ? AND ended = 0"
                         " AND last_active_at >= ?");
    live.Bind(session_id).Bind(practice_id).Bind(live_since);
    VET_ASSIGN_OR_RETURN(bool exists, live.Step());
    VET_RETURN_IF_ERROR(live.Run());
    if (!exists) return SessionNotFound(session_id);
  }
  VET_RETURN_IF_ERROR(txn.Commit());
  return claimed;
}

absl::Status SqliteSessionStore::ReleaseClaim(const std::string& session_id,
                                              const std::string& holder) {
  absl::MutexLock lock(&mu_);
  return SqliteStatement(*db_,
                         "UPDATE sessions SET claimed_by = '', claimed_until = 0"
                         " WHERE id = ? AND claimed_by = ?")
      .Bind(session_id)
      .Bind(holder)
      .Run();
}

absl::StatusOr<SessionPage> SqliteSessionStore::List(const std::string& practice_id, int page_size,
                                                     const std::string& page_token) {
  VET_ASSIGN_OR_RETURN(const internal::ListRequest request,
                       internal::ParseListRequest(page_size, page_token, clock_, options_.ttl));
  const std::optional<internal::PageKey>& after = request.after;
  const int size = request.page_size;
  const int64_t live_since = request.live_since_micros;
  absl::MutexLock lock(&mu_);
  VET_ASSIGN_OR_RETURN(auto txn, SqliteTransaction::Begin(*db_, SqliteTransaction::Mode::kRead));
  // One row more than the page, to know whether there is a next page.
  SqliteStatement list(*db_,
                       "SELECT id, practice_id, created_at, last_active_at, ended FROM sessions"
                       " WHERE practice_id = ?1 AND last_active_at >= ?2"
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
  VET_RETURN_IF_ERROR(txn.Commit());
  if (more) page.next_page_token = internal::NextPageToken(page.sessions.back());
  return page;
}

absl::StatusOr<int> SqliteSessionStore::Purge() {
  const int64_t live_since = internal::LiveSinceMicros(internal::NowMicros(clock_), options_.ttl);
  absl::MutexLock lock(&mu_);
  VET_ASSIGN_OR_RETURN(auto txn, SqliteTransaction::Begin(*db_, SqliteTransaction::Mode::kWrite));
  // The turns go first and explicitly: the cascade is a second line, in case
  // some other connection to the file left foreign keys off.
  VET_RETURN_IF_ERROR(SqliteStatement(*db_,
                                      "DELETE FROM session_turns WHERE session_id IN"
                                      " (SELECT id FROM sessions WHERE last_active_at < ?)")
                          .Bind(live_since)
                          .Run());
  SqliteStatement purge(*db_, "DELETE FROM sessions WHERE last_active_at < ? RETURNING id");
  purge.Bind(live_since);
  int removed = 0;
  while (true) {
    VET_ASSIGN_OR_RETURN(bool row, purge.Step());
    if (!row) break;
    ++removed;
  }
  VET_RETURN_IF_ERROR(txn.Commit());
  return removed;
}

absl::Status SqliteSessionStore::Discard(const std::string& practice_id,
                                         const std::string& session_id) {
  absl::MutexLock lock(&mu_);
  return SqliteStatement(*db_,
                         "DELETE FROM sessions WHERE id = ? AND practice_id = ?"
                         " AND NOT EXISTS (SELECT 1 FROM session_turns WHERE session_id = ?)")
      .Bind(session_id)
      .Bind(practice_id)
      .Bind(session_id)
      .Run();
}

}  // namespace vet::session
