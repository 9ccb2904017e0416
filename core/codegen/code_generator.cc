// AwaitGenerated: the blocking form of CodeGenerator::GenerateAsync.
#include "core/codegen/code_generator.h"

#include <utility>

#include "absl/synchronization/mutex.h"

namespace vet::codegen {

absl::StatusOr<GeneratedCode> AwaitGenerated(CodeGenerator& generator,
                                             const CodeRequest& request,
                                             CancellationToken& cancel) {
  absl::Mutex mu;
  bool finished = false;
  absl::StatusOr<GeneratedCode> result = absl::UnknownError("no code");
  generator.GenerateAsync(request, cancel, [&](absl::StatusOr<GeneratedCode> generated) {
    absl::MutexLock lock(&mu);
    result = std::move(generated);
    finished = true;
  });
  absl::MutexLock lock(&mu);
  mu.Await(absl::Condition(&finished));
  return result;
}

}  // namespace vet::codegen
