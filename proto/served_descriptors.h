// The FileDescriptorSet server reflection serves: the API (vetanalytics.v1),
// google.rpc's error model, grpc.health.v1 and grpc.reflection v1/v1alpha,
// with every file they import and their source comments, built by protoc
// --include_imports --include_source_info at build time (proto/CMakeLists.txt).
#ifndef VET_PROTO_SERVED_DESCRIPTORS_H_
#define VET_PROTO_SERVED_DESCRIPTORS_H_

#include "absl/strings/string_view.h"

namespace vet::proto {

// The serialized google.protobuf.FileDescriptorSet, files in dependency
// order (each after the files it imports). Static storage; never empty.
absl::string_view ServedDescriptorSet();

}  // namespace vet::proto

#endif  // VET_PROTO_SERVED_DESCRIPTORS_H_
