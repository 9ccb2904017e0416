// Fuzz target: the OpenAI-compatible service's replies as the client reads
// them (core/codegen/model/openai_client.h internal parsers): a
// chat.completion body, an error body and a Retry-After value.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/codegen/model/openai_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view body(reinterpret_cast<const char*>(data), size);
  (void)vet::codegen::internal::ParseCompletion(body);
  (void)vet::codegen::internal::ErrorMessage(body);
  (void)vet::codegen::internal::ParseRetryAfter(body, absl::FromUnixSeconds(1700000000));
  return 0;
}
