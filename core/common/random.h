// Unguessable identifiers from the kernel's CSPRNG.
#ifndef VET_CORE_COMMON_RANDOM_H_
#define VET_CORE_COMMON_RANDOM_H_

#include <string>

#include "absl/strings/string_view.h"

namespace vet {

// Lower-case hex of `bytes` random bytes from getrandom(2). Thread-safe.
std::string RandomHex(int bytes);

// True if `id` has the form RandomHex(bytes) gives: 2 * bytes lower-case
// hex digits (what a store checks before trusting an id from a client).
bool IsRandomHex(absl::string_view id, int bytes);

}  // namespace vet

#endif  // VET_CORE_COMMON_RANDOM_H_
