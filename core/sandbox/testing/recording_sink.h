// An OutputSink for tests: records both streams and the pieces as they came,
// and lets a test wait for text on stdout. Safe to read from another thread
// while an execution writes to it.
#ifndef VET_CORE_SANDBOX_TESTING_RECORDING_SINK_H_
#define VET_CORE_SANDBOX_TESTING_RECORDING_SINK_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/sandbox/executor.h"

namespace vet::sandbox {

class RecordingSink final : public OutputSink {
 public:
  void OnOutput(OutputStream stream, absl::string_view text) override {
    absl::MutexLock lock(&mu_);
    (stream == OutputStream::kStdout ? stdout_ : stderr_).append(text.data(), text.size());
    chunks_.emplace_back(text);
  }
  std::string out() const {
    absl::MutexLock lock(&mu_);
    return stdout_;
  }
  std::string err() const {
    absl::MutexLock lock(&mu_);
    return stderr_;
  }
  // stdout, then stderr.
  std::string all() const {
    absl::MutexLock lock(&mu_);
    return stdout_ + stderr_;
  }
  std::vector<std::string> chunks() const {
    absl::MutexLock lock(&mu_);
    return chunks_;
  }
  // Blocks until stdout contains `text` or `timeout` passes.
  bool WaitForStdout(absl::string_view text, absl::Duration timeout) const {
    absl::MutexLock lock(&mu_);
    const std::string wanted(text);
    auto seen = [&]() -> bool { return stdout_.find(wanted) != std::string::npos; };
    return mu_.AwaitWithTimeout(absl::Condition(&seen), timeout);
  }

 private:
  mutable absl::Mutex mu_;
  std::string stdout_ ABSL_GUARDED_BY(mu_);
  std::string stderr_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> chunks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vet::sandbox

#endif  // VET_CORE_SANDBOX_TESTING_RECORDING_SINK_H_
