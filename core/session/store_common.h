// What every SessionStore shares so that all three behave the same: the id
// of a new session, the store's notion of "now" (whole microseconds, the
// durable stores' resolution), the TTL cut-off, page-size rules and the
// keyset page token. For the stores in this folder only.
#ifndef VET_CORE_SESSION_STORE_COMMON_H_
#define VET_CORE_SESSION_STORE_COMMON_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/common/clock.h"
#include "core/session/session_store.h"

namespace vet::session::internal {

// A new session of `practice_id`, created and last active now, with an
// unguessable id: 128 random bits as 32 lower-case hex characters.
SessionRecord NewSession(const std::string& practice_id, const Clock& clock);

// clock.Now() truncated to whole microseconds, so that an in-memory session
// orders and expires exactly as a stored one would.
absl::Time NowMicros(const Clock& clock);

// kInvalidArgument unless the TTL is positive.
absl::Status ValidateSessionOptions(const SessionOptions& options);

// A session is live while now - last_active_at <= ttl: this is the smallest
// last_active_at (Unix micros) still live at `now`.
int64_t LiveSinceMicros(absl::Time now, absl::Duration ttl);

// The position after the last session of a page: sessions come most
// recently active first, ties by ascending id.
struct PageKey {
  int64_t last_active_micros = 0;
  std::string id;
};

// A List call, checked: what every store's List starts from.
struct ListRequest {
  // 1..100 (0 asked for means 20).
  int page_size = 0;
  // Sessions strictly after this key; nullopt for the first page.
  std::optional<PageKey> after;
  // LiveSinceMicros at the time of the call.
  int64_t live_since_micros = 0;
};
// kInvalidArgument for a page size below 0 or above 100, and for a token
// that NextPageToken did not make.
absl::StatusOr<ListRequest> ParseListRequest(int page_size, const std::string& page_token,
                                             const Clock& clock, absl::Duration ttl);

// The token of the page that follows one ending with `last`. Opaque to
// clients: web-safe base64 of "v1.<last_active micros>.<id>".
std::string NextPageToken(const SessionRecord& last);

}  // namespace vet::session::internal

#endif  // VET_CORE_SESSION_STORE_COMMON_H_
