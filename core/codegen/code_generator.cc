// AwaitGenerated: the blocking form of CodeGenerator::GenerateAsync.
#include "core/codegen/code_generator.h"

#include <utility>

#include "core/common/await.h"

namespace vet::codegen {

absl::StatusOr<GeneratedCode> AwaitGenerated(CodeGenerator& generator, const CodeRequest& request,
                                             CancellationToken& cancel) {
  return AwaitCallback<absl::StatusOr<GeneratedCode>>(
      [&](GenerateCallback done) { generator.GenerateAsync(request, cancel, std::move(done)); });
}

}  // namespace vet::codegen
