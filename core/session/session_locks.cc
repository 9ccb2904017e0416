#include "core/session/session_locks.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "core/common/await.h"

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

void SessionLocks::AcquireAsync(const std::string& session_id, CancellationToken& cancel,
                                AcquireCallback done) {
  auto waiter = std::make_shared<Waiter>();
  waiter->done = std::move(done);
  waiter->cancel = &cancel;
  {
    absl::MutexLock lock(&mu_);
    // std::map keeps references valid, and an entry that is held stays.
    Entry& entry = entries_[session_id];
    if (!entry.held) {
      entry.held = true;
      waiter->granted = true;
    } else {
      entry.queue.push_back(waiter);
    }
  }
  if (waiter->granted) {
    // Nothing else can see this waiter: no race with a cancellation.
    waiter->done(Lease(this, session_id));
    return;
  }
  // Registered after the waiter is queued, so that a token already
  // cancelled runs this at once and takes it out again.
  std::weak_ptr<Waiter> weak = waiter;
  const CancellationToken::CallbackId id = cancel.Register([this, weak, session_id] {
    std::shared_ptr<Waiter> w = weak.lock();
    if (w == nullptr) return;
    {
      absl::MutexLock lock(&mu_);
      if (w->granted || w->cancelled) return;
      w->cancelled = true;
      auto it = entries_.find(session_id);
      if (it != entries_.end()) {
        auto& queue = it->second.queue;
        queue.erase(std::find(queue.begin(), queue.end(), w));
      }
    }
    w->done(absl::CancelledError("cancelled while waiting for the session's previous question"));
  });
  absl::MutexLock lock(&mu_);
  waiter->cancel_id = id;
}

absl::StatusOr<SessionLocks::Lease> SessionLocks::Acquire(const std::string& session_id,
                                                          CancellationToken& cancel) {
  return AwaitCallback<absl::StatusOr<Lease>>(
      [&](AcquireCallback done) { AcquireAsync(session_id, cancel, std::move(done)); });
}

void SessionLocks::Release(const std::string& session_id) {
  std::shared_ptr<Waiter> next;
  CancellationToken::CallbackId cancel_id = -1;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(session_id);
    if (it == entries_.end()) return;
    Entry& entry = it->second;
    if (entry.queue.empty()) {
      entries_.erase(it);
      return;
    }
    // Handed straight to the next waiter: the session stays held.
    next = entry.queue.front();
    entry.queue.pop_front();
    next->granted = true;
    cancel_id = next->cancel_id;
  }
  // Outside mu_: Unregister waits for a cancellation callback that may be
  // running, and that callback takes mu_ (it sees `granted` and returns).
  if (cancel_id >= 0) next->cancel->Unregister(cancel_id);
  next->done(Lease(this, session_id));
}

int SessionLocks::active() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(entries_.size());
}

}  // namespace vet::session
