// The one place absl::Status becomes grpc::Status.
#ifndef VET_SERVER_GRPC_STATUS_H_
#define VET_SERVER_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace vet::server {

// Same code (the numbering is shared); the message is capped at 1 KiB.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace vet::server

#endif  // VET_SERVER_GRPC_STATUS_H_
