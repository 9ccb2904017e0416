// Calls a gRPC method by name with raw bytes, the way grpcurl does without
// the .proto: used to check reflection and health, whose generated code the
// test does not link (linking a second copy of reflection.pb.cc aborts), and
// to send requests no generated client would encode.
#ifndef VET_TESTS_TESTING_RAW_GRPC_H_
#define VET_TESTS_TESTING_RAW_GRPC_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"

namespace vet::testing {

// Sends one request message to `method` ("/pkg.Service/Method"), half-closes,
// and returns the first response message's bytes, or the call's status when
// it is not OK.
absl::StatusOr<std::string> CallRaw(const std::shared_ptr<grpc::Channel>& channel,
                                    const std::string& method, const std::string& request,
                                    absl::Duration timeout = absl::Seconds(10));

using RawMetadata = std::vector<std::pair<std::string, std::string>>;

// Sends `metadata` and each of `requests` in order (stopping at a write the
// server no longer takes), half-closes, and returns the first response
// message's bytes, or the call's status when it is not OK.
absl::StatusOr<std::string> CallRawStream(const std::shared_ptr<grpc::Channel>& channel,
                                          const std::string& method,
                                          const std::vector<std::string>& requests,
                                          const RawMetadata& metadata = {},
                                          absl::Duration timeout = absl::Seconds(10));

}  // namespace vet::testing

#endif  // VET_TESTS_TESTING_RAW_GRPC_H_
