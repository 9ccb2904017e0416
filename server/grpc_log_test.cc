#include "server/grpc_log.h"

#include <grpc/support/log.h>

#include "gtest/gtest.h"

namespace vet::server {
namespace {

TEST(GrpcLogTest, SeveritiesMapToTheServersLevelsAndTheFileLosesItsPath) {
  EXPECT_EQ(internal::GrpcLogLevel(GPR_LOG_SEVERITY_ERROR), LogLevel::kError);
  EXPECT_EQ(internal::GrpcLogLevel(GPR_LOG_SEVERITY_INFO), LogLevel::kInfo);
  EXPECT_EQ(internal::GrpcLogLevel(GPR_LOG_SEVERITY_DEBUG), LogLevel::kInfo);
  EXPECT_EQ(internal::GrpcLogMessage("/build/grpc/src/core/lib/surface/validate_metadata.cc", 73,
                                     "Metadata key 'X' is invalid"),
            "grpc: Metadata key 'X' is invalid (validate_metadata.cc:73)");
  EXPECT_EQ(internal::GrpcLogMessage("", 0, "m"), "grpc: m (:0)");
}

}  // namespace
}  // namespace vet::server
