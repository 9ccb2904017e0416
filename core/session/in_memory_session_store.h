// A SessionStore in process memory: sessions are forgotten on restart. The
// simplest honest store (and the one most tests use); SqliteSessionStore and
// PostgresSessionStore make sessions durable. All three pass one suite
// (session_store_test.cc).
#ifndef VET_CORE_SESSION_IN_MEMORY_SESSION_STORE_H_
#define VET_CORE_SESSION_IN_MEMORY_SESSION_STORE_H_

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/common/clock.h"
#include "core/session/session_store.h"

namespace vet::session {

// Thread-safe: one mutex. `clock` must outlive the store; options.ttl must
// be positive. Ended and expired sessions stay (NOT_FOUND) until Purge.
class InMemorySessionStore final : public SessionStore {
 public:
  explicit InMemorySessionStore(const Clock& clock, SessionOptions options = {})
      : clock_(clock), options_(options) {}

  absl::StatusOr<SessionRecord> Create(const std::string& practice_id) override;
  absl::StatusOr<SessionRecord> Get(const std::string& practice_id,
                                    const std::string& session_id) override;
  absl::Status AppendTurn(const std::string& practice_id, const std::string& session_id,
                          TurnRecord turn) override;
  absl::Status End(const std::string& practice_id, const std::string& session_id) override;
  absl::StatusOr<SessionPage> List(const std::string& practice_id, int page_size,
                                   const std::string& page_token) override;
  absl::StatusOr<bool> TryClaim(const std::string& practice_id, const std::string& session_id,
                                const std::string& holder, absl::Duration lease) override;
  absl::Status ReleaseClaim(const std::string& session_id, const std::string& holder) override;
  absl::StatusOr<int> Purge() override;
  absl::Status Discard(const std::string& practice_id, const std::string& session_id) override;

 private:
  // The session if it exists, belongs to the practice and is live (not
  // ended, not expired).
  SessionRecord* FindLive(const std::string& practice_id, const std::string& session_id,
                          absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The same, ended or not.
  SessionRecord* FindKept(const std::string& practice_id, const std::string& session_id,
                          absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  const SessionOptions options_;
  absl::Mutex mu_;
  std::map<std::string, SessionRecord> sessions_ ABSL_GUARDED_BY(mu_);
  struct Claim {
    std::string holder;
    absl::Time until;
  };
  std::map<std::string, Claim> claims_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vet::session

#endif  // VET_CORE_SESSION_IN_MEMORY_SESSION_STORE_H_
