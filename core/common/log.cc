// Implementation of the stderr logger: the two line formats and the
// thread-local context.
#include "core/common/log.h"

#include <unistd.h>

#include <atomic>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "core/common/utf8.h"

namespace vet {
namespace {

std::atomic<bool> quiet{false};
std::atomic<LogFormat> format{LogFormat::kText};
thread_local const LogContext* current_context = nullptr;

const char* LevelName(LogLevel level) {
  return level == LogLevel::kInfo ? "INFO" : level == LogLevel::kWarning ? "WARN" : "ERROR";
}

// `text` as a JSON string, quotes included.
void AppendJsonString(std::string* out, absl::string_view text) {
  out->push_back('"');
  while (!text.empty()) {
    const Utf8Scan scan = ScanUtf8(text);
    const absl::string_view valid = text.substr(0, scan.valid ? text.size() : scan.invalid_at);
    for (char c : valid) {
      switch (c) {
        case '"':
          out->append("\\\"");
          break;
        case '\\':
          out->append("\\\\");
          break;
        case '\n':
          out->append("\\n");
          break;
        case '\r':
          out->append("\\r");
          break;
        case '\t':
          out->append("\\t");
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            absl::StrAppendFormat(out, "\\u%04x", static_cast<unsigned char>(c));
          } else {
            out->push_back(c);
          }
      }
    }
    if (scan.valid) break;
    out->append("\xEF\xBF\xBD");  // U+FFFD for the one bad byte
    text.remove_prefix(scan.invalid_at + 1);
  }
  out->push_back('"');
}

void AppendJsonField(std::string* out, absl::string_view name, absl::string_view value) {
  if (out->back() != '{') out->push_back(',');
  AppendJsonString(out, name);
  out->push_back(':');
  AppendJsonString(out, value);
}

}  // namespace

ScopedLogContext::ScopedLogContext(std::shared_ptr<const LogContext> context)
    : context_(std::move(context)), previous_(current_context) {
  current_context = context_.get();
}

ScopedLogContext::~ScopedLogContext() { current_context = previous_; }

const LogContext* CurrentLogContext() { return current_context; }

void SetLogQuiet(bool q) { quiet.store(q); }

void SetLogFormat(LogFormat f) { format.store(f); }

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(absl::StrCat("'", name, "' is not a log format: text or json"));
}

std::string FormatLogLine(LogFormat f, LogLevel level, absl::Time time, const LogContext* context,
                          absl::string_view message) {
  const std::string when = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
  const LogContext empty;
  const LogContext& c = context != nullptr ? *context : empty;
  if (f == LogFormat::kJson) {
    std::string line = "{";
    AppendJsonField(&line, "time", when);
    AppendJsonField(&line, "level", LevelName(level));
    if (!c.practice.empty()) AppendJsonField(&line, "practice", c.practice);
    if (!c.session.empty()) AppendJsonField(&line, "session", c.session);
    if (!c.question_id.empty()) AppendJsonField(&line, "question_id", c.question_id);
    if (!c.trace_id.empty()) AppendJsonField(&line, "trace_id", c.trace_id);
    AppendJsonField(&line, "message", message);
    line.append("}\n");
    return line;
  }
  std::string tags;
  auto tag = [&tags](absl::string_view name, absl::string_view value) {
    if (value.empty()) return;
    absl::StrAppend(&tags, tags.empty() ? "[" : " ", name, "=", value);
  };
  tag("practice", c.practice);
  tag("session", c.session);
  tag("question", c.question_id);
  tag("trace", c.trace_id);
  if (!tags.empty()) tags.append("] ");
  return absl::StrCat(when, " ", LevelName(level), " ", tags, message, "\n");
}

void Log(LogLevel level, absl::string_view message) {
  if (level == LogLevel::kInfo && quiet.load()) return;
  std::string line = FormatLogLine(format.load(), level, absl::Now(), current_context, message);
  ssize_t unused = ::write(STDERR_FILENO, line.data(), line.size());
  (void)unused;
}

}  // namespace vet
