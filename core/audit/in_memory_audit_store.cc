// InMemoryAuditStore: a map ordered as List returns entries, so a page is a
// walk backwards from the page key.
#include "core/audit/in_memory_audit_store.h"

#include <set>
#include <utility>

#include "core/audit/store_common.h"
#include "core/common/status_macros.h"

namespace vet::audit {
namespace {

absl::Time Truncated(absl::Time t) { return absl::FromUnixMicros(absl::ToUnixMicros(t)); }
absl::Duration Truncated(absl::Duration d) {
  return absl::Microseconds(absl::ToInt64Microseconds(d));
}

}  // namespace

absl::Status InMemoryAuditStore::Append(const std::vector<AuditEntry>& entries) {
  VET_RETURN_IF_ERROR(internal::ValidateBatch(entries));
  absl::MutexLock lock(&mu_);
  std::set<std::string> batch;
  for (const AuditEntry& e : entries) {
    if (ids_.count(e.id) > 0 || !batch.insert(e.id).second) {
      return absl::AlreadyExistsError("an audit entry with this id is already stored");
    }
  }
  for (AuditEntry e : entries) {
    e.at = Truncated(e.at);
    e.duration = Truncated(e.duration);
    ids_.insert(e.id);
    Key key{e.practice_id, absl::ToUnixMicros(e.at), e.id};
    entries_.emplace(std::move(key), std::move(e));
  }
  return absl::OkStatus();
}

absl::StatusOr<AuditPage> InMemoryAuditStore::List(const std::string& practice_id, absl::Time since,
                                                   int page_size, const std::string& page_token) {
  VET_ASSIGN_OR_RETURN(const internal::ListRequest request,
                       internal::ParseListRequest(since, page_size, page_token));
  absl::MutexLock lock(&mu_);
  // The first entry after the page key (or the practice's newest), walking
  // backwards: everything before upper_bound of the key.
  auto it =
      request.after.has_value()
          ? entries_.lower_bound(Key{practice_id, request.after->at_micros, request.after->id})
          : entries_.lower_bound(Key{practice_id, INT64_MAX, std::string()});
  AuditPage page;
  bool more = false;
  while (it != entries_.begin()) {
    --it;
    const auto& [practice, at, id] = it->first;
    if (practice != practice_id || at < request.since_micros) break;
    if (static_cast<int>(page.entries.size()) == request.page_size) {
      more = true;
      break;
    }
    page.entries.push_back(it->second);
  }
  if (more) page.next_page_token = internal::NextPageToken(page.entries.back());
  return page;
}

absl::StatusOr<int64_t> InMemoryAuditStore::PurgeBefore(absl::Time before) {
  const int64_t cutoff = absl::ToUnixMicros(before);
  absl::MutexLock lock(&mu_);
  int64_t removed = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (std::get<1>(it->first) < cutoff) {
      ids_.erase(std::get<2>(it->first));
      it = entries_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

}  // namespace vet::audit
