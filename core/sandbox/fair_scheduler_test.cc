// Tests of FairScheduler over a fake inner executor whose executions block
// until the test releases them, so every ordering is decided by the test,
// never by timing.
#include "core/sandbox/fair_scheduler.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/common/testing/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::sandbox {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

// How long a test waits for something that should happen at once; only a
// broken scheduler (or a badly overloaded machine) gets near it.
constexpr absl::Duration kPatience = absl::Seconds(20);

class NullSink final : public OutputSink {
 public:
  void OnOutput(OutputStream, absl::string_view) override {}
};

// Each execution records that it started, then blocks until Release(its
// code) (or ReleaseAll), and answers with its code. Tracks how many run at
// once, overall and per practice.
class GatedExecutor final : public Executor {
 public:
  absl::StatusOr<ExecutionResult> Execute(const ExecutionRequest& request, OutputSink&,
                                          CancellationToken&) override {
    absl::MutexLock lock(&mu_);
    started_.push_back(request.code);
    ++running_;
    ++running_by_[request.practice_id];
    max_running_ = std::max(max_running_, running_);
    max_running_by_[request.practice_id] =
        std::max(max_running_by_[request.practice_id], running_by_[request.practice_id]);
    changed_.SignalAll();
    while (!release_all_ && released_.count(request.code) == 0) changed_.Wait(&mu_);
    --running_;
    --running_by_[request.practice_id];
    ExecutionResult result;
    result.answer = request.code;
    return result;
  }

  void Release(const std::string& code) {
    absl::MutexLock lock(&mu_);
    released_.insert(code);
    changed_.SignalAll();
  }
  void ReleaseAll() {
    absl::MutexLock lock(&mu_);
    release_all_ = true;
    changed_.SignalAll();
  }
  // Waits until `n` executions have started; false after kPatience.
  bool WaitStarted(size_t n) {
    absl::MutexLock lock(&mu_);
    const absl::Time deadline = absl::Now() + kPatience;
    while (started_.size() < n) {
      if (changed_.WaitWithDeadline(&mu_, deadline)) return started_.size() >= n;
    }
    return true;
  }
  std::vector<std::string> started() const {
    absl::MutexLock lock(&mu_);
    return started_;
  }
  int max_running() const {
    absl::MutexLock lock(&mu_);
    return max_running_;
  }
  std::map<std::string, int> max_running_by_practice() const {
    absl::MutexLock lock(&mu_);
    return max_running_by_;
  }

 private:
  mutable absl::Mutex mu_;
  absl::CondVar changed_;
  std::vector<std::string> started_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> released_ ABSL_GUARDED_BY(mu_);
  bool release_all_ ABSL_GUARDED_BY(mu_) = false;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  int max_running_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int> running_by_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> max_running_by_ ABSL_GUARDED_BY(mu_);
};

// One ExecuteAsync call: what it needs alive until `done`, and what `done`
// got.
struct Call {
  NullSink sink;
  CancellationToken cancel;
  absl::Notification done;
  absl::StatusOr<ExecutionResult> result;
  std::thread::id done_thread;

  bool WaitDone() { return done.WaitForNotificationWithTimeout(kPatience); }
};

ExecutionRequest Request(const std::string& practice, const std::string& code) {
  ExecutionRequest request;
  request.practice_id = practice;
  request.code = code;
  return request;
}

class FairSchedulerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (scheduler_ == nullptr) return;
    inner_->ReleaseAll();
    scheduler_.reset();
  }

  void Start(FairScheduler::Options options) {
    auto inner = std::make_unique<GatedExecutor>();
    inner_ = inner.get();
    auto scheduler = FairScheduler::Create(options, std::move(inner), clock_);
    ASSERT_THAT(scheduler, IsOk());
    scheduler_ = *std::move(scheduler);
  }

  // Queues `code` for `practice`; the call stays alive with the fixture.
  Call& Submit(const std::string& practice, const std::string& code) {
    calls_.push_back(std::make_unique<Call>());
    Call& call = *calls_.back();
    scheduler_->ExecuteAsync(Request(practice, code), call.sink, call.cancel,
                             [&call](absl::StatusOr<ExecutionResult> r) {
                               call.result = std::move(r);
                               call.done_thread = std::this_thread::get_id();
                               call.done.Notify();
                             });
    return call;
  }

  FakeClock clock_;
  // Before scheduler_: destroyed after it, so every call outlives its `done`.
  std::vector<std::unique_ptr<Call>> calls_;
  GatedExecutor* inner_ = nullptr;  // owned by scheduler_
  std::unique_ptr<FairScheduler> scheduler_;
};

