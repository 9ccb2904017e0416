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

}  // namespace vet

#endif  // VET_CORE_COMMON_POSIX_H_
