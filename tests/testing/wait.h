// Waiting on a condition with a deadline, for tests that must observe state
// another thread or process changes (never a fixed sleep).
#ifndef VET_TESTS_TESTING_WAIT_H_
#define VET_TESTS_TESTING_WAIT_H_

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace vet::testing {

// Polls `condition` every millisecond until it holds (true) or `timeout`
// passes (false).
inline bool WaitUntil(const std::function<bool()>& condition,
                      absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

}  // namespace vet::testing

#endif  // VET_TESTS_TESTING_WAIT_H_
