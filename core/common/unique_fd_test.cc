#include "core/common/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "gtest/gtest.h"

namespace vet {
namespace {

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

int OpenNull() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

TEST(UniqueFdTest, ClosesWhatItHoldsWhenItGoesOutOfScope) {
  int fd;
  {
    UniqueFd owner(OpenNull());
    fd = owner.get();
    ASSERT_TRUE(owner.valid());
    EXPECT_TRUE(IsOpen(fd));
  }
  EXPECT_FALSE(IsOpen(fd));
}

TEST(UniqueFdTest, AMoveHandsTheDescriptorOverAndAnAssignmentClosesTheOldOne) {
  UniqueFd first(OpenNull());
  const int fd = first.get();
  UniqueFd second(std::move(first));
  EXPECT_FALSE(first.valid());  // NOLINT(bugprone-use-after-move): what a move leaves
  EXPECT_EQ(second.get(), fd);
  UniqueFd third(OpenNull());
  const int replaced = third.get();
  third = std::move(second);
  EXPECT_FALSE(IsOpen(replaced));
  EXPECT_EQ(third.get(), fd);
  EXPECT_TRUE(IsOpen(fd));
}

TEST(UniqueFdTest, ReleaseGivesItUpOpenAndCloseSaysWhetherCloseWorked) {
  UniqueFd owner(OpenNull());
  const int fd = owner.release();
  EXPECT_FALSE(owner.valid());
  EXPECT_TRUE(IsOpen(fd));
  UniqueFd again(fd);
  EXPECT_TRUE(again.Close());
  EXPECT_FALSE(again.valid());
  EXPECT_FALSE(IsOpen(fd));
  EXPECT_TRUE(again.Close()) << "nothing held: nothing to fail";
  UniqueFd stale(fd);  // already closed: close(2) says EBADF
  EXPECT_FALSE(stale.Close());
  EXPECT_EQ(errno, EBADF);
}

}  // namespace
}  // namespace vet
