// PostgresSessionStore. Every write is one statement that re-checks the
// session is live (practice, not ended, not expired) in its WHERE clause, so
// a session another replica ended or purged is never written to. READ
// COMMITTED is enough: AppendTurn's UPDATE locks the session row, and a
// concurrent one waits and then re-reads the row it increments.
#include "core/session/postgres_session_store.h"

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/status_macros.h"
#include "core/session/store_common.h"

namespace vet::session {
namespace {

using storage::PgConnection;
using storage::PgResult;
using storage::PostgresPool;

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

// pg_advisory_xact_lock key serializing schema creation across replicas:
// "vet_sess" in ASCII (the budget's is "vet_budg").
constexpr int64_t kSchemaLockKey = 0x7665745f73657373;

// One statement each: PQexecParams runs a single statement at a time.
constexpr const char* kSchema[] = {
    R"sql(CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  practice_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_active_at BIGINT NOT NULL,
  ended BOOLEAN NOT NULL DEFAULT false,
  turn_count INTEGER NOT NULL DEFAULT 0,
  claimed_by TEXT NOT NULL DEFAULT '',
  claimed_until BIGINT NOT NULL DEFAULT 0))sql",
    R"sql(CREATE INDEX IF NOT EXISTS sessions_by_activity
  ON sessions (practice_id, last_active_at DESC, id))sql",
    "CREATE INDEX IF NOT EXISTS sessions_by_last_active ON sessions (last_active_at)",
    R"sql(CREATE TABLE IF NOT EXISTS session_turns (
  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  question TEXT NOT NULL,
  as_of_date TEXT NOT NULL,
  code TEXT NOT NULL,
  answer TEXT NOT NULL,
  summary TEXT NOT NULL,
  plan TEXT NOT NULL,
  status INTEGER NOT NULL,
  cost_micros BIGINT NOT NULL,
  asked_at BIGINT NOT NULL,
  PRIMARY KEY (session_id, number)))sql",
};

constexpr char kTurnColumns[] =
    "session_id, number, question, as_of_date, code, answer, summary, plan, status,"
    " cost_micros, asked_at";

SessionRecord ReadSession(const PgResult& rows, int row) {
  SessionRecord s;
  s.id = rows.Text(row, 0);
  s.practice_id = rows.Text(row, 1);
  s.created_at = absl::FromUnixMicros(rows.Int(row, 2));
  s.last_active_at = absl::FromUnixMicros(rows.Int(row, 3));
  s.ended = rows.Text(row, 4) == "t";
  return s;
}

// Row `row` of a SELECT of kTurnColumns.
TurnRecord ReadTurn(const PgResult& rows, int row) {
  TurnRecord t;
  t.number = static_cast<int>(rows.Int(row, 1));
  t.question = rows.Text(row, 2);
  t.as_of_date = rows.Text(row, 3);
  t.code = rows.Text(row, 4);
  t.answer = rows.Text(row, 5);
  t.summary = rows.Text(row, 6);
  t.plan = rows.Text(row, 7);
  t.status = static_cast<absl::StatusCode>(rows.Int(row, 8));
  t.cost_micros = rows.Int(row, 9);
  t.asked_at = absl::FromUnixMicros(rows.Int(row, 10));
  return t;
}

// The turns of `sessions`, in number order, read into them.
absl::Status ReadTurns(PgConnection& conn, std::vector<SessionRecord>& sessions) {
  if (sessions.empty()) return absl::OkStatus();
  std::map<std::string, SessionRecord*> by_id;
  std::vector<std::string> ids;
  for (SessionRecord& s : sessions) {
    by_id[s.id] = &s;
    ids.push_back(s.id);
  }
  // An array literal: ids are hex (internal::NewSession), never quoted.
  VET_ASSIGN_OR_RETURN(PgResult turns,
                       conn.Exec(absl::StrCat("SELECT ", kTurnColumns,
                                              " FROM session_turns"
                                              " WHERE session_id = ANY($1::text[])"
                                              " ORDER BY session_id, number"),
                                 {absl::StrCat("{", absl::StrJoin(ids, ","), "}")}));
  for (int i = 0; i < turns.rows(); ++i) {
    by_id.at(turns.Text(i, 0))->turns.push_back(ReadTurn(turns, i));
  }
  return absl::OkStatus();
}