FairScheduler::Options Slots(int max_concurrent, int per_practice) {
  FairScheduler::Options options;
  options.max_concurrent = max_concurrent;
  options.max_running_per_practice = per_practice;
  return options;
}

TEST_F(FairSchedulerTest, FloodFromOnePracticeDelaysAnotherByOneExecutionAtMost) {
  // No reserve: practice a may hold both slots, the worst case for b.
  Start(Slots(/*max_concurrent=*/2, /*per_practice=*/2));
  for (int i = 0; i < 20; ++i) Submit("a", absl::StrCat("a", i));
  ASSERT_TRUE(inner_->WaitStarted(2));
  EXPECT_EQ(scheduler_->waiting(), 18);
  Call& b = Submit("b", "b0");

  // The next free slot goes to b, ahead of a's eighteen.
  inner_->Release("a0");
  ASSERT_TRUE(inner_->WaitStarted(3));
  // (a0 and a1 reach the inner executor in either order.)
  std::vector<std::string> started = inner_->started();
  EXPECT_THAT(started, UnorderedElementsAre("a0", "a1", "b0"));
  EXPECT_EQ(started.back(), "b0");
  inner_->Release("b0");
  ASSERT_TRUE(b.WaitDone());
  ASSERT_THAT(b.result, IsOk());
  EXPECT_EQ(b.result->answer, "b0");
}

TEST_F(FairSchedulerTest, PracticeAtItsCapLeavesSlotsForAnotherAtOnce) {
  Start(Slots(/*max_concurrent=*/5, /*per_practice=*/3));
  for (int i = 0; i < 20; ++i) Submit("a", absl::StrCat("a", i));
  ASSERT_TRUE(inner_->WaitStarted(3));
  Submit("b", "b0");
  // b starts without any of a's executions finishing.
  ASSERT_TRUE(inner_->WaitStarted(4));
  EXPECT_EQ(inner_->started().back(), "b0");
  EXPECT_EQ(scheduler_->running(), 4);
  EXPECT_EQ(scheduler_->waiting(), 17);
  std::map<std::string, FairScheduler::PracticeLoad> load = scheduler_->practice_load();
  ASSERT_EQ(load.size(), 2u);
  EXPECT_EQ(load["a"].running, 3);
  EXPECT_EQ(load["a"].waiting, 17);
  EXPECT_EQ(load["b"].running, 1);
  EXPECT_EQ(load["b"].waiting, 0);
}

TEST_F(FairSchedulerTest, NeverRunsMoreThanItsCapForOnePractice) {
  Start(Slots(/*max_concurrent=*/4, /*per_practice=*/2));
  for (int i = 0; i < 10; ++i) Submit("a", absl::StrCat("a", i));
  ASSERT_TRUE(inner_->WaitStarted(2));
  // Two slots stay free while a waits: it is at its cap.
  EXPECT_EQ(scheduler_->running(), 2);
  EXPECT_EQ(scheduler_->waiting(), 8);
  for (int i = 0; i < 10; ++i) {
    inner_->Release(absl::StrCat("a", i));
    ASSERT_TRUE(calls_[static_cast<size_t>(i)]->WaitDone());
    EXPECT_THAT(calls_[static_cast<size_t>(i)]->result, IsOk());
  }
  EXPECT_EQ(inner_->max_running_by_practice()["a"], 2);
}

TEST_F(FairSchedulerTest, ServesPracticesRoundRobin) {
  Start(Slots(/*max_concurrent=*/1, /*per_practice=*/1));
  Submit("x", "x0");
  ASSERT_TRUE(inner_->WaitStarted(1));
  for (const char* practice : {"a", "b", "c"}) {
    for (int i = 0; i < 3; ++i) Submit(practice, absl::StrCat(practice, i));
  }
  // One at a time: each release lets the next start.
  for (size_t n = 1; n <= 9; ++n) {
    inner_->Release(inner_->started().back());
    ASSERT_TRUE(inner_->WaitStarted(n + 1));
  }
  EXPECT_THAT(inner_->started(),
              ElementsAre("x0", "a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"));
}

