// Fuzz target: the server-sent event stream parser of the OpenAI client
// (core/codegen/model/openai_client.h SseParser). The first byte sets the
// size of the pieces the stream arrives in, since bytes may be split anywhere.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "core/codegen/model/openai_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 16;
  absl::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  vet::codegen::internal::SseParser parser;
  while (!stream.empty()) {
    const size_t n = std::min(piece, stream.size());
    if (!parser.Feed(stream.substr(0, n)).ok()) break;
    (void)parser.TakeDelta();
    stream.remove_prefix(n);
  }
  (void)parser.done();
  (void)parser.response();
  return 0;
}