absl::Status WithContext(const absl::Status& s) {
  if (s.ok() || s.code() == absl::StatusCode::kNotFound) return s;
  return absl::Status(s.code(), absl::StrCat("postgres session store: ", s.message()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresSessionStore>> PostgresSessionStore::Open(
    const std::string& url, const Clock& clock, SessionOptions options, int pool_size) {
  VET_RETURN_IF_ERROR(internal::ValidateSessionOptions(options));
  if (pool_size < 1) {
    return absl::InvalidArgumentError("pool_size must be at least 1");
  }
  storage::PostgresOptions pool_options;
  pool_options.pool_size = pool_size;
  absl::StatusOr<std::unique_ptr<PostgresPool>> pool = PostgresPool::Create(url, pool_options);
  if (!pool.ok()) {
    return absl::Status(pool.status().code(),
                        absl::StrCat("session store: ", pool.status().message()));
  }
  std::unique_ptr<PostgresSessionStore> store(
      new PostgresSessionStore(std::move(pool).value(), clock, options));
  absl::Status s = store->InitSchema();
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat("cannot open the session store in postgres ",
                                               store->pool_->description(), ": ", s.message()));
  }
  return store;
}

PostgresSessionStore::PostgresSessionStore(std::unique_ptr<PostgresPool> pool, const Clock& clock,
                                           SessionOptions options)
    : clock_(clock), options_(options), pool_(std::move(pool)) {}

absl::Status PostgresSessionStore::InitSchema() {
  return pool_->Transact([](PgConnection& conn) -> absl::Status {
    // Replicas starting together: the first creates, the others wait here
    // and then find the version row.
    VET_RETURN_IF_ERROR(
        conn.Exec("SELECT pg_advisory_xact_lock($1::bigint)", {kSchemaLockKey}).status());
    VET_RETURN_IF_ERROR(conn.Exec("CREATE TABLE IF NOT EXISTS session_schema_version"
                                  " (version INTEGER NOT NULL)")
                            .status());
    VET_ASSIGN_OR_RETURN(PgResult read,
                         conn.Exec("SELECT COALESCE(MAX(version), 0) FROM session_schema_version"));
    const int64_t version = read.Int(0, 0);
    if (version > kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the database has session schema version ", version, "; this build understands up to ",
          kSchemaVersion, ". Run a newer server, or restore the previous database."));
    }
    if (version == kSchemaVersion) return absl::OkStatus();
    for (const char* statement : kSchema) {
      VET_RETURN_IF_ERROR(conn.Exec(statement).status());
    }
    return conn
        .Exec("INSERT INTO session_schema_version (version) VALUES ($1::integer)", {kSchemaVersion})
        .status();
  });
}

absl::StatusOr<SessionRecord> PostgresSessionStore::Create(const std::string& practice_id) {
  const SessionRecord s = internal::NewSession(practice_id, clock_);
  VET_RETURN_IF_ERROR(WithContext(pool_->Transact([&](PgConnection& conn) {
    return conn
        .Exec(
            "INSERT INTO sessions (id, practice_id, created_at, last_active_at)"
            " VALUES ($1::text, $2::text, $3::bigint, $3::bigint)",
            {s.id, practice_id, Micros(s.created_at)})
        .status();
  })));
  return s;
}

absl::StatusOr<SessionRecord> PostgresSessionStore::Get(const std::string& practice_id,
                                                        const std::string& session_id) {
  const int64_t live_since = internal::LiveSinceMicros(internal::NowMicros(clock_), options_.ttl);
  std::vector<SessionRecord> found;
  // One snapshot for the session and its turns.
  VET_RETURN_IF_ERROR(WithContext(pool_->Transact(
      [&](PgConnection& conn) -> absl::Status {
        found.clear();
        VET_ASSIGN_OR_RETURN(
            PgResult row,
            conn.Exec("SELECT id, practice_id, created_at, last_active_at, ended FROM sessions"
                      " WHERE id = $1::text AND practice_id = $2::text"
                      "   AND last_active_at >= $3::bigint",
                      {session_id, practice_id, live_since}));
        if (row.rows() == 0) return absl::OkStatus();
        found.push_back(ReadSession(row, 0));
        return ReadTurns(conn, found);
      },
      PostgresPool::Mode::kReadSnapshot)));
  if (found.empty()) return SessionNotFound(session_id);
  return std::move(found.front());
}

