// Fuzz target: the .env reader (server/config.h ParseDotEnv, which ReadDotEnv
// calls on the file's bytes).
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "server/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)vet::server::ParseDotEnv(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
