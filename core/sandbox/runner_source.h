// The text of runner.py, the Python half of the sandbox protocol, compiled
// into the binary at build time (see embed_file.cmake) so that a deployed
// server cannot run a stale or edited copy from disk.
#ifndef VET_CORE_SANDBOX_RUNNER_SOURCE_H_
#define VET_CORE_SANDBOX_RUNNER_SOURCE_H_

#include "absl/strings/string_view.h"

namespace vet::sandbox::internal {

// Valid for the life of the process; contains no NUL byte.
absl::string_view RunnerSource();

}  // namespace vet::sandbox::internal

#endif  // VET_CORE_SANDBOX_RUNNER_SOURCE_H_
