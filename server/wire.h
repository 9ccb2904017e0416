// The service's messages as bytes. The service takes its requests raw and
// checks them on the wire before protobuf parses them: protobuf's parser
// refuses a proto3 string that is not valid UTF-8 without saying which, logs
// a line for each such request, and gRPC's callback API then answers
// UNIMPLEMENTED with no message. Here a bad request is INVALID_ARGUMENT
// naming the field, and protobuf never sees one. Typed responses go back as
// ByteBuffers.
#ifndef VET_SERVER_WIRE_H_
#define VET_SERVER_WIRE_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/byte_buffer.h"

namespace vet::server {

// Sub-messages nested deeper than this are refused. The API's deepest
// request nests 2; protobuf's parser stops at 100.
inline constexpr int kMaxWireDepth = 32;

// Checks that `wire` is an encoded `type` message in which every string
// field, at any depth (sub-messages, repeated fields, map keys and values),
// is valid UTF-8 (RFC 3629, as core/common/utf8.h). Not checked, as protobuf
// does not parse them: fields `type` does not know, bytes fields, and fields
// sent with a wire type other than their own (protobuf keeps those as
// unknown fields). Returns OK, or kInvalidArgument with one of:
//   - "<path> is not valid UTF-8 (byte N)": the first bad string, its path
//     from the message root ("question", "header.mapping_json",
//     "tables[2].columns[0].name", a map entry's "fields[1].key"), N the
//     offset within the field's value;
//   - "request is not a valid <Type> message: <why> (byte N)": bytes that
//     are not a message (truncated, a malformed varint, a tag past 32 bits,
//     field number 0, a group, which proto3 has not, an unknown wire type,
//     sub-messages nested deeper than kMaxWireDepth), N the offset within
//     `wire`. Stricter than protobuf on three: it cuts a long tag to 32
//     bits, keeps an unknown group, and nests up to 100 deep.
// Thread-compatible: reads only its arguments.
absl::Status CheckWire(const google::protobuf::Descriptor& type, absl::string_view wire);

// Checks `raw` with CheckWire, then parses it into `message` (of the type
// checked). Returns CheckWire's statuses; kInvalidArgument when `raw` holds
// no message at all.
absl::Status ParseRequest(const grpc::ByteBuffer& raw, google::protobuf::Message& message);

template <typename Message>
absl::StatusOr<Message> ParseRequest(const grpc::ByteBuffer& raw) {
  Message message;
  absl::Status parsed = ParseRequest(raw, message);
  if (!parsed.ok()) return parsed;
  return message;
}

// `message` serialized. kInternal only past protobuf's 2 GiB limit.
absl::StatusOr<grpc::ByteBuffer> SerializeMessage(const google::protobuf::MessageLite& message);

}  // namespace vet::server

#endif  // VET_SERVER_WIRE_H_
