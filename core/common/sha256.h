// SHA-256 (FIPS 180-4) of a byte string, and the hex spelling of digests.
// Used to store API keys hashed: the practices file holds the SHA-256 of a
// key, never the key.
#ifndef VET_CORE_COMMON_SHA256_H_
#define VET_CORE_COMMON_SHA256_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vet {

using Sha256Digest = std::array<uint8_t, 32>;

// The SHA-256 of `data` (OpenSSL's libcrypto). Thread-safe.
Sha256Digest Sha256(absl::string_view data);

// SHA-256 of bytes that arrive in pieces (a file read in chunks).
// Not thread-safe; Final once.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(absl::string_view data);
  Sha256Digest Final();

 private:
  void* ctx_;  // EVP_MD_CTX
};

// Lower-case hex, 64 characters.
std::string Sha256Hex(const Sha256Digest& digest);

// Parses 64 hex digits (either case). kInvalidArgument otherwise, saying
// what is wrong but not echoing the text.
absl::StatusOr<Sha256Digest> ParseSha256Hex(absl::string_view hex);

// True if the digests are equal, taking the same time whatever they hold.
bool DigestsEqual(const Sha256Digest& a, const Sha256Digest& b);

}  // namespace vet

#endif  // VET_CORE_COMMON_SHA256_H_
