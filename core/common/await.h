// The blocking form of an asynchronous call: for callers (tests, tools,
// the sync wrappers of async interfaces) that want to wait for a result.
#ifndef VET_CORE_COMMON_AWAIT_H_
#define VET_CORE_COMMON_AWAIT_H_

#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/types/optional.h"

namespace vet {

// Calls `start` with a callback taking a T, then blocks until that callback
// has been called (once, on any thread, or inline) and returns its value.
template <typename T, typename Start>
T AwaitCallback(Start&& start) {
  absl::Mutex mu;
  absl::optional<T> result;
  start([&mu, &result](T value) {
    absl::MutexLock lock(&mu);
    result.emplace(std::move(value));
  });
  absl::MutexLock lock(&mu);
  mu.Await(absl::Condition(
      +[](absl::optional<T>* r) { return r->has_value(); }, &result));
  return std::move(*result);
}

}  // namespace vet

#endif  // VET_CORE_COMMON_AWAIT_H_
