// An AuditStore kept in PostgreSQL (normally the budget's database): any
// number of replicas on any number of hosts append to one trail. Mirrors
// SqliteAuditStore's semantics.
#ifndef VET_CORE_AUDIT_POSTGRES_AUDIT_STORE_H_
#define VET_CORE_AUDIT_POSTGRES_AUDIT_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/audit/audit_store.h"
#include "core/storage/postgres.h"

namespace vet::audit {

// Schema (in the connection's search_path, beside the budget's tables;
// times and durations are BIGINT Unix microseconds, as in SQLite):
//   audit_schema_version(version)
//   audit_log(id TEXT PRIMARY KEY, practice_id, at, key_id, rpc, session_id,
//             question_id, generator, model, prompt_tokens,
//             completion_tokens, cost_micros, status INTEGER
//             (absl::StatusCode), duration_micros, question,
//             question_sha256, suppressed_refusals)
//     INDEX audit_by_practice (practice_id, at DESC, id DESC)
//     INDEX audit_by_at (at)
//   function audit_log_append_only() and two triggers calling it:
//     audit_log_no_update   BEFORE UPDATE, each row
//     audit_log_no_truncate BEFORE TRUNCATE
// so that an UPDATE or TRUNCATE, from this store or any other client, fails
// ("audit_log is append-only"). The store issues only INSERT, SELECT and
// DELETE of rows older than a cut-off. The table's owner can still drop the
// triggers: for a trail the service itself cannot rewrite, run the server
// as a role granted only INSERT, SELECT and DELETE on audit_log (SECURITY.md).
// The schema is created on first Open under a transaction-scoped advisory
// lock of its own, so replicas starting together do not race.
//
// Thread-safe: a pool of connections. Codes: kInvalidArgument for a bad
// batch, page size or token; kUnavailable when the database cannot be
// reached; kInternal for other database errors.
class PostgresAuditStore final : public AuditStore {
 public:
  static constexpr int kSchemaVersion = 1;

  // Connects to `url` with `pool_size` connections and creates the schema
  // if missing. kInvalidArgument for bad options or a malformed URL,
  // kUnavailable naming host, port and database (never the password) when
  // the database cannot be reached, kFailedPrecondition when it holds a
  // newer audit schema version.
  static absl::StatusOr<std::unique_ptr<PostgresAuditStore>> Open(const std::string& url,
                                                                  int pool_size = 2);

  PostgresAuditStore(const PostgresAuditStore&) = delete;
  PostgresAuditStore& operator=(const PostgresAuditStore&) = delete;

  absl::Status Append(const std::vector<AuditEntry>& entries) override;
  absl::StatusOr<AuditPage> List(const std::string& practice_id, absl::Time since, int page_size,
                                 const std::string& page_token) override;
  absl::StatusOr<int64_t> PurgeBefore(absl::Time before) override;

 private:
  explicit PostgresAuditStore(std::unique_ptr<storage::PostgresPool> pool);
  absl::Status InitSchema();

  const std::unique_ptr<storage::PostgresPool> pool_;
};

}  // namespace vet::audit

#endif  // VET_CORE_AUDIT_POSTGRES_AUDIT_STORE_H_
