// Implementation of CancellationToken.
#include "core/common/cancellation.h"

#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace vet {

void CancellationToken::Cancel() {
  std::map<CallbackId, std::function<void()>> to_run;
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return;
    cancelled_ = true;
    running_callbacks_ = true;
    to_run.swap(callbacks_);
  }
  {
    absl::MutexLock lock(&mu_);
    cancelling_thread_ = std::this_thread::get_id();
  }
  for (auto& [id, cb] : to_run) cb();
  // Destroyed before Unregister may return, since callbacks capture by
  // reference what their registrant owns.
  to_run.clear();
  absl::MutexLock lock(&mu_);
  running_callbacks_ = false;
}

bool CancellationToken::IsCancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

CancellationToken::CallbackId CancellationToken::Register(std::function<void()> cb) {
  {
    absl::MutexLock lock(&mu_);
    if (!cancelled_) {
      CallbackId id = next_id_++;
      callbacks_.emplace(id, std::move(cb));
      return id;
    }
  }
  cb();
  return -1;
}

void CancellationToken::Unregister(CallbackId id) {
  absl::MutexLock lock(&mu_);
  callbacks_.erase(id);
  // A callback unregistering (itself or another) from the cancelling thread
  // must not wait for itself.
  if (running_callbacks_ && cancelling_thread_ == std::this_thread::get_id()) return;
  // If Cancel() took the callback already, wait until it has finished so the
  // caller may destroy what the callback captures.
  const bool* running_callbacks = &running_callbacks_;
  mu_.Await(absl::Condition(
      +[](const bool* running) { return !*running; }, running_callbacks));
}

bool CancellationToken::WaitFor(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&cancelled_), timeout);
  return cancelled_;
}

absl::Status CancellationToken::Check(const char* where) const {
  if (!IsCancelled()) return absl::OkStatus();
  return absl::CancelledError(absl::StrCat("the question was cancelled ", where));
}

}  // namespace vet
