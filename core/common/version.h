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

// Sets absl's usage config for a binary whose flags are defined in
// `main_file` ("server/main.cc", relative to the source root): --help lists
// those flags under that name (not under the build machine's path to the
// checkout, and not absl's default of a file named after the binary, which
// would list none); --version prints VersionLine(program).
void ConfigureHelpAndVersion(const char* program, const char* main_file);

}  // namespace vet

#endif  // VET_CORE_COMMON_VERSION_H_
