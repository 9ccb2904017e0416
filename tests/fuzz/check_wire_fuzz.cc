// Fuzz target: server/wire.h CheckWire, the check every request's bytes pass
// before protobuf parses them. The first byte picks the message type among
// the API's messages.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "server/wire.h"
#include "vetanalytics/v1/analytics.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const google::protobuf::FileDescriptor* file = vetanalytics::v1::AskRequest::descriptor()->file();
  const google::protobuf::Descriptor* type =
      file->message_type(data[0] % file->message_type_count());
  absl::string_view wire(reinterpret_cast<const char*>(data) + 1, size - 1);
  (void)vet::server::CheckWire(*type, wire);
  return 0;
}
