// An AuditStore kept in a SQLite file of its own (the server uses
// <state_dir>/audit.sqlite3): the trail survives restarts and kill -9, and
// several processes on one host (replicas) can append to the file.
#ifndef VET_CORE_AUDIT_SQLITE_AUDIT_STORE_H_
#define VET_CORE_AUDIT_SQLITE_AUDIT_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/audit/audit_store.h"
#include "core/storage/sqlite.h"

namespace vet::audit {

// Schema (times and durations are Unix microseconds):
//   schema_version(version)
//   audit_log(id PRIMARY KEY, practice_id, at, key_id, rpc, session_id,
//             question_id, generator, model, prompt_tokens,
//             completion_tokens, cost_micros, status (absl::StatusCode),
//             duration_micros, question, question_sha256,
//             suppressed_refusals)
//     INDEX audit_by_practice (practice_id, at DESC, id DESC)
//     INDEX audit_by_at (at)
//     TRIGGER audit_log_no_update: BEFORE UPDATE, RAISE(ABORT)
// The store issues only INSERT (Append), SELECT (List) and DELETE of rows
// older than a cut-off (PurgeBefore); the trigger makes any UPDATE of the
// file, from this store or another program, fail. (Whoever can write the
// file can drop the trigger: it guards against mistakes, not against the
// file's owner.)
//
// Thread-safe: one connection behind a mutex. Codes: kInvalidArgument for a
// bad batch, page size or token; kUnavailable when the file stayed locked by
// another process past the busy timeout; kInternal for other SQLite errors.
class SqliteAuditStore final : public AuditStore {
 public:
  static constexpr int kSchemaVersion = 1;

  // Opens or creates the database at `path` (WAL, synchronous=FULL) and
  // creates the schema if missing. kFailedPrecondition naming the path when
  // the file cannot be opened or was written by a newer schema version.
  static absl::StatusOr<std::unique_ptr<SqliteAuditStore>> Open(const std::string& path);

  ~SqliteAuditStore() override;
  SqliteAuditStore(const SqliteAuditStore&) = delete;
  SqliteAuditStore& operator=(const SqliteAuditStore&) = delete;

  absl::Status Append(const std::vector<AuditEntry>& entries) override;
  absl::StatusOr<AuditPage> List(const std::string& practice_id, absl::Time since, int page_size,
                                 const std::string& page_token) override;
  absl::StatusOr<int64_t> PurgeBefore(absl::Time before) override;

 private:
  explicit SqliteAuditStore(std::unique_ptr<storage::SqliteDatabase> db);
  absl::Status InitSchema() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  const std::unique_ptr<storage::SqliteDatabase> db_ ABSL_PT_GUARDED_BY(mu_);
};

}  // namespace vet::audit

#endif  // VET_CORE_AUDIT_SQLITE_AUDIT_STORE_H_
