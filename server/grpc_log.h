// gRPC's own log lines (gpr_log: "validate_metadata...", connection errors)
// through the server's log, so that they carry its time format and, with
// --log_format=json, are JSON objects like every other line.
#ifndef VET_SERVER_GRPC_LOG_H_
#define VET_SERVER_GRPC_LOG_H_

#include <string>

#include "absl/strings/string_view.h"
#include "core/common/log.h"

namespace vet::server {

// Installs the handler (process-wide; idempotent).
void RouteGrpcLog();

namespace internal {

// The server log's level and text for one gpr_log line.
LogLevel GrpcLogLevel(int gpr_severity);
std::string GrpcLogMessage(absl::string_view file, int line, absl::string_view message);

}  // namespace internal
}  // namespace vet::server

#endif  // VET_SERVER_GRPC_LOG_H_
