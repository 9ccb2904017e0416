// Minimal structured logging to stderr (Abseil 20220623 has no absl/log).
// One line per message: time, level, message. Never log prompts, keys or rows.
#ifndef VET_CORE_COMMON_LOG_H_
#define VET_CORE_COMMON_LOG_H_

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace vet {

enum class LogLevel { kInfo, kWarning, kError };

// Thread-safe: each line is written with one write(2).
void Log(LogLevel level, absl::string_view message);

// Silences kInfo lines (tests); warnings and errors still print.
void SetLogQuiet(bool quiet);

template <typename... Args>
void LogInfo(const Args&... args) {
  Log(LogLevel::kInfo, absl::StrCat(args...));
}
template <typename... Args>
void LogWarning(const Args&... args) {
  Log(LogLevel::kWarning, absl::StrCat(args...));
}
template <typename... Args>
void LogError(const Args&... args) {
  Log(LogLevel::kError, absl::StrCat(args...));
}

}  // namespace vet

// For programmer errors and start-up invariants only, never for input.
#define VET_CHECK(cond)                                                       \
  do {                                                                        \
    if (!(cond)) {                                                            \
      ::vet::Log(::vet::LogLevel::kError,                                     \
                 ::absl::StrCat(__FILE__, ":", __LINE__, ": check failed: ", \
                                #cond));                                      \
      std::abort();                                                           \
    }                                                                         \
  } while (0)

#endif  // VET_CORE_COMMON_LOG_H_
