#include "core/codegen/routing_generator.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace vet::codegen {

absl::StatusOr<PlannerMode> ParsePlannerMode(absl::string_view text) {
  if (text == "first") return PlannerMode::kFirst;
  if (text == "fallback") return PlannerMode::kFallback;
  if (text == "off") return PlannerMode::kOff;
  return absl::InvalidArgumentError(
      absl::StrCat("VET_PLANNER '", text, "' must be first, fallback or off"));
}

RoutingCodeGenerator::RoutingCodeGenerator(PlannerMode mode, std::unique_ptr<CodeGenerator> planner,
                                           std::unique_ptr<CodeGenerator> model)
    : mode_(mode), planner_(std::move(planner)), model_(std::move(model)) {}

absl::StatusOr<GeneratedCode> RoutingCodeGenerator::Plan(const CodeRequest& request) const {
  // The planner is deterministic, local and quick; it ignores cancellation.
  CancellationToken never;
  return planner_->Generate(request, never);
}

CostEstimate RoutingCodeGenerator::Estimate(const CodeRequest& request) const {
  if (model_ == nullptr || request.free_only) return planner_->Estimate(request);
  if (mode_ == PlannerMode::kFirst && request.attempt == 1 && Plan(request).ok()) {
    return planner_->Estimate(request);
  }
  return model_->Estimate(request);
}

bool RoutingCodeGenerator::CanRepair() const { return model_ != nullptr; }

bool RoutingCodeGenerator::SendsTextOut() const {
  return (planner_ != nullptr && planner_->SendsTextOut()) ||
         (model_ != nullptr && model_->SendsTextOut());
}

bool RoutingCodeGenerator::CanAnswerFree(const CodeRequest& request) const {
  if (model_ != nullptr && mode_ == PlannerMode::kOff) return false;
  return Plan(request).ok();
}

absl::StatusOr<GeneratedCode> RoutingCodeGenerator::Generate(const CodeRequest& request,
                                                             CancellationToken& cancel) {
  return AwaitGenerated(*this, request, cancel);
}

void RoutingCodeGenerator::GenerateAsync(const CodeRequest& request, CancellationToken& cancel,
                                         GenerateCallback done) {
  if (model_ == nullptr) {
    auto planned = Plan(request);
    if (planned.ok() || planned.status().code() != absl::StatusCode::kInvalidArgument)
      return done(std::move(planned));
    return done(absl::InvalidArgumentError(
        absl::StrCat(planned.status().message(),
                     " (No model is configured, so only the offline planner answers: set "
                     "OPENAI_API_KEY, or OPENAI_BASE_URL for a local model, to let a model "
                     "answer the rest.)")));
  }
  if (request.free_only) {
    if (mode_ == PlannerMode::kOff) {
      return done(absl::FailedPreconditionError(
          "the budget is used up and the offline planner is off (VET_PLANNER=off)"));
    }
    return done(Plan(request));
  }
  if (request.attempt > 1) return model_->GenerateAsync(request, cancel, std::move(done));
  switch (mode_) {
    case PlannerMode::kFirst: {
      auto planned = Plan(request);
      if (planned.ok() || planned.status().code() != absl::StatusCode::kInvalidArgument)
        return done(std::move(planned));
      return model_->GenerateAsync(request, cancel, std::move(done));
    }
    case PlannerMode::kFallback:
      return model_->GenerateAsync(
          request, cancel,
          [this, &request, done = std::move(done)](absl::StatusOr<GeneratedCode> generated) {
            const absl::StatusCode code = generated.status().code();
            if (generated.ok() || (code != absl::StatusCode::kUnavailable &&
                                   code != absl::StatusCode::kPermissionDenied &&
                                   code != absl::StatusCode::kDeadlineExceeded)) {
              return done(std::move(generated));
            }
            if (request.on_retry) {
              request.on_retry(absl::StrCat("the model is unavailable (",
                                            generated.status().message(),
                                            "); the offline planner answers instead"));
            }
            auto planned = Plan(request);
            if (planned.ok()) return done(std::move(planned));
            return done(generated.status());
          });
    case PlannerMode::kOff:
      return model_->GenerateAsync(request, cancel, std::move(done));
  }
  done(absl::InternalError("unknown planner mode"));
}

}  // namespace vet::codegen
