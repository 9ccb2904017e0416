// RouteProtobufLog: google::protobuf::SetLogHandler with a once-a-minute
// summary of invalid UTF-8 refusals.
#include "server/protobuf_log.h"

#include <google/protobuf/stubs/logging.h>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/common/log.h"

namespace vet::server {
namespace internal {
namespace {

struct Utf8Refusals {
  absl::Mutex mu;
  int64_t unreported ABSL_GUARDED_BY(mu) = 0;
  absl::Time last_report ABSL_GUARDED_BY(mu) = absl::InfinitePast();
};

Utf8Refusals& Refusals() {
  static auto* refusals = new Utf8Refusals();
  return *refusals;
}

}  // namespace

std::string HandleProtobufLog(int level, const std::string& message, absl::Time now) {
  if (absl::StrContains(message, "invalid UTF-8")) {
    Utf8Refusals& r = Refusals();
    absl::MutexLock lock(&r.mu);
    ++r.unreported;
    if (now - r.last_report < absl::Minutes(1)) return "";
    std::string line =
        absl::StrCat(r.unreported,
                     " request(s) refused since the last report: a string field was not "
                     "valid UTF-8 (protobuf: ",
                     message.substr(0, 200), ")");
    r.unreported = 0;
    r.last_report = now;
    return line;
  }
  return absl::StrCat(level >= google::protobuf::LOGLEVEL_ERROR ? "protobuf error: " : "protobuf: ",
                      message);
}

}  // namespace internal

namespace {

void Handler(google::protobuf::LogLevel level, const char* /*filename*/, int /*line*/,
             const std::string& message) {
  const std::string line = internal::HandleProtobufLog(level, message, absl::Now());
  if (line.empty()) return;
  if (level >= google::protobuf::LOGLEVEL_ERROR) {
    LogWarning(line);
  } else {
    LogInfo(line);
  }
}

}  // namespace

void RouteProtobufLog() { google::protobuf::SetLogHandler(&Handler); }

}  // namespace vet::server
