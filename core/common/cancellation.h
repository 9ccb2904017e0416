// Cooperative cancellation of one question. The server trips the token when the
// client cancels or its deadline passes; stages poll IsCancelled() between
// steps and register callbacks to interrupt blocking work (kill a process,
// abort an HTTP transfer) at once.
#ifndef VET_CORE_COMMON_CANCELLATION_H_
#define VET_CORE_COMMON_CANCELLATION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace vet {

// Thread-safe. Cancel() runs each registered callback exactly once, on the
// cancelling thread, outside the token's lock.
class CancellationToken {
 public:
  using CallbackId = int64_t;

  CancellationToken() = default;
  CancellationToken(const CancellationToken&) = delete;
  CancellationToken& operator=(const CancellationToken&) = delete;

  void Cancel();
  bool IsCancelled() const;

  // Runs `cb` when the token is cancelled, or at once (on this thread) if it
  // already is. Returns an id for Unregister(); -1 if it ran at once.
  CallbackId Register(std::function<void()> cb);
  // After Unregister returns, the callback is not running and will not run.
  void Unregister(CallbackId id);

  // Blocks until cancelled or `timeout` passes; returns IsCancelled().
  bool WaitFor(absl::Duration timeout) const;

  // kCancelled with a message naming `where`, or OK.
  absl::Status Check(const char* where) const;

 private:
  mutable absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool running_callbacks_ ABSL_GUARDED_BY(mu_) = false;
  std::thread::id cancelling_thread_ ABSL_GUARDED_BY(mu_);
  CallbackId next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<CallbackId, std::function<void()>> callbacks_ ABSL_GUARDED_BY(mu_);
};

// Registers a callback for the lifetime of the scope.
class ScopedCancellationCallback {
 public:
  ScopedCancellationCallback(CancellationToken& token, std::function<void()> cb)
      : token_(token), id_(token.Register(std::move(cb))) {}
  ~ScopedCancellationCallback() {
    if (id_ >= 0) token_.Unregister(id_);
  }
  ScopedCancellationCallback(const ScopedCancellationCallback&) = delete;
  ScopedCancellationCallback& operator=(const ScopedCancellationCallback&) = delete;

 private:
  CancellationToken& token_;
  CancellationToken::CallbackId id_;
};

}  // namespace vet

#endif  // VET_CORE_COMMON_CANCELLATION_H_
