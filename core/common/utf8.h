// UTF-8 for limits and checks that people read in characters: how many
// characters a text holds, and where it stops being valid UTF-8.
#ifndef VET_CORE_COMMON_UTF8_H_
#define VET_CORE_COMMON_UTF8_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace vet {

struct Utf8Scan {
  // Code points in the valid prefix (the whole text when valid).
  size_t chars = 0;
  bool valid = true;
  // Byte offset of the first invalid sequence when !valid.
  size_t invalid_at = 0;
};

// Scans `text` as UTF-8 (RFC 3629: no overlong forms, no surrogates,
// nothing past U+10FFFF).
Utf8Scan ScanUtf8(absl::string_view text);

}  // namespace vet

#endif  // VET_CORE_COMMON_UTF8_H_
