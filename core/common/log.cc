// Implementation of the stderr logger.
#include "core/common/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace vet {
namespace {
std::atomic<bool> quiet{false};
}  // namespace

void SetLogQuiet(bool q) { quiet.store(q); }

void Log(LogLevel level, absl::string_view message) {
  if (level == LogLevel::kInfo && quiet.load()) return;
  const char* name = level == LogLevel::kInfo      ? "INFO"
                     : level == LogLevel::kWarning ? "WARN"
                                                   : "ERROR";
  std::string line = absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
      " ", name, " ", message, "\n");
  ssize_t unused = ::write(STDERR_FILENO, line.data(), line.size());
  (void)unused;
}

}  // namespace vet
