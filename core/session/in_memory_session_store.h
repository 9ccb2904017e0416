// A SessionStore in process memory: sessions are forgotten on restart. The
// first, simplest honest store (and the one tests use); SQLite and PostgreSQL
// stores make sessions durable.
#ifndef VET_CORE_SESSION_IN_MEMORY_SESSION_STORE_H_
#define VET_CORE_SESSION_IN_MEMORY_SESSION_STORE_H_

#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "core/common/clock.h"
#include "core/session/session_store.h"

namespace vet::session {

// Thread-safe.
class InMemorySessionStore final : public SessionStore {
 public:
  explicit InMemorySessionStore(const Clock& clock) : clock_(clock) {}

  absl::StatusOr<SessionRecord> Create(const std::string& practice_id) override;
  absl::StatusOr<SessionRecord> Get(const std::string& practice_id,
                                    const std::string& session_id) override;
  absl::Status AppendTurn(const std::string& practice_id,
                          const std::string& session_id, TurnRecord turn) override;
  absl::Status End(const std::string& practice_id,
                   const std::string& session_id) override;
  absl::StatusOr<SessionPage> List(const std::string& practice_id, int page_size,
                                   const std::string& page_token) override;

 private:
  // The session if it exists, belongs to the practice and is not ended.
  SessionRecord* FindLive(const std::string& practice_id,
                          const std::string& session_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  absl::Mutex mu_;
  std::map<std::string, SessionRecord> sessions_ ABSL_GUARDED_BY(mu_);
};

// The NOT_FOUND status every store returns for an unknown, ended or foreign
// session, so that none of them leaks which it was.
absl::Status SessionNotFound(const std::string& session_id);

}  // namespace vet::session

#endif  // VET_CORE_SESSION_IN_MEMORY_SESSION_STORE_H_
