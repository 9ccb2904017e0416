// Fuzz target: the sandbox's result protocol as the server reads it
// (core/sandbox/runner_protocol.h): a runner's output and a zygote's
// messages. Both come from a process running generated code, so any bytes.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "core/sandbox/runner_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view json(reinterpret_cast<const char*>(data), size);
  (void)vet::sandbox::internal::ParseRunnerOutput(json);
  (void)vet::sandbox::internal::ParseZygoteMessage(json);
  return 0;
}
