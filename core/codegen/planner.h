// The offline KPI planner: a CodeGenerator with no model and no network. It
// parses a question into metric x dimension x filters x period (x comparison,
// x top-N) with the semantic layer (semantic_layer.h, question_parser.h) and
// composes pandas code from those parts (pandas_writer.h). Free: Estimate()
// is always 0 micro-dollars under the model name "planner".
//
// Decisions a caller should know:
//   - It answers only when every word of the question is accounted for;
//     otherwise kInvalidArgument names the words it did not understand and
//     gives three example questions (the pipeline may then ask a model).
//   - With no period named: trends and month/quarter breakdowns cover the
//     last 12 months (month-aligned, up to the as-of day), week breakdowns the
//     last 12 weeks, day breakdowns the last 30 days, year breakdowns the last
//     five years; anything else this year so far.
//   - "Dr. Smith" keeps rows whose staff full_name contains "Smith",
//     case-insensitively; names without "Dr."/"Doctor" are not recognised.
//   - Follow-ups: a question naming no metric that only changes the period,
//     breakdown, filters, ranking or comparison ("and by vet?", "what about
//     last year?", "and the quarter before?", "only cats", "and overall?",
//     "top 3 only") reuses the plan of the last turn in request.history
//     (question_parser.h lists the forms). When that turn's plan is not a
//     planner plan (a model answered it), such a question is declined with
//     kInvalidArgument saying so.
//   - Repair (request.attempt > 1): the planner has no better program than the
//     one that failed, so it returns kFailedPrecondition ("the planner's code
//     failed: ...") and the pipeline stops instead of retrying the same code.
//   - With request.dataset set, a question needing a table or column the
//     practice's data lacks gets kInvalidArgument naming it.
#ifndef VET_CORE_CODEGEN_PLANNER_H_
#define VET_CORE_CODEGEN_PLANNER_H_

#include "absl/status/statusor.h"
#include "core/codegen/code_generator.h"
#include "core/codegen/question_parser.h"

namespace vet::codegen {

// Thread-safe: holds no mutable state.
class Planner final : public CodeGenerator {
 public:
  struct Options {
    // Reuse the previous planner turn's plan for follow-up questions.
    bool follow_ups = true;
    // Longer questions are declined unread.
    size_t max_question_bytes = 2000;
  };

  Planner() : Planner(Options()) {}
  explicit Planner(Options options) : options_(options) {}

  CostEstimate Estimate(const CodeRequest& request) const override;
  // The planner writes code from templates; nothing leaves the process.
  bool SendsTextOut() const override { return false; }

  // Statuses: kInvalidArgument when the question is not understood or needs
  // data the practice does not have; kFailedPrecondition on a repair attempt;
  // kCancelled when `cancel` is tripped.
  absl::StatusOr<GeneratedCode> Generate(const CodeRequest& request,
                                         CancellationToken& cancel) override;

  // The parse alone, with the same statuses as Generate (no dataset check).
  absl::StatusOr<QueryPlan> Plan(const CodeRequest& request) const;

 private:
  const Options options_;
};

}  // namespace vet::codegen

#endif  // VET_CORE_CODEGEN_PLANNER_H_
