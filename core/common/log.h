// Minimal structured logging to stderr (Abseil 20220623 has no absl/log).
// One line per message, in one of two formats (SetLogFormat):
//   text: 2026-12-04T10:00:00.123Z WARN [practice=demo session=1f2e... question=9a8b...
//         trace=4bf92f...] message
//   json: {"time":"2026-12-04T10:00:00.123Z","level":"WARN","practice":"demo",
//          "session":"1f2e...","question_id":"9a8b...","trace_id":"4bf92f...",
//          "message":"..."}
// The bracket (text) and the context fields (json) come from the thread's
// current LogContext and are left out when empty. Never log prompts, keys or
// rows.
//
// How the context reaches code deep in core/ without being passed to every
// function: whoever runs a piece of work for a question (the pipeline's steps
// and the callbacks it hands to the generator, the server's reactor) sets
// the question's LogContext with a ScopedLogContext on the thread that runs
// it, for as long as that piece runs; every Log call on that thread then
// carries it. Work a component runs on its own threads (the model client's
// I/O loop, the sandbox supervisor) carries no context unless it runs a
// callback that sets it.
#ifndef VET_CORE_COMMON_LOG_H_
#define VET_CORE_COMMON_LOG_H_

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace vet {

enum class LogLevel { kInfo, kWarning, kError };

enum class LogFormat { kText, kJson };

// What a line is about, beside its message. Every field may be empty.
struct LogContext {
  std::string practice;
  std::string session;
  std::string question_id;
  // 32 lower-case hex digits (core/common/trace_context.h).
  std::string trace_id;
};

// Makes `context` the calling thread's log context until destroyed, then
// restores the one before (scopes nest). Holds a reference to `context`, so
// a line logged in scope never reads a context being changed: to change a
// question's context, make a new one. Create and destroy on one thread.
class ScopedLogContext {
 public:
  explicit ScopedLogContext(std::shared_ptr<const LogContext> context);
  ~ScopedLogContext();
  ScopedLogContext(const ScopedLogContext&) = delete;
  ScopedLogContext& operator=(const ScopedLogContext&) = delete;

 private:
  std::shared_ptr<const LogContext> context_;
  const LogContext* previous_;
};

// The calling thread's log context; nullptr outside every scope.
const LogContext* CurrentLogContext();

// Thread-safe: each line is written with one write(2).
void Log(LogLevel level, absl::string_view message);

// Silences kInfo lines (tests); warnings and errors still print.
void SetLogQuiet(bool quiet);

// The format of every line from now on; kText until set. Set it once at
// start-up, before other threads log.
void SetLogFormat(LogFormat format);

// "text" or "json"; anything else is kInvalidArgument naming the value.
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name);

// The line (with its '\n') that Log writes; exposed for tests. In json, a
// message that is not valid UTF-8 has each bad byte replaced by U+FFFD, so
// the line always parses.
std::string FormatLogLine(LogFormat format, LogLevel level, absl::Time time,
                          const LogContext* context, absl::string_view message);

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
#define VET_CHECK(cond)                                                               \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      ::vet::Log(::vet::LogLevel::kError,                                             \
                 ::absl::StrCat(__FILE__, ":", __LINE__, ": check failed: ", #cond)); \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

#endif  // VET_CORE_COMMON_LOG_H_
