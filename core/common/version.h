// What this binary is: the project version (CMake's project version) and
// the commit it was built from (`git describe --always --dirty` when CMake
// was configured; "unknown" outside a git checkout). Used by --version,
// the vet_build_info gauge and the start-up log line.
#ifndef VET_CORE_COMMON_VERSION_H_
#define VET_CORE_COMMON_VERSION_H_

#include <string>

namespace vet {

// "0.1.0".
const char* BuildVersion();
// "v0.1.0-3-g6c9a5f6abcde", "6c9a5f6abcde-dirty" or "unknown".
const char* BuildCommit();
// "<program> <version> (commit <commit>)\n", what --version prints.
std::string VersionLine(const char* program);

}  // namespace vet

#endif  // VET_CORE_COMMON_VERSION_H_
