// absl and gRPC number their codes identically (both follow
// google.rpc.Code), so the code maps by value.
#include "server/grpc_status.h"

#include <string>

#include "core/common/log.h"
#include "core/common/redact.h"

namespace vet::server {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  constexpr size_t kMaxMessage = 1024;
  // No path of the server reaches a client; the log keeps the whole.
  std::string message = WithoutPaths(status.message());
  if (message.size() != status.message().size()) {
    LogInfo("sent without its paths: ", absl::StatusCodeToString(status.code()), ": ",
            status.message().substr(0, kMaxMessage));
  }
  if (message.size() > kMaxMessage) message = message.substr(0, kMaxMessage) + "...";
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message);
}

}  // namespace vet::server
