// InMemorySessionStore. Times are kept in whole microseconds (NowMicros) so
// that ordering, paging and expiry match the durable stores exactly. List
// sorts the practice's live sessions on each call: fine for the session
// counts a process holds in memory.
#include "core/session/in_memory_session_store.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "core/common/status_macros.h"
#include "core/session/store_common.h"

namespace vet::session {
namespace {

// Not idle since before `live_since_micros` (not expired): readable, ended
// or not, until purged.
bool IsKept(const SessionRecord& s, int64_t live_since_micros) {
  return absl::ToUnixMicros(s.last_active_at) >= live_since_micros;
}

}  // namespace

SessionRecord* InMemorySessionStore::FindLive(const std::string& practice_id,
                                              const std::string& session_id, absl::Time now) {
  SessionRecord* s = FindKept(practice_id, session_id, now);
  return s != nullptr && !s->ended ? s : nullptr;
}

SessionRecord* InMemorySessionStore::FindKept(const std::string& practice_id,
                                              const std::string& session_id, absl::Time now) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end() || it->second.practice_id != practice_id ||
      !IsKept(it->second, internal::LiveSinceMicros(now, options_.ttl))) {
    return nullptr;
  }
  return &it->second;
}

absl::StatusOr<SessionRecord> InMemorySessionStore::Create(const std::string& practice_id) {
  SessionRecord s = internal::NewSession(practice_id, clock_);
  absl::MutexLock lock(&mu_);
  sessions_.emplace(s.id, s);
  return s;
}

absl::StatusOr<SessionRecord> InMemorySessionStore::Get(const std::string& practice_id,
                                                        const std::string& session_id) {
  const absl::Time now = internal::NowMicros(clock_);
  absl::MutexLock lock(&mu_);
  SessionRecord* s = FindKept(practice_id, session_id, now);
  if (s == nullptr) return SessionNotFound(session_id);
  return *s;
}

absl::Status InMemorySessionStore::AppendTurn(const std::string& practice_id,
                                              const std::string& session_id, TurnRecord turn) {
  const absl::Time now = internal::NowMicros(clock_);
  absl::MutexLock lock(&mu_);
  SessionRecord* s = FindLive(practice_id, session_id, now);
  if (s == nullptr) return SessionNotFound(session_id);
  turn.number = static_cast<int>(s->turns.size()) + 1;
  // As the durable stores: asked_at is kept to the microsecond.
  turn.asked_at = absl::FromUnixMicros(absl::ToUnixMicros(turn.asked_at));
  s->last_active_at = std::max(s->last_active_at, now);
  s->turns.push_back(std::move(turn));
  return absl::OkStatus();
}

absl::Status InMemorySessionStore::End(const std::string& practice_id,
                                       const std::string& session_id) {
  const absl::Time now = internal::NowMicros(clock_);
  absl::MutexLock lock(&mu_);
  SessionRecord* s = FindKept(practice_id, session_id, now);
  if (s == nullptr) return SessionNotFound(session_id);
  // Readable until Purge, as in the durable stores; ending it again is OK.
  s->ended = true;
  return absl::OkStatus();
}

absl::StatusOr<bool> InMemorySessionStore::TryClaim(const std::string& practice_id,
                                                    const std::string& session_id,
                                                    const std::string& holder,
                                                    absl::Duration lease) {
  const absl::Time now = internal::NowMicros(clock_);
  absl::MutexLock lock(&mu_);
  if (FindLive(practice_id, session_id, now) == nullptr) return SessionNotFound(session_id);
  auto it = claims_.find(session_id);
  if (it != claims_.end() && it->second.holder != holder && it->second.until >= now) {
    return false;
  }
  claims_[session_id] = Claim{holder, now + lease};
  return true;
}

absl::Status InMemorySessionStore::ReleaseClaim(const std::string& session_id,
                                                const std::string& holder) {
  absl::MutexLock lock(&mu_);
  auto it = claims_.find(session_id);
  if (it != claims_.end() && it->second.holder == holder) claims_.erase(it);
  return absl::OkStatus();
}

absl::StatusOr<SessionPage> InMemorySessionStore::List(const std::string& practice_id,
                                                       int page_size,
                                                       const std::string& page_token) {
  VET_ASSIGN_OR_RETURN(const internal::ListRequest request,
                       internal::ParseListRequest(page_size, page_token, clock_, options_.ttl));
  const std::optional<internal::PageKey>& after = request.after;
  const size_t size = request.page_size;
  absl::MutexLock lock(&mu_);
  std::vector<const SessionRecord*> mine;
  for (const auto& [id, s] : sessions_) {
    if (s.practice_id != practice_id || !IsKept(s, request.live_since_micros)) continue;
    if (after.has_value()) {
      const int64_t t = absl::ToUnixMicros(s.last_active_at);
      // Only sessions strictly after the key in (last_active_at desc, id) order.
      if (t > after->last_active_micros || (t == after->last_active_micros && s.id <= after->id)) {
        continue;
      }
    }
    mine.push_back(&s);
  }
  std::sort(mine.begin(), mine.end(), [](const SessionRecord* a, const SessionRecord* b) {
    if (a->last_active_at != b->last_active_at) return a->last_active_at > b->last_active_at;
    return a->id < b->id;
  });
  SessionPage page;
  for (size_t i = 0; i < mine.size() && i < size; ++i) page.sessions.push_back(*mine[i]);
  if (mine.size() > size) page.next_page_token = internal::NextPageToken(page.sessions.back());
  return page;
}

absl::StatusOr<int> InMemorySessionStore::Purge() {
  const int64_t live_since = internal::LiveSinceMicros(internal::NowMicros(clock_), options_.ttl);
  absl::MutexLock lock(&mu_);
  int removed = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (IsKept(it->second, live_since)) {
      ++it;
    } else {
      claims_.erase(it->first);
      it = sessions_.erase(it);
      ++removed;
    }
  }
  return removed;
}

absl::Status InMemorySessionStore::Discard(const std::string& practice_id,
                                           const std::string& session_id) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(session_id);
  if (it != sessions_.end() && it->second.practice_id == practice_id && it->second.turns.empty()) {
    claims_.erase(session_id);
    sessions_.erase(it);
  }
  return absl::OkStatus();
}

}  // namespace vet::session
