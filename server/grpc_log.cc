#include "server/grpc_log.h"

#include <grpc/support/log.h>

#include "absl/strings/str_cat.h"

namespace vet::server {
namespace internal {

LogLevel GrpcLogLevel(int gpr_severity) {
  switch (gpr_severity) {
    case GPR_LOG_SEVERITY_ERROR:
      return LogLevel::kError;
    case GPR_LOG_SEVERITY_INFO:
    case GPR_LOG_SEVERITY_DEBUG:
      return LogLevel::kInfo;
    default:
      return LogLevel::kWarning;
  }
}

std::string GrpcLogMessage(absl::string_view file, int line, absl::string_view message) {
  // gRPC passes its source path; its base name is enough to find the line.
  const size_t slash = file.rfind('/');
  if (slash != absl::string_view::npos) file.remove_prefix(slash + 1);
  return absl::StrCat("grpc: ", message, " (", file, ":", line, ")");
}

}  // namespace internal

namespace {

void Handler(gpr_log_func_args* args) {
  if (args == nullptr || args->message == nullptr) return;
  Log(internal::GrpcLogLevel(static_cast<int>(args->severity)),
      internal::GrpcLogMessage(args->file != nullptr ? args->file : "", args->line, args->message));
}

}  // namespace

void RouteGrpcLog() { gpr_set_log_function(&Handler); }

}  // namespace vet::server