absl::Status PostgresSessionStore::AppendTurn(const std::string& practice_id,
                                              const std::string& session_id, TurnRecord turn) {
  const absl::Time now = internal::NowMicros(clock_);
  bool live = false;
  VET_RETURN_IF_ERROR(WithContext(pool_->Transact([&](PgConnection& conn) -> absl::Status {
    // GREATEST: a replica whose clock lags never moves the activity time back.
    VET_ASSIGN_OR_RETURN(
        PgResult appended,
        conn.Exec(
            R"sql(
WITH claimed AS (
  UPDATE sessions SET turn_count = turn_count + 1,
                      last_active_at = GREATEST(last_active_at, $3::bigint)
  WHERE id = $1::text AND practice_id = $2::text AND NOT ended
    AND last_active_at >= $4::bigint
  RETURNING id, turn_count)
INSERT INTO session_turns (session_id, number, question, as_of_date, code, answer,
                           summary, plan, status, cost_micros, asked_at)
SELECT id, turn_count, $5::text, $6::text, $7::text, $8::text, $9::text, $10::text,
       $11::integer, $12::bigint, $13::bigint
FROM claimed RETURNING number)sql",
            {session_id, practice_id, Micros(now), internal::LiveSinceMicros(now, options_.ttl),
             turn.question, turn.as_of_date, turn.code, turn.answer, turn.summary, turn.plan,
             static_cast<int>(turn.status), turn.cost_micros, Micros(turn.asked_at)}));
    live = appended.rows() == 1;
    return absl::OkStatus();
  })));
  if (!live) return SessionNotFound(session_id);
  return absl::OkStatus();
}

absl::Status PostgresSessionStore::End(const std::string& practice_id,
                                       const std::string& session_id) {
  const int64_t live_since = internal::LiveSinceMicros(internal::NowMicros(clock_), options_.ttl);
  bool ended = false;
  // Readable (ended) until Purge deletes it with its turns; ending it again
  // is OK, so a client may retry.
  VET_RETURN_IF_ERROR(WithContext(pool_->Transact([&](PgConnection& conn) -> absl::Status {
    VET_ASSIGN_OR_RETURN(PgResult end, conn.Exec("UPDATE sessions SET ended = true"
                                                 " WHERE id = $1::text AND practice_id = $2::text"
                                                 "   AND last_active_at >= $3::bigint",
                                                 {session_id, practice_id, live_since}));
    ended = end.affected() == 1;
    return absl::OkStatus();
  })));
  if (!ended) return SessionNotFound(session_id);
  return absl::OkStatus();
}

absl::StatusOr<bool> PostgresSessionStore::TryClaim(const std::string& practice_id,
                                                    const std::string& session_id,
                                                    const std::string& holder,
                                                    absl::Duration lease) {
  const absl::Time now = internal::NowMicros(clock_);
  const int64_t live_since = internal::LiveSinceMicros(now, options_.ttl);
  bool exists = false;
  bool claimed = false;
  VET_RETURN_IF_ERROR(WithContext(pool_->Transact([&](PgConnection& conn) -> absl::Status {
    // One statement: the row lock decides between two servers claiming at once.
    VET_ASSIGN_OR_RETURN(PgResult result, conn.Exec(R"sql(
WITH live AS (
  SELECT id FROM sessions
  WHERE id = $1::text AND practice_id = $2::text AND NOT ended
    AND last_active_at >= $3::bigint
  FOR UPDATE),
claimed AS (
  UPDATE sessions SET claimed_by = $4::text, claimed_until = $5::bigint
  WHERE id IN (SELECT id FROM live)
    AND (claimed_by = $4::text OR claimed_until < $6::bigint)
  RETURNING id)
SELECT (SELECT count(*) FROM live), (SELECT count(*) FROM claimed))sql",
                                                    {session_id, practice_id, live_since, holder,
                                                     Micros(now + lease), Micros(now)}));
    exists = result.rows() == 1 && result.Text(0, 0) == "1";
    claimed = result.rows() == 1 && result.Text(0, 1) == "1";
    return absl::OkStatus();
  })));
  if (!exists) return SessionNotFound(session_id);
  return claimed;
}

