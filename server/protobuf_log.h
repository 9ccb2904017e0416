// Protobuf's own log lines, through the server's log, without letting
// anything flood it: protobuf logs one ERROR line for every message whose
// string field is not valid UTF-8 that it parses or serializes. Requests
// are checked before protobuf parses them (server/wire.h), so a client no
// longer causes those lines; should any appear, they are counted and
// summarised at most once a minute. Others pass through.
#ifndef VET_SERVER_PROTOBUF_LOG_H_
#define VET_SERVER_PROTOBUF_LOG_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace vet::server {

// Installs the handler (process-wide; idempotent).
void RouteProtobufLog();

namespace internal {

// What the handler does with one protobuf log line at `now`; returns the
// line it logged, or "" when it only counted it. Thread-safe.
std::string HandleProtobufLog(int level, const std::string& message, absl::Time now);

}  // namespace internal
}  // namespace vet::server

#endif  // VET_SERVER_PROTOBUF_LOG_H_
