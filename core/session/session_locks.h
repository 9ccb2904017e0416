// One question at a time per session: a second question on a session waits
// for the first to finish, so their turns are never interleaved and the
// second one sees the first's turn as context. Within one server process,
// in arrival order; across servers sharing a store the pipeline also claims
// the session in the store (SessionStore::TryClaim).
#ifndef VET_CORE_SESSION_SESSION_LOCKS_H_
#define VET_CORE_SESSION_SESSION_LOCKS_H_

#include <deque>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/common/cancellation.h"

namespace vet::session {

// Thread-safe.
class SessionLocks {
 public:
  // Held for one question; releases the session when destroyed.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

   private:
    friend class SessionLocks;
    Lease(SessionLocks* locks, std::string id) : locks_(locks), id_(std::move(id)) {}
    SessionLocks* locks_ = nullptr;
    std::string id_;
  };

  // Waits, in arrival order, until no other question holds `session_id`.
  // kCancelled (naming the wait) when `cancel` is tripped first.
  absl::StatusOr<Lease> Acquire(const std::string& session_id, CancellationToken& cancel);

  // Sessions held or waited for (tests, metrics).
  int active() const;

 private:
  void Release(const std::string& session_id);

  struct Waiter {
    bool granted = false;
    bool cancelled = false;
  };
  struct Entry {
    bool held = false;
    // Questions waiting, in arrival order; the entry goes when it is
    // neither held nor waited for.
    std::deque<Waiter*> queue;
  };
  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vet::session

#endif  // VET_CORE_SESSION_SESSION_LOCKS_H_
