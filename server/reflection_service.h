// gRPC server reflection, both versions: grpc.reflection.v1.ServerReflection
// and grpc.reflection.v1alpha.ServerReflection (the only one gRPC 1.51's C++
// plugin serves), answering from one descriptor pool built from a
// FileDescriptorSet with source info, so that a client (grpcurl describe,
// Postman, grpcui) sees the proto's comments, which C++'s compiled-in
// descriptors do not carry.
#ifndef VET_SERVER_REFLECTION_SERVICE_H_
#define VET_SERVER_REFLECTION_SERVICE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/grpcpp.h"

namespace vet::server {

class ReflectionServices {
 public:
  // `descriptor_set`: a serialized FileDescriptorSet, each file after its
  // imports (protoc --include_imports writes them so). `service_names`: what
  // list_services answers, the fully-qualified names of the services the
  // server registers. Returns kInvalidArgument if the set does not parse or
  // a file does not build (a missing import, a clash).
  static absl::StatusOr<std::unique_ptr<ReflectionServices>> Create(
      absl::string_view descriptor_set, std::vector<std::string> service_names);
  ~ReflectionServices();

  // To register with a grpc::ServerBuilder; owned by this object, which must
  // outlive the server. Thread-safe: the pool is read-only once built.
  grpc::Service* v1();
  grpc::Service* v1alpha();

 private:
  struct State;
  explicit ReflectionServices(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace vet::server

#endif  // VET_SERVER_REFLECTION_SERVICE_H_
