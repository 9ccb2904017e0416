// NewAuditEntryId, and the helpers every AuditStore shares (store_common.h).
#include "core/audit/audit_store.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/audit/store_common.h"
#include "core/common/random.h"
#include "core/common/status_macros.h"

namespace vet::audit {
namespace {

constexpr int kIdBytes = 8;

}  // namespace

std::string NewAuditEntryId() { return RandomHex(kIdBytes); }

namespace internal {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

absl::Status BadToken() {
  return absl::InvalidArgumentError("page_token is not one this server issued");
}

absl::StatusOr<std::optional<PageKey>> DecodePageToken(const std::string& token) {
  if (token.empty()) return std::nullopt;
  std::string plain;
  if (!absl::WebSafeBase64Unescape(token, &plain)) return BadToken();
  std::vector<absl::string_view> parts = absl::StrSplit(plain, '.');
  PageKey key;
  if (parts.size() != 3 || parts[0] != "a1" || !absl::SimpleAtoi(parts[1], &key.at_micros) ||
      !IsRandomHex(parts[2], kIdBytes)) {
    return BadToken();
  }
  key.id = std::string(parts[2]);
  return key;
}

}  // namespace

absl::Status ValidateBatch(const std::vector<AuditEntry>& entries) {
  for (const AuditEntry& e : entries) {
    if (e.id.empty() || e.practice_id.empty()) {
      return absl::InvalidArgumentError("an audit entry needs an id and a practice id");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ListRequest> ParseListRequest(absl::Time since, int page_size,
                                             const std::string& page_token) {
  if (page_size < 0 || page_size > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size must be between 0 and ", kMaxPageSize, "; got ", page_size));
  }
  ListRequest request;
  request.page_size = page_size == 0 ? kDefaultPageSize : page_size;
  VET_ASSIGN_OR_RETURN(request.after, DecodePageToken(page_token));
  // Before the epoch means "from the beginning" (the stores keep micros
  // since the epoch; nothing is older).
  request.since_micros = since <= absl::UnixEpoch() ? 0 : absl::ToUnixMicros(since);
  return request;
}

std::string NextPageToken(const AuditEntry& last) {
  return absl::WebSafeBase64Escape(absl::StrCat("a1.", absl::ToUnixMicros(last.at), ".", last.id));
}

}  // namespace internal
}  // namespace vet::audit
