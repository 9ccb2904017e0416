// An AuditStore in process memory: the trail is forgotten on restart. For
// tests and --budget_store=memory; SqliteAuditStore and PostgresAuditStore
// keep it. All three pass one suite (audit_store_test.cc).
#ifndef VET_CORE_AUDIT_IN_MEMORY_AUDIT_STORE_H_
#define VET_CORE_AUDIT_IN_MEMORY_AUDIT_STORE_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/audit/audit_store.h"

namespace vet::audit {

// Thread-safe: one mutex. Times are truncated to whole microseconds on
// Append, as the durable stores keep them.
class InMemoryAuditStore final : public AuditStore {
 public:
  absl::Status Append(const std::vector<AuditEntry>& entries) override;
  absl::StatusOr<AuditPage> List(const std::string& practice_id, absl::Time since, int page_size,
                                 const std::string& page_token) override;
  absl::StatusOr<int64_t> PurgeBefore(absl::Time before) override;

 private:
  // (practice, at micros, id): iterated backwards, a practice's entries
  // newest first, ties by descending id.
  using Key = std::tuple<std::string, int64_t, std::string>;
  absl::Mutex mu_;
  std::map<Key, AuditEntry> entries_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> ids_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vet::audit

#endif  // VET_CORE_AUDIT_IN_MEMORY_AUDIT_STORE_H_
