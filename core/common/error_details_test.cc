#include "core/common/error_details.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vet {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(ErrorDetailsTest, ReasonRetryAndViolationsSurviveAnnotation) {
  absl::Status s = absl::ResourceExhaustedError("too many");
  s = WithReason(s, reason::kRateLimited, {{"practice_id", "north"}, {"limit", "60/min"}});
  s = WithRetryDelay(s, absl::Milliseconds(1500));
  s = WithViolations(s, {{"question", "is empty"}});
  s = WithViolations(s, {{"clients.csv:2:email", "not an e-mail\x1e address\x1f"}});
  absl::Status annotated = Annotate(s, "practice 'north': ");
  EXPECT_EQ(annotated.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(annotated.message(), "practice 'north': too many");
  ErrorDetails d = GetErrorDetails(annotated);
  EXPECT_EQ(d.reason, "RATE_LIMITED");
  EXPECT_THAT(d.metadata, ElementsAre(Pair("limit", "60/min"), Pair("practice_id", "north")));
  ASSERT_TRUE(d.retry_delay.has_value());
  EXPECT_EQ(*d.retry_delay, absl::Milliseconds(1500));
  ASSERT_EQ(d.violations.size(), 2u);
  EXPECT_EQ(d.violations[0].field, "question");
  EXPECT_EQ(d.violations[1].field, "clients.csv:2:email");
  EXPECT_EQ(d.violations[1].description, "not an e-mail  address ");
}

TEST(ErrorDetailsTest, OkStaysOkAndAPlainStatusHasNoDetails) {
  EXPECT_TRUE(WithReason(absl::OkStatus(), reason::kNoData).ok());
  EXPECT_TRUE(Annotate(absl::OkStatus(), "x").ok());
  ErrorDetails d = GetErrorDetails(absl::NotFoundError("gone"));
  EXPECT_EQ(d.reason, "");
  EXPECT_FALSE(d.retry_delay.has_value());
  EXPECT_TRUE(d.violations.empty());
}

}  // namespace
}  // namespace vet
