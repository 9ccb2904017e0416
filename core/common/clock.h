// Time as an injected interface (as Envoy's TimeSource): production code asks
// a Clock, tests advance a FakeClock (core/common/testing/fake_clock.h).
#ifndef VET_CORE_COMMON_CLOCK_H_
#define VET_CORE_COMMON_CLOCK_H_

#include <time.h>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace vet {

// CLOCK_MONOTONIC as a duration since an arbitrary start (boot): for
// deadlines and elapsed times, which a step of the wall clock (NTP, an
// operator, a VM resumed) must not move. Thread-safe.
inline absl::Duration MonotonicNow() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return absl::DurationFromTimespec(ts);
}

// Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  // A process-wide instance; never destroyed.
  static Clock& Get() {
    static RealClock* clock = new RealClock();
    return *clock;
  }
};

}  // namespace vet

#endif  // VET_CORE_COMMON_CLOCK_H_
