// Fuzz target: the practices file (core/practice/practice.h).
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "core/practice/practice.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto registry =
      vet::PracticeRegistry::FromJson(absl::string_view(reinterpret_cast<const char*>(data), size),
                                      /*base_dir=*/"/etc/vet", /*state_dir=*/"/var/lib/vet");
  if (registry.ok()) (void)(*registry)->practices();
  return 0;
}
