// A SessionStore kept in a SQLite file of its own (the server uses
// <state_dir>/sessions.sqlite3): sessions survive restarts and kill -9, and
// several processes on one host (replicas) can share the file.
#ifndef VET_CORE_SESSION_SQLITE_SESSION_STORE_H_
#define VET_CORE_SESSION_SQLITE_SESSION_STORE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/common/clock.h"
#include "core/session/session_store.h"
#include "core/storage/sqlite.h"

namespace vet::session {

// Schema (times are Unix microseconds):
//   schema_version(version)
//   sessions(id PRIMARY KEY, practice_id, created_at, last_active_at,
//            ended 0|1, turn_count, claimed_by, claimed_until)
//     INDEX sessions_by_activity (practice_id, last_active_at DESC, id)
//   session_turns(session_id REFERENCES sessions ON DELETE CASCADE, number,
//                 question, as_of_date, code, answer, summary, plan,
//                 status (absl::StatusCode), cost_micros, asked_at)
//     PRIMARY KEY (session_id, number)
// turn_count is the last turn number given out: AppendTurn increments it and
// inserts the turn in one BEGIN IMMEDIATE transaction, so numbers are 1, 2,
// 3... without gaps or duplicates however many threads and processes append.
// claimed_by/claimed_until hold one question's claim (TryClaim: one
// conditional UPDATE).
//
// Thread-safe: one connection behind a mutex. Several processes may open the
// same file; they coordinate through SQLite's locks (WAL, BEGIN IMMEDIATE,
// a 5 s busy timeout).
//
// Codes: kNotFound (SessionNotFound) for an unknown, ended, expired or
// foreign session; kInvalidArgument for a bad page size or token;
// kUnavailable when the file stayed locked by another process past the busy
// timeout; kInternal for other SQLite errors.
class SqliteSessionStore final : public SessionStore {
 public:
  static constexpr int kSchemaVersion = 1;

  // Opens or creates the database at `path` (journal_mode=WAL,
  // synchronous=FULL: a turn, once appended, survives a crash of the process
  // or the machine) and creates the schema if missing. Returns
  // kInvalidArgument for a non-positive TTL and kFailedPrecondition naming
  // the path when the file cannot be opened or was written by a newer
  // schema version. `clock` must outlive the store.
  static absl::StatusOr<std::unique_ptr<SqliteSessionStore>> Open(const std::string& path,
                                                                  const Clock& clock,
                                                                  SessionOptions options = {});

  ~SqliteSessionStore() override;
  SqliteSessionStore(const SqliteSessionStore&) = delete;
  SqliteSessionStore& operator=(const SqliteSessionStore&) = delete;

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
  SqliteSessionStore(std::unique_ptr<storage::SqliteDatabase> db, const Clock& clock,
                     SessionOptions options);

  absl::Status InitSchema() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reads the turns of `session` (in number order) into it.
  absl::Status ReadTurns(SessionRecord& session) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  const SessionOptions options_;
  absl::Mutex mu_;
  const std::unique_ptr<storage::SqliteDatabase> db_ ABSL_PT_GUARDED_BY(mu_);
};

}  // namespace vet::session

#endif  // VET_CORE_SESSION_SQLITE_SESSION_STORE_H_
