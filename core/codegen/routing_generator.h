// Chooses between the offline planner and the model (VET_PLANNER):
//   first     the planner answers what it is confident about, for free; the
//             model gets the rest (the default when a model is configured);
//   fallback  the model answers; when it is unavailable (down, refusing the
//             key), the planner answers what it can;
//   off       the model only.
// Repairs always go to the model: the planner is deterministic, so a second
// try of its code would be the same code. A request with free_only set (the
// budget is used up) goes to the planner alone, in every mode but off.
// Without a model (model == nullptr) the planner is the only path, and a
// question it declines says that no model is configured.
#ifndef VET_CORE_CODEGEN_ROUTING_GENERATOR_H_
#define VET_CORE_CODEGEN_ROUTING_GENERATOR_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/codegen/code_generator.h"

namespace vet::codegen {

enum class PlannerMode { kFirst, kFallback, kOff };

// "first", "fallback", "off"; kInvalidArgument otherwise.
absl::StatusOr<PlannerMode> ParsePlannerMode(absl::string_view text);

class RoutingCodeGenerator final : public CodeGenerator {
 public:
  RoutingCodeGenerator(PlannerMode mode, std::unique_ptr<CodeGenerator> planner,
                       std::unique_ptr<CodeGenerator> model);

  CostEstimate Estimate(const CodeRequest& request) const override;
  bool CanRepair() const override;
  bool SendsTextOut() const override;
  // The planner understands it, unless VET_PLANNER=off.
  bool CanAnswerFree(const CodeRequest& request) const override;
  absl::StatusOr<GeneratedCode> Generate(const CodeRequest& request,
                                         CancellationToken& cancel) override;
  // The planner answers inline; the model through its own GenerateAsync.
  void GenerateAsync(const CodeRequest& request, CancellationToken& cancel,
                     GenerateCallback done) override;

 private:
  // The planner's code when it is confident, else its decline.
  absl::StatusOr<GeneratedCode> Plan(const CodeRequest& request) const;

  const PlannerMode mode_;
  const std::unique_ptr<CodeGenerator> planner_;
  const std::unique_ptr<CodeGenerator> model_;
};

}  // namespace vet::codegen

#endif  // VET_CORE_CODEGEN_ROUTING_GENERATOR_H_
