#include "server/grpc_status.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vet::server {
namespace {

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
  EXPECT_EQ(status.error_message().size(), 1024u + 3);
  EXPECT_THAT(status.error_message(), HasSubstr("..."));
  EXPECT_THAT(ToGrpcStatus(absl::OkStatus()).error_message(), Not(HasSubstr("x")));
}

}  // namespace
}  // namespace vet::server
