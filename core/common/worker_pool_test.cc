#include "core/common/worker_pool.h"

#include <atomic>

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
  WorkerPool pool({/*threads=*/1, /*max_queued=*/1});
  absl::Notification started, release;
  ASSERT_TRUE(pool.Submit([&] {
    started.Notify();
    release.WaitForNotification();
  }).ok());
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
    WorkerPool pool({/*threads=*/2, /*max_queued=*/0});
    absl::Notification release;
    ASSERT_TRUE(pool.Submit([&] { release.WaitForNotification(); ++done; }).ok());
    ASSERT_TRUE(pool.Submit([&] { release.WaitForNotification(); ++done; }).ok());
    EXPECT_EQ(pool.Submit([] {}).code(), absl::StatusCode::kUnavailable);
    release.Notify();
  }
  EXPECT_EQ(done.load(), 2);
}

}  // namespace
}  // namespace vet
