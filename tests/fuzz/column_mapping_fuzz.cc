// Fuzz target: ParseColumnMapping (core/data/import_validator.h), the JSON
// mapping file a practice uploads with its exports.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "core/data/import_validator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)vet::data::ParseColumnMapping(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
