// Tests of ConcurrencyLimiter: FIFO admission and cancellation while waiting.
#include "core/sandbox/concurrency_limiter.h"

#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"

namespace vet::sandbox {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;
using ::vet::testing::WaitUntil;

TEST(ConcurrencyLimiterTest, AdmitsUpToTheLimitWithoutWaiting) {
  ConcurrencyLimiter limiter(/*limit=*/2);
  CancellationToken token;
  EXPECT_THAT(limiter.Acquire(token), IsOk());
  EXPECT_THAT(limiter.Acquire(token), IsOk());
  EXPECT_EQ(limiter.running(), 2);
  limiter.Release();
  limiter.Release();
  EXPECT_EQ(limiter.running(), 0);
}

TEST(ConcurrencyLimiterTest, AdmitsWaitersInArrivalOrder) {
  ConcurrencyLimiter limiter(/*limit=*/1);
  CancellationToken token;
  ASSERT_THAT(limiter.Acquire(token), IsOk());

  absl::Mutex mu;
  std::vector<int> order;
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      CancellationToken own;
      ASSERT_THAT(limiter.Acquire(own), IsOk());
      {
        absl::MutexLock lock(&mu);
        order.push_back(i);
      }
      limiter.Release();
    });
    // Each thread is queued before the next one starts.
    ASSERT_TRUE(WaitUntil([&] { return limiter.waiting() == i + 1; }));
  }
  limiter.Release();
  for (auto& t : threads) t.join();
  EXPECT_THAT(order, ElementsAre(0, 1, 2));
  EXPECT_EQ(limiter.running(), 0);
  EXPECT_EQ(limiter.waiting(), 0);
}

TEST(ConcurrencyLimiterTest, CancelledWaiterLeavesTheQueueWithoutASlot) {
  ConcurrencyLimiter limiter(/*limit=*/1);
  CancellationToken holder;
  ASSERT_THAT(limiter.Acquire(holder), IsOk());

  CancellationToken waiter_token;
  absl::Status waiter_status;
  std::thread waiter([&] { waiter_status = limiter.Acquire(waiter_token); });
  ASSERT_TRUE(WaitUntil([&] { return limiter.waiting() == 1; }));
  waiter_token.Cancel();
  waiter.join();

  EXPECT_THAT(waiter_status, StatusIs(absl::StatusCode::kCancelled, HasSubstr("waiting")));
  EXPECT_EQ(limiter.waiting(), 0);
  EXPECT_EQ(limiter.running(), 1);
  limiter.Release();
}

TEST(ConcurrencyLimiterTest, CancelledWaiterDoesNotBlockThoseBehindIt) {
  ConcurrencyLimiter limiter(/*limit=*/1);
  CancellationToken holder;
  ASSERT_THAT(limiter.Acquire(holder), IsOk());

  CancellationToken first_token;
  absl::Status first_status;
  std::thread first([&] { first_status = limiter.Acquire(first_token); });
  ASSERT_TRUE(WaitUntil([&] { return limiter.waiting() == 1; }));
  CancellationToken second_token;
  absl::Status second_status;
  std::thread second([&] { second_status = limiter.Acquire(second_token); });
  ASSERT_TRUE(WaitUntil([&] { return limiter.waiting() == 2; }));

  first_token.Cancel();
  first.join();
  limiter.Release();
  second.join();
  EXPECT_THAT(first_status, StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(second_status, IsOk());
  EXPECT_EQ(limiter.running(), 1);
  limiter.Release();
}

TEST(ConcurrencyLimiterTest, AlreadyCancelledTokenIsRefusedAtOnce) {
  ConcurrencyLimiter limiter(/*limit=*/1);
  CancellationToken token;
  token.Cancel();
  EXPECT_THAT(limiter.Acquire(token), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(limiter.running(), 0);
}

}  // namespace
}  // namespace vet::sandbox
