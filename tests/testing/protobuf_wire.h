// Protobuf's encoding written by hand, for requests no generated client
// would send (a string that is not UTF-8, a truncated field, a group), and a
// counter of the lines protobuf logs.
#ifndef VET_TESTS_TESTING_PROTOBUF_WIRE_H_
#define VET_TESTS_TESTING_PROTOBUF_WIRE_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/stubs/logging.h"

namespace vet::testing {

// https://protobuf.dev/programming-guides/encoding/
inline std::string Varint(uint64_t value) {
  std::string out;
  do {
    out.push_back(static_cast<char>((value & 0x7F) | (value > 0x7F ? 0x80 : 0)));
    value >>= 7;
  } while (value != 0);
  return out;
}
inline std::string Tag(int number, int wire_type) {
  return Varint(static_cast<uint64_t>(number) << 3 | wire_type);
}
// A length-delimited field: a string, bytes or a sub-message.
inline std::string Len(int number, absl::string_view value) {
  return Tag(number, 2) + Varint(value.size()) + std::string(value);
}
inline std::string VarintField(int number, uint64_t value) {
  return Tag(number, 0) + Varint(value);
}

// Counts protobuf's log lines (from any thread) while alive, in place of the
// handler installed before it, which it puts back. One at a time.
class ProtobufLogCounter {
 public:
  ProtobufLogCounter() {
    count_ = 0;
    previous_ = google::protobuf::SetLogHandler(
        [](google::protobuf::LogLevel, const char*, int, const std::string&) { ++count_; });
  }
  ~ProtobufLogCounter() { google::protobuf::SetLogHandler(previous_); }
  ProtobufLogCounter(const ProtobufLogCounter&) = delete;
  ProtobufLogCounter& operator=(const ProtobufLogCounter&) = delete;

  int count() const { return count_; }

 private:
  static inline std::atomic<int> count_{0};
  google::protobuf::LogHandler* previous_;
};

}  // namespace vet::testing

#endif  // VET_TESTS_TESTING_PROTOBUF_WIRE_H_
