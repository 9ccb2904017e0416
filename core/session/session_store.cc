// SessionNotFound, and the helpers every SessionStore shares
// (store_common.h).
#include "core/session/session_store.h"

#include <optional>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/common/error_details.h"
#include "core/common/random.h"
#include "core/common/status_macros.h"
#include "core/session/store_common.h"

namespace vet::session {

absl::Status SessionNotFound(const std::string& session_id) {
  // Capped: the id comes from the client.
  std::string shown = session_id.size() > 64 ? session_id.substr(0, 64) + "..." : session_id;
  return WithReason(
      absl::NotFoundError(absl::StrCat(
          "no active session '", shown,
          "' for this practice (it may have ended); omit session_id to start a new one")),
      reason::kSessionNotFound);
}

namespace internal {
namespace {

constexpr int kDefaultPageSize = 20;
constexpr int kMaxPageSize = 100;
constexpr size_t kIdLength = 32;

absl::Status BadToken() {
  return absl::InvalidArgumentError("page_token is not one this server issued");
}

absl::StatusOr<int> EffectivePageSize(int page_size) {
  if (page_size < 0 || page_size > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size must be between 0 and ", kMaxPageSize, "; got ", page_size));
  }
  return page_size == 0 ? kDefaultPageSize : page_size;
}

absl::StatusOr<std::optional<PageKey>> DecodePageToken(const std::string& token) {
  if (token.empty()) return std::nullopt;
  std::string plain;
  if (!absl::WebSafeBase64Unescape(token, &plain)) return BadToken();
  std::vector<absl::string_view> parts = absl::StrSplit(plain, '.');
  PageKey key;
  if (parts.size() != 3 || parts[0] != "v1" ||
      !absl::SimpleAtoi(parts[1], &key.last_active_micros) ||
      !IsRandomHex(parts[2], kIdLength / 2)) {
    return BadToken();
  }
  key.id = std::string(parts[2]);
  return key;
}

}  // namespace

SessionRecord NewSession(const std::string& practice_id, const Clock& clock) {
  SessionRecord s;
  s.id = RandomHex(kIdLength / 2);
  s.practice_id = practice_id;
  s.created_at = s.last_active_at = NowMicros(clock);
  return s;
}

absl::Time NowMicros(const Clock& clock) {
  return absl::FromUnixMicros(absl::ToUnixMicros(clock.Now()));
}

absl::Status ValidateSessionOptions(const SessionOptions& options) {
  if (options.ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the session TTL must be positive; got ", absl::FormatDuration(options.ttl)));
  }
  return absl::OkStatus();
}

int64_t LiveSinceMicros(absl::Time now, absl::Duration ttl) {
  return absl::ToUnixMicros(now) - absl::ToInt64Microseconds(ttl);
}

absl::StatusOr<ListRequest> ParseListRequest(int page_size, const std::string& page_token,
                                             const Clock& clock, absl::Duration ttl) {
  ListRequest request;
  VET_ASSIGN_OR_RETURN(request.page_size, EffectivePageSize(page_size));
  VET_ASSIGN_OR_RETURN(request.after, DecodePageToken(page_token));
  request.live_since_micros = LiveSinceMicros(NowMicros(clock), ttl);
  return request;
}

std::string NextPageToken(const SessionRecord& last) {
  return absl::WebSafeBase64Escape(
      absl::StrCat("v1.", absl::ToUnixMicros(last.last_active_at), ".", last.id));
}

}  // namespace internal
}  // namespace vet::session