TEST_F(FairSchedulerTest, RefusesPastThePracticesQueueBoundNamingPracticeAndLimit) {
  FairScheduler::Options options = Slots(/*max_concurrent=*/1, /*per_practice=*/1);
  options.max_queued_per_practice = 2;
  Start(options);
  Submit("a", "a0");
  ASSERT_TRUE(inner_->WaitStarted(1));
  Submit("a", "a1");
  Submit("a", "a2");
  Call& refused = Submit("a", "a3");
  // Refused inline, before ExecuteAsync returned. Two ahead of it, one at a
  // time, at the initial estimate of 2 s each.
  ASSERT_TRUE(refused.done.HasBeenNotified());
  EXPECT_THAT(refused.result,
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("practice 'a' has 2 executions waiting (the limit); "
                                 "retry in about 4 s")));
  // Another practice still gets in.
  Call& b = Submit("b", "b0");
  EXPECT_FALSE(b.done.HasBeenNotified());
  EXPECT_EQ(scheduler_->waiting(), 3);
}

TEST_F(FairSchedulerTest, RetryEstimateAndQueuedComeFromTheClock) {
  FairScheduler::Options options = Slots(/*max_concurrent=*/1, /*per_practice=*/1);
  options.max_queued_per_practice = 2;
  Start(options);
  Call& first = Submit("a", "a0");
  ASSERT_TRUE(inner_->WaitStarted(1));
  Call& second = Submit("a", "a1");
  clock_.Advance(absl::Seconds(10));  // a0 runs for 10 s; a1 waits as long
  inner_->Release("a0");
  ASSERT_TRUE(first.WaitDone());
  ASSERT_THAT(first.result, IsOk());
  EXPECT_EQ(first.result->queued, absl::ZeroDuration());
  ASSERT_TRUE(inner_->WaitStarted(2));
  inner_->Release("a1");
  ASSERT_TRUE(second.WaitDone());
  ASSERT_THAT(second.result, IsOk());
  EXPECT_EQ(second.result->queued, absl::Seconds(10));

  Submit("a", "a2");
  ASSERT_TRUE(inner_->WaitStarted(3));
  Submit("a", "a3");
  Submit("a", "a4");
  // The measured run (10 s, then a1's 0 s: 10 * 0.8) replaced the guess.
  EXPECT_THAT(Submit("a", "a5").result,
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("retry in about 16 s")));
}

TEST_F(FairSchedulerTest, RefusesPastTheGlobalQueueBoundAsUnavailable) {
  FairScheduler::Options options = Slots(/*max_concurrent=*/1, /*per_practice=*/1);
  options.max_queued_per_practice = 2;
  options.max_queued = 3;
  Start(options);
  Submit("x", "x0");
  ASSERT_TRUE(inner_->WaitStarted(1));
  Submit("a", "a0");
  Submit("a", "a1");
  Submit("b", "b0");
  Call& refused = Submit("c", "c0");
  ASSERT_TRUE(refused.done.HasBeenNotified());
  EXPECT_THAT(refused.result,
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("the sandbox is busy: 3 executions are waiting (the "
                                 "limit); retry in about 6 s")));
}

TEST_F(FairSchedulerTest, CancelWhileWaitingCompletesAtOnceAndNeverRuns) {
  Start(Slots(/*max_concurrent=*/1, /*per_practice=*/1));
  Submit("a", "a0");
  ASSERT_TRUE(inner_->WaitStarted(1));
  Call& waiting = Submit("b", "b0");
  Submit("b", "b1");
  EXPECT_EQ(scheduler_->waiting(), 2);

  waiting.cancel.Cancel();
  // While a0 still holds the only slot.
  ASSERT_TRUE(waiting.WaitDone());
  EXPECT_THAT(waiting.result, StatusIs(absl::StatusCode::kCancelled, HasSubstr("waiting")));
  EXPECT_NE(waiting.done_thread, std::this_thread::get_id());
  EXPECT_EQ(scheduler_->waiting(), 1);

  inner_->Release("a0");
  ASSERT_TRUE(inner_->WaitStarted(2));
  EXPECT_THAT(inner_->started(), ElementsAre("a0", "b1"));
}

