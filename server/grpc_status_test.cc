#include "server/grpc_status.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/common/error_details.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace vet::server {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(ToGrpcStatusTest, KeepsTheCodeAndDropsTheServersPaths) {
  grpc::Status status = ToGrpcStatus(absl::NotFoundError(
      "practice 'riverside' data: the practice has no data yet "
      "(/var/lib/vet-analytics/practices/riverside/data does not exist); import its exports "
      "first"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(),
            "practice 'riverside' data: the practice has no data yet (data does not exist); "
            "import its exports first");
}

TEST(ToGrpcStatusTest, CapsTheMessage) {
  grpc::Status status = ToGrpcStatus(absl::InvalidArgumentError(std::string(5000, 'x')));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message().size(), 2048u);
  EXPECT_THAT(status.error_message(), EndsWith("..."));
  EXPECT_THAT(ToGrpcStatus(absl::OkStatus()).error_message(), Not(HasSubstr("x")));
}

TEST(ToGrpcStatusTest, ALongListIsCutBetweenLinesNeverInOne) {
  std::string message = "import refused: 40 problems";
  for (int i = 0; i < 40; ++i) {
    message += absl::StrCat("\nclients line ", i + 2, ", column email: ", std::string(80, 'e'));
  }
  grpc::Status status = ToGrpcStatus(absl::InvalidArgumentError(message));
  EXPECT_LE(status.error_message().size(), 2048u);
  EXPECT_THAT(status.error_message(), EndsWith("eeee\n... (more in the error details)"));
}

google::rpc::Status Details(const grpc::Status& status) {
  google::rpc::Status rpc;
  EXPECT_TRUE(rpc.ParseFromString(status.error_details()));
  EXPECT_EQ(rpc.code(), static_cast<int>(status.error_code()));
  EXPECT_EQ(rpc.message(), status.error_message());
  return rpc;
}

TEST(ToGrpcStatusTest, EveryErrorCarriesAReasonAPlainOneItsCodes) {
  google::rpc::Status rpc = Details(ToGrpcStatus(absl::UnavailableError("down")));
  ASSERT_EQ(rpc.details_size(), 1);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(rpc.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "UNAVAILABLE");
  EXPECT_EQ(info.domain(), "vetanalytics.v1");
  ASSERT_TRUE(Details(ToGrpcStatus(absl::InvalidArgumentError("bad"))).details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "INVALID_REQUEST");
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).error_details().empty());
}

TEST(ToGrpcStatusTest, ReasonRetryAndViolationsBecomeTheStandardDetails) {
  absl::Status s = WithRetryDelay(WithReason(absl::ResourceExhaustedError("slow down"),
                                             reason::kRateLimited, {{"practice_id", "north"}}),
                                  absl::Milliseconds(2500));
  s = WithViolations(s, {{"question", "is empty"}});
  google::rpc::Status rpc = Details(ToGrpcStatus(s));
  ASSERT_EQ(rpc.details_size(), 3);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(rpc.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "RATE_LIMITED");
  EXPECT_EQ(info.metadata().at("practice_id"), "north");
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(rpc.details(1).UnpackTo(&retry));
  EXPECT_EQ(retry.retry_delay().seconds(), 2);
  EXPECT_EQ(retry.retry_delay().nanos(), 500000000);
  google::rpc::BadRequest bad;
  ASSERT_TRUE(rpc.details(2).UnpackTo(&bad));
  ASSERT_EQ(bad.field_violations_size(), 1);
  EXPECT_EQ(bad.field_violations(0).field(), "question");
  EXPECT_EQ(bad.field_violations(0).description(), "is empty");
}

TEST(ToGrpcStatusTest, TwentyImportProblemsFitBesideTheirListInTheMessage) {
  std::string message = "import refused: 20 problems";
  std::vector<FieldViolation> twenty;
  for (int i = 0; i < 20; ++i) {
    const std::string what = absl::StrCat("value \"", std::string(60, 'v'), "\": not a date");
    absl::StrAppend(&message, "\nclients line ", i + 2, ", column created_on, ", what);
    twenty.push_back({absl::StrCat("clients.csv:", i + 2, ":created_on"), what});
  }
  grpc::Status status = ToGrpcStatus(WithViolations(absl::InvalidArgumentError(message), twenty));
  EXPECT_LE(status.error_message().size(), 1024u);
  EXPECT_LE(status.error_details().size(), 4096u);
  google::rpc::BadRequest bad;
  ASSERT_TRUE(Details(status).details(1).UnpackTo(&bad));
  EXPECT_EQ(bad.field_violations_size(), 20);
}

TEST(ToGrpcStatusTest, ManyViolationsStayUnderTheTrailerBudgetAndSayWhatWasLeftOut) {
  std::vector<FieldViolation> many;
  many.reserve(100);
  for (int i = 0; i < 100; ++i) {
    many.push_back({absl::StrCat("clients.csv:", i + 2, ":email"), std::string(300, 'v')});
  }
  grpc::Status status =
      ToGrpcStatus(WithViolations(absl::InvalidArgumentError("import refused"), many));
  EXPECT_LE(status.error_details().size(), 4096u);
  google::rpc::BadRequest bad;
  ASSERT_TRUE(Details(status).details(1).UnpackTo(&bad));
  ASSERT_GT(bad.field_violations_size(), 5);
  EXPECT_LT(bad.field_violations_size(), 100);
  EXPECT_EQ(bad.field_violations(0).field(), "clients.csv:2:email");
  EXPECT_THAT(bad.field_violations(bad.field_violations_size() - 1).description(),
              ::testing::MatchesRegex("\\.\\.\\. and [0-9]+ more not listed here"));
}

}  // namespace
}  // namespace vet::server
