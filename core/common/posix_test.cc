#include "core/common/posix.h"

#include <cerrno>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vet {
namespace {

using ::testing::HasSubstr;

TEST(ErrnoToStatusTest, OneMappingWhatToDoNextDecidesTheCode) {
  EXPECT_EQ(ErrnoToStatus(ENOENT, "open x").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrnoToStatus(ENOTDIR, "mkdir x/y").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrnoToStatus(EACCES, "open x").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoToStatus(EROFS, "write x").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoToStatus(ENOSPC, "write x").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoToStatus(EMFILE, "open x").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoToStatus(EAGAIN, "fork").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrnoToStatus(EBADF, "close").code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(ErrnoToStatus(ENOSPC, "cannot write /state/x").message()),
              HasSubstr("cannot write /state/x: No space left on device"));
}

}  // namespace
}  // namespace vet
