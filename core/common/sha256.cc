// SHA-256 through OpenSSL's EVP interface (the low-level SHA256() is
// deprecated in OpenSSL 3).
#include "core/common/sha256.h"

#include <openssl/evp.h>

#include "absl/base/internal/raw_logging.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace vet {

Sha256Digest Sha256(absl::string_view data) {
  Sha256Digest digest;
  unsigned int size = 0;
  // EVP_Digest fails only when memory runs out or the algorithm is missing
  // from the build: a broken start-up invariant, not a bad input.
  int ok = EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr);
  ABSL_RAW_CHECK(ok == 1 && size == digest.size(), "EVP_Digest(SHA-256) failed");
  return digest;
}

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
  ABSL_RAW_CHECK(ctx_ != nullptr, "EVP_MD_CTX_new failed");
  ABSL_RAW_CHECK(EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) == 1,
                 "EVP_DigestInit_ex(SHA-256) failed");
}

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256Hasher::Update(absl::string_view data) {
  ABSL_RAW_CHECK(EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size()) == 1,
                 "EVP_DigestUpdate failed");
}

Sha256Digest Sha256Hasher::Final() {
  Sha256Digest digest;
  unsigned int size = 0;
  ABSL_RAW_CHECK(EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), digest.data(), &size) == 1 &&
                     size == digest.size(),
                 "EVP_DigestFinal_ex failed");
  return digest;
}

std::string Sha256Hex(const Sha256Digest& digest) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

absl::StatusOr<Sha256Digest> ParseSha256Hex(absl::string_view hex) {
  if (hex.size() != 2 * Sha256Digest().size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be 64 hex digits (a SHA-256); got ", hex.size(), " characters"));
  }
  Sha256Digest digest;
  for (size_t i = 0; i < hex.size(); ++i) {
    char c = hex[i];
    int v = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (v < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "must be 64 hex digits (a SHA-256); character ", i + 1, " is not a hex digit"));
    }
    if (i % 2 == 0) {
      digest[i / 2] = static_cast<uint8_t>(v << 4);
    } else {
      digest[i / 2] |= static_cast<uint8_t>(v);
    }
  }
  return digest;
}

bool DigestsEqual(const Sha256Digest& a, const Sha256Digest& b) {
  // Accumulates every difference so that the time does not reveal the
  // length of a matching prefix.
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i];
  return diff == 0;
}

}  // namespace vet
