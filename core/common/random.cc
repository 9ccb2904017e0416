// RandomHex on getrandom(2); it blocks only before the kernel's pool is
// initialised, which never happens after boot.
#include "core/common/random.h"

#include <sys/random.h>

#include <cerrno>
#include <string>
#include <vector>

#include "core/common/log.h"

namespace vet {

bool IsRandomHex(absl::string_view id, int bytes) {
  if (id.size() != 2 * static_cast<size_t>(bytes)) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string RandomHex(int bytes) {
  std::vector<unsigned char> buf(bytes);
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = getrandom(buf.data() + got, buf.size() - got, 0);
    if (n < 0 && errno == EINTR) continue;
    VET_CHECK(n > 0);
    got += n;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(static_cast<size_t>(bytes) * 2);
  for (unsigned char c : buf) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

}  // namespace vet
