// Both reflection versions share one implementation: v1 and v1alpha have
// the same messages, fields and names (only the package differs), so one
// template serves either generated API. Answers follow gRPC's own
// ProtoServerReflection (src/cpp/ext/proto_server_reflection.cc): the same
// error codes and messages, each file sent with the files it imports.
#include "server/reflection_service.h"

#include <unordered_set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace vet::server {
namespace {

namespace pb = google::protobuf;

// Adds `file`, then each file it imports not yet in `seen`, to the response:
// a client that asked for one file can build it without asking again.
template <typename Response>
void AddFileAndImports(const pb::FileDescriptor* file, Response* response,
                       std::unordered_set<std::string>* seen) {
  if (!seen->insert(file->name()).second) return;
  pb::FileDescriptorProto proto;
  file->CopyTo(&proto);
  file->CopySourceCodeInfoTo(&proto);
  response->mutable_file_descriptor_response()->add_file_descriptor_proto(
      proto.SerializeAsString());
  for (int i = 0; i < file->dependency_count(); ++i) {
    AddFileAndImports(file->dependency(i), response, seen);
  }
}

template <typename Request, typename Response>
grpc::Status Answer(const pb::DescriptorPool& pool, const std::vector<std::string>& services,
                    const Request& request, Response* response) {
  std::unordered_set<std::string> seen;
  switch (request.message_request_case()) {
    case Request::kListServices:
      for (const std::string& name : services) {
        response->mutable_list_services_response()->add_service()->set_name(name);
      }
      return grpc::Status::OK;
    case Request::kFileByFilename: {
      const pb::FileDescriptor* file = pool.FindFileByName(request.file_by_filename());
      if (file == nullptr) return grpc::Status(grpc::StatusCode::NOT_FOUND, "File not found.");
      AddFileAndImports(file, response, &seen);
      return grpc::Status::OK;
    }
    case Request::kFileContainingSymbol: {
      const pb::FileDescriptor* file =
          pool.FindFileContainingSymbol(request.file_containing_symbol());
      if (file == nullptr) return grpc::Status(grpc::StatusCode::NOT_FOUND, "Symbol not found.");
      AddFileAndImports(file, response, &seen);
      return grpc::Status::OK;
    }
    case Request::kFileContainingExtension: {
      const auto& ext = request.file_containing_extension();
      const pb::Descriptor* type = pool.FindMessageTypeByName(ext.containing_type());
      if (type == nullptr) return grpc::Status(grpc::StatusCode::NOT_FOUND, "Type not found.");
      const pb::FieldDescriptor* field = pool.FindExtensionByNumber(type, ext.extension_number());
      if (field == nullptr) {
        return grpc::Status(grpc::StatusCode::NOT_FOUND, "Extension not found.");
      }
      AddFileAndImports(field->file(), response, &seen);
      return grpc::Status::OK;
    }
    case Request::kAllExtensionNumbersOfType: {
      const pb::Descriptor* type =
          pool.FindMessageTypeByName(request.all_extension_numbers_of_type());
      if (type == nullptr) return grpc::Status(grpc::StatusCode::NOT_FOUND, "Type not found.");
      std::vector<const pb::FieldDescriptor*> extensions;
      pool.FindAllExtensions(type, &extensions);
      auto* numbers = response->mutable_all_extension_numbers_response();
      numbers->set_base_type_name(type->full_name());
      for (const pb::FieldDescriptor* field : extensions)
        numbers->add_extension_number(field->number());
      return grpc::Status::OK;
    }
    default:
      return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          "The provided request is not supported.");
  }
}

// One stream: each request gets one response; a failed lookup is an
// error_response in the stream, not the end of it (the protocol's rule).
template <typename Request, typename Response>
grpc::Status Serve(const pb::DescriptorPool& pool, const std::vector<std::string>& services,
                   grpc::ServerReaderWriter<Response, Request>* stream) {
  Request request;
  while (stream->Read(&request)) {
    Response response;
    response.set_valid_host(request.host());
    *response.mutable_original_request() = request;
    grpc::Status status = Answer(pool, services, request, &response);
    if (!status.ok()) {
      response.mutable_error_response()->set_error_code(status.error_code());
      response.mutable_error_response()->set_error_message(status.error_message());
    }
    if (!stream->Write(response)) break;
  }
  return grpc::Status::OK;
}

class V1Service final : public grpc::reflection::v1::ServerReflection::Service {
 public:
  V1Service(const pb::DescriptorPool& pool, const std::vector<std::string>& services)
      : pool_(pool), services_(services) {}
  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* /*context*/,
      grpc::ServerReaderWriter<grpc::reflection::v1::ServerReflectionResponse,
                               grpc::reflection::v1::ServerReflectionRequest>* stream) override {
    return Serve(pool_, services_, stream);
  }

 private:
  const pb::DescriptorPool& pool_;
  const std::vector<std::string>& services_;
};

class V1AlphaService final : public grpc::reflection::v1alpha::ServerReflection::Service {
 public:
  V1AlphaService(const pb::DescriptorPool& pool, const std::vector<std::string>& services)
      : pool_(pool), services_(services) {}
  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* /*context*/,
      grpc::ServerReaderWriter<grpc::reflection::v1alpha::ServerReflectionResponse,
                               grpc::reflection::v1alpha::ServerReflectionRequest>* stream)
      override {
    return Serve(pool_, services_, stream);
  }

 private:
  const pb::DescriptorPool& pool_;
  const std::vector<std::string>& services_;
};

}  // namespace

struct ReflectionServices::State {
  explicit State(std::vector<std::string> names)
      : services(std::move(names)), v1(pool, services), v1alpha(pool, services) {}
  pb::DescriptorPool pool;
  const std::vector<std::string> services;
  V1Service v1;
  V1AlphaService v1alpha;
};

absl::StatusOr<std::unique_ptr<ReflectionServices>> ReflectionServices::Create(
    absl::string_view descriptor_set, std::vector<std::string> service_names) {
  pb::FileDescriptorSet set;
  if (!set.ParseFromArray(descriptor_set.data(), static_cast<int>(descriptor_set.size()))) {
    return absl::InvalidArgumentError("reflection: the descriptor set does not parse");
  }
  auto state = std::make_unique<State>(std::move(service_names));
  for (const pb::FileDescriptorProto& file : set.file()) {
    if (state->pool.BuildFile(file) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "reflection: ", file.name(), " does not build (an import missing before it?)"));
    }
  }
  return std::unique_ptr<ReflectionServices>(new ReflectionServices(std::move(state)));
}

ReflectionServices::ReflectionServices(std::unique_ptr<State> state) : state_(std::move(state)) {}
ReflectionServices::~ReflectionServices() = default;

grpc::Service* ReflectionServices::v1() { return &state_->v1; }
grpc::Service* ReflectionServices::v1alpha() { return &state_->v1alpha; }

}  // namespace vet::server
