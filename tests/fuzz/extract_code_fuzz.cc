// Fuzz target: code extraction from a model's reply and the import check on
// what it extracted (core/codegen/model_generator.h).
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "core/codegen/model_generator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string code = vet::codegen::internal::ExtractCode(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  (void)vet::codegen::internal::CheckImports(code);
  return 0;
}
