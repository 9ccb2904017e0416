// CheckWire reads the protobuf encoding directly
// (https://protobuf.dev/programming-guides/encoding/) with the message's
// Descriptor beside it: each field is a varint tag (field number, wire type)
// and a value whose size the wire type gives; a length-delimited value is a
// string, bytes, a packed array or a sub-message, which the descriptor
// tells apart.
#include "server/wire.h"

#include <climits>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/common/error_details.h"
#include "core/common/utf8.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/support/slice.h"

namespace vet::server {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::FieldDescriptor;

enum WireType : uint64_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

class WireChecker {
 public:
  WireChecker(const Descriptor& root, absl::string_view wire) : root_(root), wire_(wire) {}

  absl::Status Check() { return CheckMessage(root_, 0, wire_.size(), "", 0); }

 private:
  // The fields of one `type` message in wire_[begin, end), whose path from
  // the root is `path` and which sits `depth` messages below it.
  absl::Status CheckMessage(const Descriptor& type, size_t begin, size_t end,
                            const std::string& path, int depth) {
    // Occurrences so far of each repeated field: the index of the next.
    absl::flat_hash_map<int, int> seen;
    size_t pos = begin;
    while (pos < end) {
      const size_t field_at = pos;
      uint64_t tag = 0;
      // A tag is 32 bits in at most 5 bytes; protobuf cuts a larger value
      // to 32 bits, which would put the field under another number.
      if (!ReadVarint(pos, end, tag) || tag > UINT32_MAX || pos - field_at > 5) {
        return Malformed("malformed field tag", field_at);
      }
      const int number = static_cast<int>(tag >> 3);
      if (number == 0) return Malformed("field number 0", field_at);
      switch (tag & 7) {
        case kVarint: {
          uint64_t value = 0;
          if (!ReadVarint(pos, end, value)) {
            return Malformed(absl::StrCat("field ", number, " has a malformed varint"), field_at);
          }
          break;
        }
        case kFixed64:
        case kFixed32: {
          const size_t size = (tag & 7) == kFixed64 ? 8 : 4;
          if (end - pos < size) return Truncated(number, field_at);
          pos += size;
          break;
        }
        case kLengthDelimited: {
          uint64_t length = 0;
          if (!ReadVarint(pos, end, length)) {
            return Malformed(absl::StrCat("field ", number, " has a malformed length"), field_at);
          }
          if (length > end - pos) return Truncated(number, field_at);
          absl::Status checked = CheckValue(type, number, pos, pos + length, path, depth, seen);
          if (!checked.ok()) return checked;
          pos += length;
          break;
        }
        case kStartGroup:
        case kEndGroup:
          return Malformed(absl::StrCat("field ", number, " is a group, which proto3 has not"),
                           field_at);
        default:
          return Malformed(
              absl::StrCat("field ", number, " has wire type ", tag & 7, ", which does not exist"),
              field_at);
      }
    }
    return absl::OkStatus();
  }

  // The length-delimited value of field `number` of `type` in
  // wire_[begin, end): a string is checked, a sub-message walked.
  absl::Status CheckValue(const Descriptor& type, int number, size_t begin, size_t end,
                          const std::string& path, int depth, absl::flat_hash_map<int, int>& seen) {
    const FieldDescriptor* field = type.FindFieldByNumber(number);
    // Unknown fields, bytes, packed numbers, and a scalar field sent
    // length-delimited (protobuf keeps it as an unknown field) are not
    // parsed by protobuf, so neither are they here.
    if (field == nullptr || (field->type() != FieldDescriptor::TYPE_STRING &&
                             field->type() != FieldDescriptor::TYPE_MESSAGE)) {
      return absl::OkStatus();
    }
    std::string name = path.empty() ? field->name() : absl::StrCat(path, ".", field->name());
    if (field->is_repeated()) absl::StrAppend(&name, "[", seen[number]++, "]");
    if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
      if (depth + 1 > kMaxWireDepth) {
        return Malformed(absl::StrCat("messages nested deeper than ", kMaxWireDepth), begin);
      }
      return CheckMessage(*field->message_type(), begin, end, name, depth + 1);
    }
    const Utf8Scan scan = ScanUtf8(wire_.substr(begin, end - begin));
    if (scan.valid) return absl::OkStatus();
    const std::string message =
        absl::StrCat(name, " is not valid UTF-8 (byte ", scan.invalid_at, ")");
    return WithViolations(absl::InvalidArgumentError(message), {{name, message}});
  }

  // Reads the varint at wire_[pos, end) into `value` and moves past it;
  // false if it runs past `end` or over the 10 bytes of a 64-bit value.
  bool ReadVarint(size_t& pos, size_t end, uint64_t& value) const {
    value = 0;
    for (int shift = 0; shift < 64 && pos < end; shift += 7) {
      const auto byte = static_cast<uint8_t>(wire_[pos++]);
      value |= uint64_t{byte & 0x7Fu} << shift;
      if (byte < 0x80) return true;
    }
    return false;
  }

  absl::Status Truncated(int number, size_t at) const {
    return Malformed(absl::StrCat("field ", number, " runs past the end of its message"), at);
  }

  absl::Status Malformed(absl::string_view why, size_t at) const {
    return absl::InvalidArgumentError(absl::StrCat("request is not a valid ", root_.name(),
                                                   " message: ", why, " (byte ", at, ")"));
  }

  const Descriptor& root_;
  const absl::string_view wire_;
};

}  // namespace

absl::Status CheckWire(const Descriptor& type, absl::string_view wire) {
  return WireChecker(type, wire).Check();
}

absl::Status ParseRequest(const grpc::ByteBuffer& raw, google::protobuf::Message& message) {
  const std::string& type = message.GetDescriptor()->name();
  if (!raw.Valid()) {
    return absl::InvalidArgumentError(
        absl::StrCat("request is not a valid ", type, " message: no message was sent"));
  }
  // One slice (a small request) is read in place; a larger request arrives
  // in several and is copied into one.
  grpc::Slice slice;
  if (!raw.TrySingleSlice(&slice).ok() && !raw.DumpToSingleSlice(&slice).ok()) {
    return absl::InternalError(absl::StrCat("cannot read the ", type, " request's bytes"));
  }
  const absl::string_view wire(reinterpret_cast<const char*>(slice.begin()), slice.size());
  absl::Status checked = CheckWire(*message.GetDescriptor(), wire);
  if (!checked.ok()) return checked;
  if (wire.size() > INT_MAX ||
      !message.ParseFromArray(wire.data(), static_cast<int>(wire.size()))) {
    // CheckWire passes only what protobuf parses; this is a second guard.
    return absl::InvalidArgumentError(absl::StrCat("request is not a valid ", type, " message"));
  }
  return absl::OkStatus();
}

absl::StatusOr<grpc::ByteBuffer> SerializeMessage(const google::protobuf::MessageLite& message) {
  grpc::ByteBuffer buffer;
  bool own_buffer = false;
  grpc::Status serialized = grpc::SerializationTraits<google::protobuf::MessageLite>::Serialize(
      message, &buffer, &own_buffer);
  if (!serialized.ok()) {
    return absl::InternalError(absl::StrCat("cannot serialize a ", message.GetTypeName(), ": ",
                                            serialized.error_message()));
  }
  return buffer;
}

}  // namespace vet::server
