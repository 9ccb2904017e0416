#include "core/session/session_locks.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"

namespace vet::session {

SessionLocks::Lease::Lease(Lease&& other) noexcept
    : locks_(std::exchange(other.locks_, nullptr)), id_(std::move(other.id_)) {}

SessionLocks::Lease& SessionLocks::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    if (locks_ != nullptr) locks_->Release(id_);
    locks_ = std::exchange(other.locks_, nullptr);
    id_ = std::move(other.id_);
  }
  return *this;
}

SessionLocks::Lease::~Lease() {
  if (locks_ != nullptr) locks_->Release(id_);
}

absl::StatusOr<SessionLocks::Lease> SessionLocks::Acquire(const std::string& session_id,
                                                          CancellationToken& cancel) {
  Waiter waiter;
  // Registered before mu_ is taken: a token already cancelled runs the
  // callback at once, on this thread. Destroyed after the lock below.
  ScopedCancellationCallback wake(cancel, [this, &waiter] {
    absl::MutexLock lock(&mu_);
    waiter.cancelled = true;
  });
  absl::MutexLock lock(&mu_);
  // std::map keeps references valid, and an entry that is held stays.
  Entry& entry = entries_[session_id];
  if (!entry.held) {
    entry.held = true;
    return Lease(this, session_id);
  }
  if (!waiter.cancelled) {
    entry.queue.push_back(&waiter);
    mu_.Await(absl::Condition(
        +[](Waiter* w) { return w->granted || w->cancelled; }, &waiter));
    if (waiter.granted) return Lease(this, session_id);
    entry.queue.erase(std::find(entry.queue.begin(), entry.queue.end(), &waiter));
  }
  return absl::CancelledError("cancelled while waiting for the session's previous question");
}

void SessionLocks::Release(const std::string& session_id) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(session_id);
  if (it == entries_.end()) return;
  Entry& entry = it->second;
  if (!entry.queue.empty()) {
    // Handed straight to the next waiter: the session stays held.
    entry.queue.front()->granted = true;
    entry.queue.pop_front();
    return;
  }
  entries_.erase(it);
}

int SessionLocks::active() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(entries_.size());
}

}  // namespace vet::session
