// Turns a question into pandas code for the sandbox. Implementations: the
// offline KPI planner (planner.h), an OpenAI-compatible model
// (model_generator.h), and the router between them (routing_generator.h).
#ifndef VET_CORE_CODEGEN_CODE_GENERATOR_H_
#define VET_CORE_CODEGEN_CODE_GENERATOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/types/optional.h"
#include "core/common/cancellation.h"
#include "core/data/dataset.h"
#include "core/data/personal_values.h"

namespace vet::codegen {

// One earlier turn of the session, as context for a follow-up.
struct PriorTurn {
  std::string question;
  std::string code;
  // What the code computed, one line, no values.
  std::string summary;
  // Generator-specific state of that turn (the planner's parse), may be empty.
  std::string plan;
};

// The cost of one paid model call, reported as soon as it is known.
struct CallSpend {
  std::string model;
  int64_t prompt_tokens = 0;
  // The part of prompt_tokens billed at the cached rate.
  int64_t cached_prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t micros = 0;
};

struct CodeRequest {
  std::string practice_id;
  std::string question;
  // Relative periods resolve against this day.
  absl::CivilDay as_of;
  const data::DatasetDescription* dataset = nullptr;
  // The values of the practice's personal columns: a generator that sends
  // text out (a model) hides them first (personal_data_shield.h). nullptr
  // when there are none to hide.
  std::shared_ptr<const std::vector<data::PersonalColumn>> personal;
  // Oldest first.
  std::vector<PriorTurn> history;
  // 1 for the first attempt; > 1 when repairing.
  int attempt = 1;
  // The question's W3C traceparent header value (core/common/trace_context.h):
  // its code generation span, the parent of every model call's span; empty:
  // none. The planner ignores it.
  std::string traceparent;
  // Set when repairing: the code that failed and its error, scrubbed.
  std::string failed_code;
  std::string failure;
  // The model to call instead of the configured one (the soft cap's
  // downgrade); empty for the configured one.
  std::string model;
  // The budget is used up: only what costs nothing (the offline planner)
  // may answer.
  bool free_only = false;
  // A model service failed and the call is retried: why (may be empty).
  std::function<void(const std::string& reason)> on_retry;
  // Pieces of the code as a model writes it (may be empty).
  std::function<void(absl::string_view piece)> on_code_delta;
  // Called with the cost of each paid call as soon as it is known, also
  // when Generate then fails (a reply that failed the checks was still
  // paid for). GeneratedCode::cost_micros repeats the sum for a success.
  std::function<void(const CallSpend& spend)> on_spend;
};

struct GeneratedCode {
  std::string code;
  std::string generator;  // "planner" or "model"
  std::string model;      // "" for the planner
  int64_t prompt_tokens = 0;
  int64_t cached_prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cost_micros = 0;
  // What the code computes, one line, e.g. "revenue by month, 2026-07-01..2026-09-30".
  std::string summary;
  // Generator-specific state to remember for follow-ups (see PriorTurn::plan).
  std::string plan;
};

struct CostEstimate {
  std::string model;  // "planner" when free
  // Worst case, micro-dollars.
  int64_t micros = 0;
};

// Called exactly once with the outcome of GenerateAsync.
using GenerateCallback = std::function<void(absl::StatusOr<GeneratedCode>)>;

// Thread-safe.
class CodeGenerator {
 public:
  virtual ~CodeGenerator() = default;

  // The worst-case cost of Generate for `request`, reserved before it runs.
  virtual CostEstimate Estimate(const CodeRequest& request) const = 0;

  // True when a second attempt with the failure can produce different code
  // (a model can; a deterministic planner cannot, so its errors are final).
  virtual bool CanRepair() const { return false; }

  // True when this generator may send text out of the process (a model),
  // so the request must carry the personal values to hide
  // (CodeRequest::personal). Safe by default; the offline planner, which
  // sends nothing anywhere, says false so that a deployment without a model
  // never reads them.
  virtual bool SendsTextOut() const { return true; }

  // True when `request` can be answered at no cost (the offline planner
  // understands it), so it may still be answered once the budget is used
  // up, with CodeRequest::free_only set.
  virtual bool CanAnswerFree(const CodeRequest& request) const { return false; }

  // Returns kInvalidArgument with what was not understood (and examples of
  // what can be asked) when the generator cannot answer the question;
  // kUnavailable when a model service is down; kCancelled when cancelled.
  virtual absl::StatusOr<GeneratedCode> Generate(const CodeRequest& request,
                                                 CancellationToken& cancel) = 0;

  // Generate without holding the calling thread while a model answers:
  // returns at once and calls `done` exactly once, inline or on another
  // thread (a model client's I/O thread). `request` (with its callbacks)
  // and `cancel` must stay alive until `done` has been called. The default
  // runs Generate inline, for generators that never wait (the planner).
  virtual void GenerateAsync(const CodeRequest& request, CancellationToken& cancel,
                             GenerateCallback done) {
    // `done` is the caller's to give away: overrides keep it past the call.
    GenerateCallback callback = std::move(done);
    callback(Generate(request, cancel));
  }
};

// GenerateAsync, waiting for its outcome: Generate for generators whose
// GenerateAsync is the real one.
absl::StatusOr<GeneratedCode> AwaitGenerated(CodeGenerator& generator, const CodeRequest& request,
                                             CancellationToken& cancel);

}  // namespace vet::codegen

#endif  // VET_CORE_CODEGEN_CODE_GENERATOR_H_