absl::Status PostgresSessionStore::ReleaseClaim(const std::string& session_id,
                                                const std::string& holder) {
  return WithContext(pool_->Transact([&](PgConnection& conn) -> absl::Status {
    return conn
        .Exec(
            "UPDATE sessions SET claimed_by = '', claimed_until = 0"
            " WHERE id = $1::text AND claimed_by = $2::text",
            {session_id, holder})
        .status();
  }));
}

absl::StatusOr<SessionPage> PostgresSessionStore::List(const std::string& practice_id,
                                                       int page_size,
                                                       const std::string& page_token) {
  VET_ASSIGN_OR_RETURN(const internal::ListRequest request,
                       internal::ParseListRequest(page_size, page_token, clock_, options_.ttl));
  const std::optional<internal::PageKey>& after = request.after;
  const int size = request.page_size;
  const int64_t live_since = request.live_since_micros;
  SessionPage page;
  bool more = false;
  VET_RETURN_IF_ERROR(WithContext(pool_->Transact(
      [&](PgConnection& conn) -> absl::Status {
        page.sessions.clear();
        // One row more than the page, to know whether there is a next page.
        // The row comparison walks sessions_by_activity in order.
        VET_ASSIGN_OR_RETURN(
            PgResult rows,
            conn.Exec("SELECT id, practice_id, created_at, last_active_at, ended FROM sessions"
                      " WHERE practice_id = $1::text"
                      "   AND last_active_at >= $2::bigint"
                      "   AND (NOT $3::boolean OR last_active_at < $4::bigint"
                      "        OR (last_active_at = $4::bigint AND id > $5::text))"
                      " ORDER BY last_active_at DESC, id LIMIT $6::integer",
                      {practice_id, live_since, after.has_value() ? "true" : "false",
                       after.has_value() ? after->last_active_micros : int64_t{0},
                       after.has_value() ? after->id : std::string(), size + 1}));
        more = rows.rows() > size;
        for (int i = 0; i < rows.rows() && i < size; ++i) {
          page.sessions.push_back(ReadSession(rows, i));
        }
        return ReadTurns(conn, page.sessions);
      },
      PostgresPool::Mode::kReadSnapshot)));
  if (more) page.next_page_token = internal::NextPageToken(page.sessions.back());
  return page;
}

absl::StatusOr<int> PostgresSessionStore::Purge() {
  const int64_t live_since = internal::LiveSinceMicros(internal::NowMicros(clock_), options_.ttl);
  int removed = 0;
  // The turns go with their sessions (ON DELETE CASCADE). A session a
  // replica is appending to waits for that append and is then re-checked:
  // its new activity time keeps it.
  VET_RETURN_IF_ERROR(WithContext(pool_->Transact([&](PgConnection& conn) -> absl::Status {
    VET_ASSIGN_OR_RETURN(PgResult purged, conn.Exec("DELETE FROM sessions"
                                                    " WHERE last_active_at < $1::bigint",
                                                    {live_since}));
    removed = static_cast<int>(purged.affected());
    return absl::OkStatus();
  })));
  return removed;
}

absl::Status PostgresSessionStore::Discard(const std::string& practice_id,
                                           const std::string& session_id) {
  return WithContext(pool_->Transact([&](PgConnection& conn) -> absl::Status {
    return conn
        .Exec(
            "DELETE FROM sessions WHERE id = $1::text AND practice_id = $2::text"
            " AND turn_count = 0",
            {session_id, practice_id})
        .status();
  }));
}

}  // namespace vet::session
