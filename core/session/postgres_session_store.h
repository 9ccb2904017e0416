// A SessionStore kept in PostgreSQL (normally the budget's database):
// sessions survive restarts, and any number of replicas on any number of
// hosts share them. Mirrors SqliteSessionStore's semantics.
#ifndef VET_CORE_SESSION_POSTGRES_SESSION_STORE_H_
#define VET_CORE_SESSION_POSTGRES_SESSION_STORE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/common/clock.h"
#include "core/session/session_store.h"
#include "core/storage/postgres.h"

namespace vet::session {

// Schema (in the connection's search_path, normally "public", beside the
// budget's tables; times are BIGINT Unix microseconds, as in SQLite):
//   session_schema_version(version)
//   sessions(id TEXT PRIMARY KEY, practice_id, created_at, last_active_at,
//            ended BOOLEAN, turn_count, claimed_by, claimed_until)
//     INDEX sessions_by_activity (practice_id, last_active_at DESC, id)
//   session_turns(session_id REFERENCES sessions ON DELETE CASCADE, number,
//                 question, as_of_date, code, answer, summary, plan,
//                 status INTEGER (absl::StatusCode), cost_micros, asked_at)
//     PRIMARY KEY (session_id, number)
// AppendTurn increments the session row's turn_count (locking the row) and
// inserts the turn with that number in one statement, so replicas appending
// to one session never produce duplicate or missing numbers. TryClaim takes
// the row lock too, so of two replicas claiming at once exactly one wins. The schema is
// created on first Open under a transaction-scoped advisory lock (a key of
// its own, not the budget's), so replicas starting together do not race.
//
// Thread-safe: a pool of connections.
//
// Codes: kNotFound (SessionNotFound) for an unknown, ended, expired or
// foreign session; kInvalidArgument for a bad page size or token;
// kUnavailable when the database cannot be reached or transactions kept
// conflicting (retry later); kInternal for other database errors.
class PostgresSessionStore final : public SessionStore {
 public:
  static constexpr int kSchemaVersion = 1;

  // Connects to `url` (postgres://user:password@host:port/database) with
  // `pool_size` connections and creates the schema if missing. Returns
  // kInvalidArgument for bad options or a malformed URL, kUnavailable naming
  // host, port and database (never the password) when the database cannot
  // be reached, and kFailedPrecondition when it holds a newer session schema
  // version. `clock` must outlive the store.
  static absl::StatusOr<std::unique_ptr<PostgresSessionStore>> Open(const std::string& url,
                                                                    const Clock& clock,
                                                                    SessionOptions options = {},
                                                                    int pool_size = 4);

  PostgresSessionStore(const PostgresSessionStore&) = delete;
  PostgresSessionStore& operator=(const PostgresSessionStore&) = delete;

  absl::StatusOr<SessionRecord> Create(const std::string& practice_id) override;
  absl::StatusOr<SessionRecord> Get(const std::string& practice_id,
                                    const std::string& session_id) override;
  absl::Status AppendTurn(const std::string& practice_id, const std::string& session_id,
                          TurnRecord turn) override;
  absl::Status End(const std::string& practice_id, const std::string& session_id) override;
  absl::StatusOr<SessionPage> List(const std::string& practice_id, int page_size,
                                   const std::string& page_token) override;
  absl::StatusOr<bool> TryClaim(const std::string& practice_id, const std::string& session_id,
                                const std::string& holder, absl::Duration lease) override;
  absl::Status ReleaseClaim(const std::string& session_id, const std::string& holder) override;
  absl::StatusOr<int> Purge() override;
  absl::Status Discard(const std::string& practice_id, const std::string& session_id) override;

 private:
  PostgresSessionStore(std::unique_ptr<storage::PostgresPool> pool, const Clock& clock,
                       SessionOptions options);

  absl::Status InitSchema();

  const Clock& clock_;
  const SessionOptions options_;
  const std::unique_ptr<storage::PostgresPool> pool_;
};

}  // namespace vet::session

#endif  // VET_CORE_SESSION_POSTGRES_SESSION_STORE_H_
