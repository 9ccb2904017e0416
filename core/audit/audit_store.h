// The audit trail: one entry per RPC (who called, what it was, what it cost,
// how it ended), appended and never changed. Each practice reads only its
// own entries (ListAudit); entries older than the retention are purged.
#ifndef VET_CORE_AUDIT_AUDIT_STORE_H_
#define VET_CORE_AUDIT_AUDIT_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace vet::audit {

// One call. Times are whole microseconds (the durable stores' resolution).
struct AuditEntry {
  // Unique: 16 random lower-case hex characters (NewAuditEntryId).
  std::string id;
  // When the call started.
  absl::Time at;
  // The practice the call named (for a refused call: as requested).
  std::string practice_id;
  // Which key authorized the call (KeyId: a prefix of its SHA-256); empty
  // when the call was refused before a key was accepted.
  std::string key_id;
  // The method's name: "Ask", "GetBudget", "ImportDataset", "ListAudit", ...
  std::string rpc;
  std::string session_id;
  // Ask only: the question's id (the budget ledger's question_id too).
  std::string question_id;
  // Ask only: "planner" or "model" (the last attempt's), and the model.
  std::string generator;
  std::string model;
  // Ask only: tokens over all attempts, and the cost charged.
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cost_micros = 0;
  absl::StatusCode status = absl::StatusCode::kOk;
  absl::Duration duration;
  // Ask only: the question's text (--audit_questions=text; empty with
  // hash) and the lower-case hex SHA-256 of the whole text (both modes).
  std::string question;
  std::string question_sha256;
  // Refusals of this practice's calls not recorded one by one since the
  // previous recorded refusal (AuditRecorder's refusal limit).
  int64_t suppressed_refusals = 0;
};

struct AuditPage {
  std::vector<AuditEntry> entries;
  // Empty on the last page.
  std::string next_page_token;
};

// Thread-safe. Stores: in memory (tests), SQLite (the default, a file of its
// own in the state directory) and PostgreSQL (replicas, the budget's
// database). Every store behaves the same; one suite runs on all three
// (audit_store_test.cc).
//
// Append-only: there is no way to change an entry, and the only way to
// remove one is PurgeBefore (retention). The durable stores also refuse an
// UPDATE issued by anything else (a trigger); see their headers.
class AuditStore {
 public:
  virtual ~AuditStore() = default;

  // Appends `entries` (all or none: one transaction). Each needs an id and
  // a practice id (kInvalidArgument otherwise); an id already stored fails
  // the whole batch. kUnavailable when the store is busy or unreachable
  // (worth retrying), kInternal for other store errors.
  virtual absl::Status Append(const std::vector<AuditEntry>& entries) = 0;

  // The practice's entries with `at` >= since, newest first (ties by id,
  // descending). page_size 0 means 100; more than 1000 is kInvalidArgument.
  // The page token is opaque and keyset-based (the last entry's time and
  // id), so paging stays correct while entries are appended; kInvalidArgument
  // for a token this store did not issue.
  virtual absl::StatusOr<AuditPage> List(const std::string& practice_id, absl::Time since,
                                         int page_size, const std::string& page_token) = 0;

  // Deletes every entry (of every practice) with `at` < before; returns how
  // many. Retention only: AuditRecorder::PurgeExpired calls it.
  virtual absl::StatusOr<int64_t> PurgeBefore(absl::Time before) = 0;
};

// A new entry id: 16 random lower-case hex characters (64 bits).
std::string NewAuditEntryId();

}  // namespace vet::audit

#endif  // VET_CORE_AUDIT_AUDIT_STORE_H_
