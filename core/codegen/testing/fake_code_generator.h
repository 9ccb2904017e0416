// A scripted CodeGenerator: returns the queued results in order and records
// every request it saw.
#ifndef VET_CORE_CODEGEN_TESTING_FAKE_CODE_GENERATOR_H_
#define VET_CORE_CODEGEN_TESTING_FAKE_CODE_GENERATOR_H_

#include <deque>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/codegen/code_generator.h"

namespace vet::codegen {

class FakeCodeGenerator final : public CodeGenerator {
 public:
  CostEstimate estimate{"planner", 0};
  // The worst case when CodeRequest::model names another (cheaper) model.
  int64_t downgraded_micros = 0;
  bool can_repair = false;
  bool sends_text_out = true;
  bool can_answer_free = false;

  void Push(absl::StatusOr<GeneratedCode> result) {
    absl::MutexLock lock(&mu_);
    script_.push_back(std::move(result));
  }
  static GeneratedCode Code(std::string code, int64_t cost_micros = 0) {
    GeneratedCode g;
    g.code = std::move(code);
    g.generator = cost_micros > 0 ? "model" : "planner";
    g.model = cost_micros > 0 ? "fake-model" : "";
    g.cost_micros = cost_micros;
    g.summary = "fake summary";
    return g;
  }

  CostEstimate Estimate(const CodeRequest& request) const override {
    if (request.free_only) return {"planner", 0};
    if (!request.model.empty()) return {request.model, downgraded_micros};
    return estimate;
  }
  bool CanRepair() const override { return can_repair; }
  bool SendsTextOut() const override { return sends_text_out; }
  bool CanAnswerFree(const CodeRequest&) const override { return can_answer_free; }
  absl::StatusOr<GeneratedCode> Generate(const CodeRequest& request, CancellationToken&) override {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
    if (script_.empty()) return absl::InternalError("FakeCodeGenerator: script is empty");
    auto next = std::move(script_.front());
    script_.pop_front();
    return next;
  }
  std::vector<CodeRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  absl::Mutex mu_;
  std::deque<absl::StatusOr<GeneratedCode>> script_ ABSL_GUARDED_BY(mu_);
  std::vector<CodeRequest> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vet::codegen

#endif  // VET_CORE_CODEGEN_TESTING_FAKE_CODE_GENERATOR_H_
