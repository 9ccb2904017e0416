#include "core/session/session_locks.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::session {
namespace {

using ::testing::HasSubstr;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

TEST(SessionLocksTest, SecondQuestionWaitsForTheFirst) {
  SessionLocks locks;
  CancellationToken cancel;
  auto first = locks.Acquire("s1", cancel);
  ASSERT_THAT(first, IsOk());
  std::atomic<bool> second_has_it{false};
  std::thread second([&] {
    CancellationToken c;
    auto lease = locks.Acquire("s1", c);
    EXPECT_THAT(lease, IsOk());
    second_has_it = true;
  });
  // Another session is not held up.
  auto other = locks.Acquire("s2", cancel);
  ASSERT_THAT(other, IsOk());
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(second_has_it) << "the second question must wait";
  *first = SessionLocks::Lease();  // the first question ends
  second.join();
  EXPECT_TRUE(second_has_it);
}

TEST(SessionLocksTest, NeverTwoHoldersAndAllInArrivalOrderEventually) {
  SessionLocks locks;
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  threads.reserve(16);
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      for (int round = 0; round < 20; ++round) {
        CancellationToken cancel;
        auto lease = locks.Acquire("shared", cancel);
        ASSERT_THAT(lease, IsOk());
        int now = ++inside;
        int seen = max_inside.load();
        while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::yield();
        --inside;
      }
      ++done;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(done.load(), 16);
  EXPECT_EQ(max_inside.load(), 1);
  EXPECT_EQ(locks.active(), 0) << "entries are dropped when nobody holds or waits";
}

TEST(SessionLocksTest, AWaitingQuestionCanBeCancelledAtOnce) {
  SessionLocks locks;
  CancellationToken first_cancel;
  auto first = locks.Acquire("s", first_cancel);
  ASSERT_THAT(first, IsOk());
  CancellationToken cancel;
  absl::Notification finished;
  absl::Status result;
  std::thread waiter([&] {
    result = locks.Acquire("s", cancel).status();
    finished.Notify();
  });
  absl::SleepFor(absl::Milliseconds(20));
  cancel.Cancel();
  EXPECT_TRUE(finished.WaitForNotificationWithTimeout(absl::Seconds(5)))
      << "a cancelled wait ends without waiting for the holder";
  waiter.join();
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kCancelled,
                               HasSubstr("waiting for the session's previous question")));
  // The cancelled waiter left the queue: the next one gets the session.
  *first = SessionLocks::Lease();
  CancellationToken next_cancel;
  EXPECT_THAT(locks.Acquire("s", next_cancel), IsOk());
}

TEST(SessionLocksTest, AnAlreadyCancelledQuestionDoesNotWait) {
  SessionLocks locks;
  CancellationToken holder;
  auto first = locks.Acquire("s", holder);
  ASSERT_THAT(first, IsOk());
  CancellationToken cancel;
  cancel.Cancel();
  EXPECT_THAT(locks.Acquire("s", cancel), StatusIs(absl::StatusCode::kCancelled));
}

}  // namespace
}  // namespace vet::session
