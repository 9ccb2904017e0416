#include "core/common/posix.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

#ifdef VET_COVERAGE_BUILD
// gcov's runtime defines it (gcov.h, which only GCC's own include folder holds).
extern "C" void __gcov_dump(void);  // NOLINT(bugprone-reserved-identifier): gcov's name
#endif

namespace vet {

void ExitWithoutCleanup(int code) {
#ifdef VET_COVERAGE_BUILD
  __gcov_dump();
#endif
  ::_exit(code);
}

void ForkedChildFlushCoverage() {
#if defined(VET_COVERAGE_BUILD) && !defined(__SANITIZE_ADDRESS__)
  __gcov_dump();
#endif
}

void ForkedChildExit(int code) {
  ForkedChildFlushCoverage();
  ::_exit(code);
}

int ForkedChildExecve(const char* path, char* const argv[], char* const envp[]) {
  return static_cast<int>(::syscall(SYS_execve, path, argv, envp));
}

absl::Status ErrnoToStatus(int error, absl::string_view what) {
  // strerror_r (GNU) is thread-safe where strerror is not.
  char buf[256];
  const std::string message = absl::StrCat(what, ": ", ::strerror_r(error, buf, sizeof(buf)));
  switch (error) {
    case ENOENT:
      return absl::NotFoundError(message);
    case ENOTDIR:
    case EEXIST:
    case ENOTEMPTY:
      return absl::FailedPreconditionError(message);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(message);
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case EFBIG:
      return absl::ResourceExhaustedError(message);
    case EINTR:
    case EAGAIN:
    case EBUSY:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace vet
