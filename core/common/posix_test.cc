#include "core/common/posix.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

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

int at_exit_fd = -1;

TEST(ForkedChildExitTest, EndsTheChildWithItsCodeRunningNoExitHandlers) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    at_exit_fd = fds[1];
    std::atexit(+[] { (void)!::write(at_exit_fd, "x", 1); });
    ForkedChildExit(7);
  }
  ::close(fds[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 7);
  char c;
  EXPECT_EQ(::read(fds[0], &c, 1), 0) << "an atexit handler ran";
  ::close(fds[0]);
}

}  // namespace
}  // namespace vet
