// What every AuditStore shares so that all three behave the same: batch
// checks, page-size rules and the keyset page token. For the stores in this
// folder only.
#ifndef VET_CORE_AUDIT_STORE_COMMON_H_
#define VET_CORE_AUDIT_STORE_COMMON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/audit/audit_store.h"

namespace vet::audit::internal {

// kInvalidArgument unless every entry has an id and a practice id.
absl::Status ValidateBatch(const std::vector<AuditEntry>& entries);

// The position after the last entry of a page: entries come newest first,
// ties by descending id.
struct PageKey {
  int64_t at_micros = 0;
  std::string id;
};

// A List call, checked: what every store's List starts from.
struct ListRequest {
  // 1..1000 (0 asked for means 100).
  int page_size = 0;
  // Entries strictly after this key; nullopt for the first page.
  std::optional<PageKey> after;
  int64_t since_micros = 0;
};
// kInvalidArgument for a page size below 0 or above 1000, and for a token
// that NextPageToken did not make.
absl::StatusOr<ListRequest> ParseListRequest(absl::Time since, int page_size,
                                             const std::string& page_token);

// The token of the page that follows one ending with `last`: web-safe
// base64 of "a1.<at micros>.<id>".
std::string NextPageToken(const AuditEntry& last);

}  // namespace vet::audit::internal

#endif  // VET_CORE_AUDIT_STORE_COMMON_H_
