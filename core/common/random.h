// Unguessable identifiers from the kernel's CSPRNG.
#ifndef VET_CORE_COMMON_RANDOM_H_
#define VET_CORE_COMMON_RANDOM_H_

#include <string>

namespace vet {

// Lower-case hex of `bytes` random bytes from getrandom(2). Thread-safe.
std::string RandomHex(int bytes);

}  // namespace vet

#endif  // VET_CORE_COMMON_RANDOM_H_