TEST_F(FairSchedulerTest, AlreadyCancelledRequestIsRefusedInline) {
  Start(Slots(/*max_concurrent=*/1, /*per_practice=*/1));
  calls_.push_back(std::make_unique<Call>());
  Call& call = *calls_.back();
  call.cancel.Cancel();
  scheduler_->ExecuteAsync(Request("a", "a0"), call.sink, call.cancel,
                           [&call](absl::StatusOr<ExecutionResult> r) {
                             call.result = std::move(r);
                             call.done.Notify();
                           });
  ASSERT_TRUE(call.done.HasBeenNotified());
  EXPECT_THAT(call.result, StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(scheduler_->waiting(), 0);
  EXPECT_TRUE(inner_->started().empty());
}

TEST_F(FairSchedulerTest, ShutdownFailsWaitingRequestsAndLetsRunningOnesFinish) {
  Start(Slots(/*max_concurrent=*/1, /*per_practice=*/1));
  Call& running = Submit("a", "a0");
  ASSERT_TRUE(inner_->WaitStarted(1));
  Call& waiting_a = Submit("a", "a1");
  Call& waiting_b = Submit("b", "b0");

  GatedExecutor* inner = inner_;
  std::thread destroyer([this] { scheduler_.reset(); });
  ASSERT_TRUE(waiting_a.WaitDone());
  ASSERT_TRUE(waiting_b.WaitDone());
  EXPECT_THAT(waiting_a.result,
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("shutting down")));
  EXPECT_THAT(waiting_b.result,
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("shutting down")));
  EXPECT_FALSE(running.done.HasBeenNotified());

  inner->Release("a0");
  destroyer.join();
  ASSERT_TRUE(running.done.HasBeenNotified());
  EXPECT_THAT(running.result, IsOk());
}

TEST_F(FairSchedulerTest, ManyThreadsSubmittingConcurrentlyAllRunWithinTheLimits) {
  FairScheduler::Options options = Slots(/*max_concurrent=*/3, /*per_practice=*/2);
  options.max_queued_per_practice = 1000;
  options.max_queued = 1000;
  Start(options);
  inner_->ReleaseAll();  // executions finish as soon as they start
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  const std::vector<std::string> practices = {"a", "b", "c", "d"};
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        NullSink sink;
        CancellationToken cancel;
        const std::string& practice = practices[static_cast<size_t>((t + i) % 4)];
        auto result = scheduler_->Execute(Request(practice, absl::StrCat(t, "-", i)), sink, cancel);
        if (result.ok()) ok.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(inner_->started().size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_LE(inner_->max_running(), 3);
  for (const auto& [practice, most] : inner_->max_running_by_practice()) {
    EXPECT_LE(most, 2) << practice;
  }
  EXPECT_EQ(scheduler_->running(), 0);
  EXPECT_EQ(scheduler_->waiting(), 0);
  EXPECT_TRUE(scheduler_->practice_load().empty());
}

TEST(FairSchedulerCreateTest, RefusesLimitsOutOfRange) {
  FakeClock clock;
  FairScheduler::Options options;
  options.max_concurrent = 2;
  options.max_running_per_practice = 3;
  EXPECT_THAT(FairScheduler::Create(options, std::make_unique<GatedExecutor>(), clock),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_running_per_practice")));
  options.max_running_per_practice = 2;
  options.max_queued_per_practice = 0;
  EXPECT_THAT(FairScheduler::Create(options, std::make_unique<GatedExecutor>(), clock),
              StatusIs(absl::StatusCode::kInvalidArgument));
  options.max_queued_per_practice = 1;
  EXPECT_THAT(FairScheduler::Create(options, nullptr, clock),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(FairScheduler::Create(options, std::make_unique<GatedExecutor>(), clock), IsOk());
}

}  // namespace
}  // namespace vet::sandbox
