// Reading /proc in tests, for processes that may exit while they are read.
#ifndef VET_TESTS_TESTING_PROC_H_
#define VET_TESTS_TESTING_PROC_H_

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace vet::testing {

// The whole file; "" when it cannot be read. Plain read(2): a /proc file of
// a process that exits while it is read fails with ESRCH, which libstdc++'s
// streams turn into an exception that ends the test binary.
inline std::string ReadProcFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// The parent pid of `pid`; 0 when it is gone.
inline int ParentOf(int pid) {
  const std::string status = ReadProcFile(absl::StrCat("/proc/", pid, "/status"));
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    int ppid;
    if (absl::ConsumePrefix(&line, "PPid:") &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &ppid)) {
      return ppid;
    }
  }
  return 0;
}

}  // namespace vet::testing

#endif  // VET_TESTS_TESTING_PROC_H_
