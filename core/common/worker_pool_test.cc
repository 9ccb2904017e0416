#include "core/common/worker_pool.h"

#include <atomic>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace vet {
namespace {

TEST(WorkerPoolTest, RunsEverySubmittedTask) {
  std::atomic<int> done{0};
  {
    WorkerPool pool({/*threads=*/2, /*max_queued=*/100});
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(pool.Submit([&] { ++done; }).ok());
    }
  }  // the destructor drains the queue
  EXPECT_EQ(done.load(), 50);
}

TEST(WorkerPoolTest, RefusesWorkBeyondTheQueueBound) {
  // Declared before the pool, so that the pool's destructor joins the worker
  // before they go: the worker may still be inside WaitForNotification.
  absl::Notification started, release;
  WorkerPool pool({/*threads=*/1, /*max_queued=*/1});
  ASSERT_TRUE(pool.Submit([&] {
                    started.Notify();
                    release.WaitForNotification();
                  })
                  .ok());
  started.WaitForNotification();
  ASSERT_TRUE(pool.Submit([] {}).ok());  // waits in the queue
  absl::Status refused = pool.Submit([] {});
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(refused.message().find("busy"), absl::string_view::npos);
  release.Notify();
}

TEST(WorkerPoolTest, IdleThreadsAcceptWorkEvenWithNoQueue) {
  std::atomic<int> done{0};
  {
    absl::Notification release;  // outlives the pool's workers
    WorkerPool pool({/*threads=*/2, /*max_queued=*/0});
    ASSERT_TRUE(pool.Submit([&] {
                      release.WaitForNotification();
                      ++done;
                    })
                    .ok());
    ASSERT_TRUE(pool.Submit([&] {
                      release.WaitForNotification();
                      ++done;
                    })
                    .ok());
    EXPECT_EQ(pool.Submit([] {}).code(), absl::StatusCode::kUnavailable);
    release.Notify();
  }
  EXPECT_EQ(done.load(), 2);
}

TEST(WorkerPoolTest, PostRunsEvenWhenTheQueueIsFull) {
  std::atomic<int> done{0};
  {
    absl::Notification release;  // outlives the pool's workers
    WorkerPool pool({/*threads=*/1, /*max_queued=*/0});
    ASSERT_TRUE(pool.Submit([&] { release.WaitForNotification(); }).ok());
    EXPECT_EQ(pool.Submit([] {}).code(), absl::StatusCode::kUnavailable);
    // A continuation of admitted work is never refused.
    for (int i = 0; i < 10; ++i) pool.Post([&] { ++done; });
    release.Notify();
  }
  EXPECT_EQ(done.load(), 10);
}

// Questions in progress resuming must not make new ones look like a
// backlog: continuations neither count against max_queued nor wait behind
// new work.
TEST(WorkerPoolTest, ContinuationsRunFirstAndDoNotCountAgainstTheBound) {
  // Everything the tasks touch outlives the pool's workers.
  absl::Notification started, release, all;
  absl::Mutex mu;
  std::vector<std::string> order;
  WorkerPool pool({/*threads=*/1, /*max_queued=*/1});
  ASSERT_TRUE(pool.Submit([&] {
                    started.Notify();
                    release.WaitForNotification();
                  })
                  .ok());
  started.WaitForNotification();
  auto record = [&](std::string what) {
    absl::MutexLock lock(&mu);
    order.push_back(std::move(what));
    if (order.size() == 4) all.Notify();
  };
  for (int i = 0; i < 3; ++i) pool.Post([&, i] { record(absl::StrCat("continuation ", i)); });
  ASSERT_TRUE(pool.Submit([&] { record("new"); }).ok()) << "continuations are not a backlog";
  EXPECT_EQ(pool.Submit([] {}).code(), absl::StatusCode::kUnavailable) << "one new task waits";
  release.Notify();
  ASSERT_TRUE(all.WaitForNotificationWithTimeout(absl::Seconds(30)));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(order, (std::vector<std::string>{"continuation 0", "continuation 1", "continuation 2",
                                             "new"}));
}

TEST(WorkerPoolTest, TimersRunInDueOrder) {
  absl::Mutex mu;  // these outlive the pool's workers
  std::vector<int> order;
  absl::Notification all;
  WorkerPool pool({/*threads=*/1, /*max_queued=*/10});
  auto record = [&](int n) {
    absl::MutexLock lock(&mu);
    order.push_back(n);
    if (order.size() == 3) all.Notify();
  };
  pool.PostAfter(absl::Milliseconds(60), [&] { record(3); });
  pool.PostAfter(absl::Milliseconds(20), [&] { record(2); });
  pool.PostAfter(absl::ZeroDuration(), [&] { record(1); });
  ASSERT_TRUE(all.WaitForNotificationWithTimeout(absl::Seconds(30)));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(WorkerPoolTest, DestructionRunsPendingTimersAtOnce) {
  std::atomic<int> done{0};
  {
    WorkerPool pool({/*threads=*/2, /*max_queued=*/10});
    // A question waiting on a long timer must still end when the server stops.
    pool.PostAfter(absl::Hours(1), [&] {
      ++done;
      pool.Post([&] { ++done; });
    });
  }
  EXPECT_EQ(done.load(), 2);
}

}  // namespace
}  // namespace vet
