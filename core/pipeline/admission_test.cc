#include "core/pipeline/admission.h"

#include <vector>

#include "core/common/testing/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::pipeline {
namespace {

using ::testing::HasSubstr;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

TEST(QuestionAdmissionTest, APracticePastItsShareIsRefusedWhileOthersAreServed) {
  FakeClock clock;
  QuestionAdmission admission({/*max_in_progress=*/100, /*max_per_practice=*/3}, clock);
  std::vector<QuestionAdmission::Ticket> held;
  for (int i = 0; i < 3; ++i) {
    auto ticket = admission.Admit("flood");
    ASSERT_THAT(ticket, IsOk());
    held.push_back(*std::move(ticket));
  }
  EXPECT_THAT(admission.Admit("flood"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("practice 'flood' already has 3 questions in progress")));
  EXPECT_THAT(admission.Admit("flood"),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("retry in")));
  // Another practice is not affected.
  EXPECT_THAT(admission.Admit("quiet"), IsOk());
  EXPECT_EQ(admission.in_progress("flood"), 3);
  // One ends: the practice may ask again.
  held.pop_back();
  EXPECT_THAT(admission.Admit("flood"), IsOk());
}

TEST(QuestionAdmissionTest, TheServerPastItsTotalAnswersUnavailable) {
  FakeClock clock;
  QuestionAdmission admission({/*max_in_progress=*/2, /*max_per_practice=*/10}, clock);
  auto a = admission.Admit("a");
  auto b = admission.Admit("b");
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_THAT(admission.Admit("c"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("the server is busy (2")));
  EXPECT_EQ(admission.in_progress(), 2);
  EXPECT_EQ(admission.in_progress("c"), 0) << "a refused practice leaves no entry";
}

TEST(QuestionAdmissionTest, TheRetryHintFollowsHowLongQuestionsTake) {
  FakeClock clock;
  QuestionAdmission admission({/*max_in_progress=*/100, /*max_per_practice=*/1}, clock);
  for (int i = 0; i < 64; ++i) {
    auto ticket = admission.Admit("p");
    ASSERT_THAT(ticket, IsOk());
    clock.Advance(absl::Seconds(7));
  }
  auto held = admission.Admit("p");
  ASSERT_THAT(held, IsOk());
  EXPECT_THAT(admission.Admit("p"),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("retry in 7s")));
}

TEST(QuestionAdmissionTest, MovedTicketsReleaseOnce) {
  FakeClock clock;
  QuestionAdmission admission({/*max_in_progress=*/1, /*max_per_practice=*/1}, clock);
  {
    auto ticket = admission.Admit("p");
    ASSERT_THAT(ticket, IsOk());
    QuestionAdmission::Ticket moved = *std::move(ticket);
    QuestionAdmission::Ticket again;
    again = std::move(moved);
    EXPECT_EQ(admission.in_progress(), 1);
  }
  EXPECT_EQ(admission.in_progress(), 0);
}

TEST(QuestionAdmissionTest, ARateLimitRefusesPastTheBurstAndRefillsOverTime) {
  FakeClock clock;
  QuestionAdmission::Options options;
  options.rate_per_minute = 60;  // one a second
  options.rate_burst = 3;
  QuestionAdmission admission(options, clock);
  for (int i = 0; i < 3; ++i) EXPECT_THAT(admission.Admit("busy"), IsOk()) << i;
  EXPECT_THAT(admission.Admit("busy"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("practice 'busy' may ask 60 questions a minute (--rate_limit, "
                                 "bursts of 3); the next may be asked in 1s")));
  // Another practice has its own bucket.
  EXPECT_THAT(admission.Admit("calm"), IsOk());
  clock.Advance(absl::Milliseconds(500));
  EXPECT_THAT(admission.Admit("busy"),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("in 500ms")));
  clock.Advance(absl::Milliseconds(500));
  EXPECT_THAT(admission.Admit("busy"), IsOk());
  // Refills up to the burst, not beyond.
  clock.Advance(absl::Hours(1));
  for (int i = 0; i < 3; ++i) EXPECT_THAT(admission.Admit("busy"), IsOk()) << i;
  EXPECT_FALSE(admission.Admit("busy").ok());
  EXPECT_EQ(admission.in_progress("busy"), 0) << "tickets above were not kept";
}

}  // namespace
}  // namespace vet::pipeline
