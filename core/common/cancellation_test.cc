#include "core/common/cancellation.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"

namespace vet {
namespace {

TEST(CancellationTokenTest, CancelRunsRegisteredCallbacksOnce) {
  CancellationToken token;
  int calls = 0;
  token.Register([&] { ++calls; });
  token.Cancel();
  token.Cancel();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(token.IsCancelled());
  EXPECT_EQ(token.Check("while testing").code(), absl::StatusCode::kCancelled);
}

TEST(CancellationTokenTest, RegisterAfterCancelRunsAtOnce) {
  CancellationToken token;
  token.Cancel();
  bool ran = false;
  EXPECT_EQ(token.Register([&] { ran = true; }), -1);
  EXPECT_TRUE(ran);
}

TEST(CancellationTokenTest, UnregisteredCallbackDoesNotRun) {
  CancellationToken token;
  bool ran = false;
  {
    ScopedCancellationCallback cb(token, [&] { ran = true; });
  }
  token.Cancel();
  EXPECT_FALSE(ran);
}

TEST(CancellationTokenTest, CallbackMayUnregisterOnTheCancellingThread) {
  CancellationToken token;
  CancellationToken::CallbackId other = token.Register([] {});
  bool ran = false;
  token.Register([&] {
    token.Unregister(other);  // must not wait for the callbacks it is part of
    ran = true;
  });
  token.Cancel();
  EXPECT_TRUE(ran);
}

TEST(CancellationTokenTest, WaitForWakesOnCancelFromAnotherThread) {
  CancellationToken token;
  std::thread t([&] { token.Cancel(); });
  EXPECT_TRUE(token.WaitFor(absl::Seconds(30)));
  t.join();
}

TEST(CancellationTokenTest, WaitForTimesOutWhenNotCancelled) {
  CancellationToken token;
  EXPECT_FALSE(token.WaitFor(absl::Milliseconds(1)));
  EXPECT_TRUE(token.Check("x").ok());
}

}  // namespace
}  // namespace vet
