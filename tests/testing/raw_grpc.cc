// CallRawStream on the generic stub with a completion queue: each step
// waits for its own tag, in order.
#include "tests/testing/raw_grpc.h"

#include <deque>

#include "absl/strings/str_cat.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/byte_buffer.h"

namespace vet::testing {

absl::StatusOr<std::string> CallRaw(const std::shared_ptr<grpc::Channel>& channel,
                                    const std::string& method, const std::string& request,
                                    absl::Duration timeout) {
  return CallRawStream(channel, method, {request}, /*metadata=*/{}, timeout);
}

absl::StatusOr<std::string> CallRawStream(const std::shared_ptr<grpc::Channel>& channel,
                                          const std::string& method,
                                          const std::vector<std::string>& requests,
                                          const RawMetadata& metadata, absl::Duration timeout) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&context, method, &cq);
  // Each operation's tag is a byte of its own (a deque keeps their
  // addresses), so a late event never matches a newer operation.
  std::deque<char> tags;
  // Starts one operation with a fresh tag and waits for it.
  auto step = [&](auto start) -> bool {
    void* tag = &tags.emplace_back();
    start(tag);
    void* got = nullptr;
    bool ok = false;
    if (!cq.Next(&got, &ok)) return false;
    return ok && got == tag;
  };
  if (!step([&](void* tag) { call->StartCall(tag); })) {
    return absl::UnavailableError(absl::StrCat(method, ": cannot start call"));
  }
  // A server that has already answered takes no more writes: its status
  // says why.
  bool all_written = true;
  for (const std::string& request : requests) {
    grpc::Slice slice(request);
    grpc::ByteBuffer out(&slice, 1);
    if (!step([&](void* tag) { call->Write(out, tag); })) {
      all_written = false;
      break;
    }
  }
  if (all_written) step([&](void* tag) { call->WritesDone(tag); });
  grpc::ByteBuffer in;
  bool read_ok = step([&](void* tag) { call->Read(&in, tag); });
  grpc::Status status;
  step([&](void* tag) { call->Finish(&status, tag); });
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  }
  if (!read_ok) return absl::DataLossError(absl::StrCat(method, ": no response message"));
  std::vector<grpc::Slice> slices;
  if (!in.Dump(&slices).ok()) return absl::DataLossError("cannot read response bytes");
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return bytes;
}

}  // namespace vet::testing
