// One question at a time per session: a second question on a session waits
// for the first to finish, so their turns are never interleaved and the
// second one sees the first's turn as context. Within one server process,
// in arrival order; across servers sharing a store the pipeline also claims
// the session in the store (SessionStore::TryClaim).
#ifndef VET_CORE_SESSION_SESSION_LOCKS_H_
#define VET_CORE_SESSION_SESSION_LOCKS_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
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

  using AcquireCallback = std::function<void(absl::StatusOr<Lease>)>;

  // Calls `done` with the lease once no other question holds `session_id`,
  // in arrival order, without holding a thread meanwhile: inline when the
  // session is free, else on the thread that releases it. kCancelled
  // (naming the wait) when `cancel` is tripped first, on the cancelling
  // thread. `cancel` must outlive the call to `done`.
  void AcquireAsync(const std::string& session_id, CancellationToken& cancel, AcquireCallback done);

  // AcquireAsync, waiting for `done`.
  absl::StatusOr<Lease> Acquire(const std::string& session_id, CancellationToken& cancel);

  // Sessions held or waited for (tests, metrics).
  int active() const;

 private:
  void Release(const std::string& session_id);

  struct Waiter {
    AcquireCallback done;
    CancellationToken* cancel = nullptr;
    CancellationToken::CallbackId cancel_id = -1;
    // Set under mu_ by whichever comes first.
    bool granted = false;
    bool cancelled = false;
  };
  struct Entry {
    bool held = false;
    // Questions waiting, in arrival order; the entry goes when it is
    // neither held nor waited for.
    std::deque<std::shared_ptr<Waiter>> queue;
  };
  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vet::session

#endif  // VET_CORE_SESSION_SESSION_LOCKS_H_
