// An AuditStore for recorder tests: an InMemoryAuditStore that can be made
// to fail every Append, or to hold Append until the test releases it, and
// that counts the batches it was given.
#ifndef VET_CORE_AUDIT_TESTING_FAKE_AUDIT_STORE_H_
#define VET_CORE_AUDIT_TESTING_FAKE_AUDIT_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/audit/in_memory_audit_store.h"

namespace vet::audit {

class FakeAuditStore final : public AuditStore {
 public:
  absl::Status Append(const std::vector<AuditEntry>& entries) override {
    {
      absl::MutexLock lock(&mu_);
      ++appends_started_;
      batch_sizes_.push_back(static_cast<int64_t>(entries.size()));
      mu_.Await(absl::Condition(this, &FakeAuditStore::NotHeld));
      if (!fail_with_.ok()) return fail_with_;
    }
    return inner_.Append(entries);
  }
  absl::StatusOr<AuditPage> List(const std::string& practice_id, absl::Time since, int page_size,
                                 const std::string& page_token) override {
    return inner_.List(practice_id, since, page_size, page_token);
  }
  absl::StatusOr<int64_t> PurgeBefore(absl::Time before) override {
    return inner_.PurgeBefore(before);
  }

  // Appends wait while held.
  void Hold() {
    absl::MutexLock lock(&mu_);
    held_ = true;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    held_ = false;
  }
  // Waits until `n` Appends have started (the writer took a batch).
  void AwaitAppendsStarted(int64_t n) {
    absl::MutexLock lock(&mu_);
    awaited_ = n;
    mu_.Await(absl::Condition(this, &FakeAuditStore::StartedEnough));
  }
  void FailWith(absl::Status status) {
    absl::MutexLock lock(&mu_);
    fail_with_ = std::move(status);
  }
  std::vector<int64_t> batch_sizes() {
    absl::MutexLock lock(&mu_);
    return batch_sizes_;
  }

 private:
  bool NotHeld() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !held_; }
  bool StartedEnough() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return appends_started_ >= awaited_;
  }

  InMemoryAuditStore inner_;
  absl::Mutex mu_;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  int64_t appends_started_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t awaited_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<int64_t> batch_sizes_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_with_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vet::audit

#endif  // VET_CORE_AUDIT_TESTING_FAKE_AUDIT_STORE_H_
