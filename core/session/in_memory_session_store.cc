// InMemorySessionStore. Pages are ordered by (last_active_at desc, id); the
// page token is the offset into that order, which is good enough for a store
// that lives as long as the process.
#include "core/session/in_memory_session_store.h"

#include <algorithm>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/common/random.h"

namespace vet::session {

absl::Status SessionNotFound(const std::string& session_id) {
  std::string shown = session_id.size() > 64 ? session_id.substr(0, 64) + "..." : session_id;
  return absl::NotFoundError(absl::StrCat(
      "no active session '", shown,
      "' for this practice (it may have ended); omit session_id to start a new one"));
}

SessionRecord* InMemorySessionStore::FindLive(const std::string& practice_id,
                                              const std::string& session_id) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end() || it->second.practice_id != practice_id ||
      it->second.ended) {
    return nullptr;
  }
  return &it->second;
}

absl::StatusOr<SessionRecord> InMemorySessionStore::Create(const std::string& practice_id) {
  SessionRecord s;
  s.id = RandomHex(16);  // 128 bits
  s.practice_id = practice_id;
  s.created_at = s.last_active_at = clock_.Now();
  absl::MutexLock lock(&mu_);
  sessions_.emplace(s.id, s);
  return s;
}

absl::StatusOr<SessionRecord> InMemorySessionStore::Get(const std::string& practice_id,
                                                        const std::string& session_id) {
  absl::MutexLock lock(&mu_);
  SessionRecord* s = FindLive(practice_id, session_id);
  if (s == nullptr) return SessionNotFound(session_id);
  return *s;
}

absl::Status InMemorySessionStore::AppendTurn(const std::string& practice_id,
                                              const std::string& session_id,
                                              TurnRecord turn) {
  absl::MutexLock lock(&mu_);
  SessionRecord* s = FindLive(practice_id, session_id);
  if (s == nullptr) return SessionNotFound(session_id);
  turn.number = static_cast<int>(s->turns.size()) + 1;
  s->last_active_at = clock_.Now();
  s->turns.push_back(std::move(turn));
  return absl::OkStatus();
}

absl::Status InMemorySessionStore::End(const std::string& practice_id,
                                       const std::string& session_id) {
  absl::MutexLock lock(&mu_);
  SessionRecord* s = FindLive(practice_id, session_id);
  if (s == nullptr) return SessionNotFound(session_id);
  // Nothing reads an ended session again, so it is dropped.
  sessions_.erase(session_id);
  return absl::OkStatus();
}

absl::StatusOr<SessionPage> InMemorySessionStore::List(const std::string& practice_id,
                                                       int page_size,
                                                       const std::string& page_token) {
  if (page_size < 0 || page_size > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size must be between 0 and 100; got ", page_size));
  }
  if (page_size == 0) page_size = 20;
  size_t offset = 0;
  if (!page_token.empty() && !absl::SimpleAtoi(page_token, &offset)) {
    return absl::InvalidArgumentError("page_token is not one this server issued");
  }
  std::vector<const SessionRecord*> mine;
  absl::MutexLock lock(&mu_);
  for (const auto& [id, s] : sessions_) {
    if (s.practice_id == practice_id && !s.ended) mine.push_back(&s);
  }
  std::sort(mine.begin(), mine.end(), [](const SessionRecord* a, const SessionRecord* b) {
    if (a->last_active_at != b->last_active_at) return a->last_active_at > b->last_active_at;
    return a->id < b->id;
  });
  SessionPage page;
  for (size_t i = offset; i < mine.size() && page.sessions.size() < static_cast<size_t>(page_size); ++i) {
    page.sessions.push_back(*mine[i]);
  }
  if (offset + page.sessions.size() < mine.size()) {
    page.next_page_token = absl::StrCat(offset + page.sessions.size());
  }
  return page;
}

}  // namespace vet::session
