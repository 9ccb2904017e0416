// One mapping from a failed system call's errno to absl::Status, so every
// caller's code means the same thing: what to do next decides it.
//   ENOENT                           kNotFound
//   ENOTDIR, EEXIST, ENOTEMPTY       kFailedPrecondition (something else is
//                                    in the way)
//   EACCES, EPERM, EROFS             kPermissionDenied
//   ENOSPC, EDQUOT, EMFILE, ENFILE,
//   ENOMEM, EFBIG                    kResourceExhausted (a disk, quota or
//                                    table is full: free some, then retry)
//   EINTR, EAGAIN, EBUSY             kUnavailable (try again)
//   anything else                    kInternal
#ifndef VET_CORE_COMMON_POSIX_H_
#define VET_CORE_COMMON_POSIX_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace vet {

// "<what>: <strerror(error)>" under the code above. Thread-safe.
absl::Status ErrnoToStatus(int error, absl::string_view what);

// _exit(code): ends the process at once, running no destructors or atexit
// handlers, for a thread that must stop the process now. In a coverage build
// (-DVET_COVERAGE=ON) it first writes the process's gcov counts, which _exit
// would lose.
[[noreturn]] void ExitWithoutCleanup(int code);

// For a child forked from the (threaded) server, between fork and execve.
//
// ForkedChildFlushCoverage: in a coverage build, writes the child's gcov
// counts now, while it still has the server's user and no limits (gcov
// allocates and opens files); later writes do nothing. It does nothing in
// other builds, and nothing in a coverage build with AddressSanitizer, whose
// allocator (GCC 12's) may be left locked by another thread at fork: there
// the child's lines go uncounted rather than risk a child that never execs.
void ForkedChildFlushCoverage();
// _exit(code) after ForkedChildFlushCoverage.
[[noreturn]] void ForkedChildExit(int code);
// execve(2) as the system call itself: g++'s coverage instrumentation sends a
// call of execve through gcov, which writes the counts first (see above).
// Returns only on failure, with errno set.
int ForkedChildExecve(const char* path, char* const argv[], char* const envp[]);

}  // namespace vet

#endif  // VET_CORE_COMMON_POSIX_H_
