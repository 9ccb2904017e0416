#include "core/common/unique_fd.h"

#include <unistd.h>

namespace vet {

void UniqueFd::reset(int fd) {
  // Linux releases the descriptor even when close fails (EINTR included), so
  // it is never retried: a retry could close one another thread just opened.
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

bool UniqueFd::Close() { return fd_ < 0 || ::close(release()) == 0; }

}  // namespace vet
