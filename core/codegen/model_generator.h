// The model path: a CodeGenerator that asks an OpenAI-compatible model
// (through a ChatClient) for the pandas code. The prompt comes from one
// reviewed template (prompts/model_prompt.md) filled with the practice's
// dataset description, the metric definitions the planner also uses, the
// as-of date and the session's earlier turns: never a row of data.
//
// The reply's code is extracted (a fenced block, or the whole reply) and
// checked before it is returned: it must import only the allowlist
// (pandas, numpy, math, statistics, datetime, re, collections, itertools,
// matplotlib). A reply that fails the check is sent back to the model once
// with the reason, like a failed execution; the sandbox compiles the code
// before running any of it, so a syntax error comes back as a repairable
// error with its line. The sandbox, not this check, is the boundary.
#ifndef VET_CORE_CODEGEN_MODEL_GENERATOR_H_
#define VET_CORE_CODEGEN_MODEL_GENERATOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/budget/pricing.h"
#include "core/codegen/code_generator.h"
#include "core/codegen/model/chat_client.h"
#include "core/telemetry/tracer.h"

namespace vet::codegen {

class ModelCodeGenerator final : public CodeGenerator {
 public:
  struct Options {
    std::string model = "gpt-5.2-mini";
    int max_completion_tokens = 2048;
    // Stream the reply (server-sent events): the code reaches
    // CodeRequest::on_code_delta as it is written.
    bool stream = true;
    // Tokens of the session's earlier turns in the prompt
    // (VET_CONTEXT_TOKENS; context_window.h): the latest in full, older
    // ones one line each.
    int64_t context_tokens = 2000;
    // Prices of `model` and of the models the soft cap downgrades to
    // (CodeRequest::model). Must outlive the generator.
    const budget::PricingTable* pricing = &budget::PricingTable::Default();
    // Each model call is a span (kind client, "chat <model>", the GenAI
    // semantic conventions' attributes, the practice and the call's cost),
    // a child of CodeRequest::traceparent, whose id the model service gets
    // as its parent. nullptr: none. Must outlive the generator.
    telemetry::Tracer* tracer = nullptr;
  };

  ModelCodeGenerator(Options options, std::unique_ptr<ChatClient> client);

  // The prompt's size in tokens (about 3 characters each, rounded up) plus
  // max_completion_tokens, at the prices of the model the request will use
  // (CodeRequest::model, else Options::model).
  CostEstimate Estimate(const CodeRequest& request) const override;
  bool CanRepair() const override { return true; }
  absl::StatusOr<GeneratedCode> Generate(const CodeRequest& request,
                                         CancellationToken& cancel) override;
  // Holds no thread while the model answers: `done` runs on the chat
  // client's thread.
  void GenerateAsync(const CodeRequest& request, CancellationToken& cancel,
                     GenerateCallback done) override;

  const Options& options() const { return options_; }

 private:
  struct Generation;
  void Call(std::shared_ptr<Generation> g);
  void OnReply(std::shared_ptr<Generation> g, absl::StatusOr<ChatResponse> result);

  std::vector<ChatMessage> Prompt(const CodeRequest& request) const;
  const std::string& ModelFor(const CodeRequest& request) const;

  const Options options_;
  const std::unique_ptr<ChatClient> client_;
};

namespace internal {

// The code in a model's reply: the first ```python (or unlabelled ```)
// block, else the whole reply when it has no fence. Empty when there is
// nothing.
std::string ExtractCode(absl::string_view reply);

// OK, or kInvalidArgument naming the first import outside the allowlist
// (or a use of __import__ / importlib) and its line.
absl::Status CheckImports(absl::string_view code);

// The template's sections, filled: "system", "history", "user", "repair".
std::string PromptSection(absl::string_view name);

}  // namespace internal
}  // namespace vet::codegen

#endif  // VET_CORE_CODEGEN_MODEL_GENERATOR_H_
