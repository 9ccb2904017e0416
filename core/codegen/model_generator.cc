// ModelCodeGenerator: the prompt from the template, the call, the code out
// of the reply and the import check.
#include "core/codegen/model_generator.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/codegen/context_window.h"
#include "core/codegen/personal_data_shield.h"
#include "core/codegen/semantic_layer.h"
#include "core/common/status_macros.h"
#include "core/common/trace_context.h"
#include "core/data/schema.h"

namespace vet::codegen {
namespace internal {
// prompts/model_prompt.md, embedded at build time.
absl::string_view ModelPromptTemplate();
}  // namespace internal

namespace {

constexpr const char* kAllowedModules[] = {"pandas",      "numpy",     "math",
                                           "statistics",  "datetime",  "re",
                                           "collections", "itertools", "matplotlib"};

std::string TypeForPrompt(const data::ColumnSpec& spec) {
  if (spec.type == data::FieldType::kRef) return absl::StrCat("id, refers to ", spec.references);
  return std::string(data::FieldTypeName(spec.type));
}

// Tables, columns, types, allowed values, date ranges and row counts:
// never a row, never a value of a personal column.
std::string DescribeForPrompt(const data::DatasetDescription& dataset) {
  std::string out;
  for (const data::TableDescription& table : dataset.tables) {
    absl::StrAppend(&out, "- ", table.name, " (", table.row_count, " rows): ", table.description,
                    "\n");
    for (const data::ColumnDescription& column : table.columns) {
      if (!column.present) continue;
      const data::ColumnSpec& spec = column.spec;
      absl::StrAppend(&out, "    ", spec.name, ": ", TypeForPrompt(spec));
      if (spec.type == data::FieldType::kEnum && !spec.allowed_values.empty())
        absl::StrAppend(&out, " (", absl::StrJoin(spec.allowed_values, ", "), ")");
      if (!column.min_value.empty())
        absl::StrAppend(&out, ", ", column.min_value, " to ", column.max_value);
      if (spec.personal) absl::StrAppend(&out, ", personal: never show its values");
      if (spec.optional) absl::StrAppend(&out, ", may be empty");
      if (!spec.description.empty()) absl::StrAppend(&out, " - ", spec.description);
      absl::StrAppend(&out, "\n");
    }
  }
  return out;
}

std::string Fill(absl::string_view section,
                 const std::vector<std::pair<std::string, std::string>>& values) {
  std::string text(internal::PromptSection(section));
  for (const auto& [key, value] : values) {
    text = absl::StrReplaceAll(text, {{absl::StrCat("{{", key, "}}"), value}});
  }
  return std::string(absl::StripAsciiWhitespace(text));
}

}  // namespace

namespace internal {

std::string PromptSection(absl::string_view name) {
  const std::string marker = absl::StrCat("=== ", name, " ===");
  absl::string_view text = ModelPromptTemplate();
  size_t start = text.find(marker);
  if (start == absl::string_view::npos) return "";
  start += marker.size();
  size_t end = text.find("\n=== ", start);
  return std::string(text.substr(start, end == absl::string_view::npos ? end : end - start));
}

std::string ExtractCode(absl::string_view reply) {
  size_t fence = reply.find("```");
  if (fence == absl::string_view::npos) {
    return std::string(absl::StripAsciiWhitespace(reply));
  }
  // Prefer a ```python block; else the first fenced block.
  size_t python = reply.find("```python");
  if (python == absl::string_view::npos) python = reply.find("```py\n");
  size_t open = python != absl::string_view::npos ? python : fence;
  size_t line_end = reply.find('\n', open);
  if (line_end == absl::string_view::npos) return "";
  size_t close = reply.find("```", line_end + 1);
  absl::string_view code =
      reply.substr(line_end + 1, close == absl::string_view::npos ? absl::string_view::npos
                                                                  : close - line_end - 1);
  return std::string(absl::StripTrailingAsciiWhitespace(code)) + "\n";
}

absl::Status CheckImports(absl::string_view code) {
  int number = 0;
  for (absl::string_view line : absl::StrSplit(code, '\n')) {
    ++number;
    absl::string_view text = absl::StripLeadingAsciiWhitespace(line);
    if (absl::StrContains(text, "__import__") || absl::StrContains(text, "importlib")) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", number,
                       " imports dynamically (__import__ or importlib), "
                       "which is not allowed"));
    }
    std::vector<std::string> modules;
    if (absl::ConsumePrefix(&text, "import ")) {
      for (absl::string_view part : absl::StrSplit(text, ',')) {
        part = absl::StripAsciiWhitespace(part);
        modules.push_back(std::string(part.substr(0, part.find_first_of(" .#;"))));
      }
    } else if (absl::ConsumePrefix(&text, "from ")) {
      text = absl::StripLeadingAsciiWhitespace(text);
      modules.push_back(std::string(text.substr(0, text.find_first_of(" .#;"))));
    }
    for (const std::string& module : modules) {
      if (module.empty()) continue;  // "from . import": refused below
      bool allowed = std::any_of(std::begin(kAllowedModules), std::end(kAllowedModules),
                                 [&](const char* a) { return module == a; });
      if (!allowed) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", number, " imports ", module,
                         ", which is not allowed (only pandas, numpy, math, statistics, "
                         "datetime, re, collections, itertools and matplotlib)"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace internal

ModelCodeGenerator::ModelCodeGenerator(Options options, std::unique_ptr<ChatClient> client)
    : options_(std::move(options)), client_(std::move(client)) {}

std::vector<ChatMessage> ModelCodeGenerator::Prompt(const CodeRequest& request) const {
  std::vector<ChatMessage> messages;
  messages.push_back({"system", Fill("system", {{"as_of", absl::FormatCivilTime(request.as_of)},
                                                {"schema", request.dataset != nullptr
                                                               ? DescribeForPrompt(*request.dataset)
                                                               : std::string("(not available)")},
                                                {"metrics", MetricDefinitionsForPrompt()}})});
  const ContextWindow window = BuildContextWindow(request.history, options_.context_tokens);
  if (!window.text.empty()) {
    std::string turns = window.text;
    if (window.dropped_turns > 0) {
      turns = absl::StrCat("(", window.dropped_turns, " earlier turn",
                           window.dropped_turns == 1 ? "" : "s", " not shown)\n", turns);
    }
    messages.push_back({"user", Fill("history", {{"turns", turns}})});
  }
  messages.push_back({"user", Fill("user", {{"question", request.question}})});
  if (request.attempt > 1 && !request.failed_code.empty()) {
    messages.push_back({"assistant", absl::StrCat("```python\n", request.failed_code, "\n```")});
    messages.push_back({"user", Fill("repair", {{"failure", request.failure}})});
  }
  return messages;
}

const std::string& ModelCodeGenerator::ModelFor(const CodeRequest& request) const {
  return request.model.empty() ? options_.model : request.model;
}

CostEstimate ModelCodeGenerator::Estimate(const CodeRequest& request) const {
  int64_t prompt = 0;
  for (const ChatMessage& m : Prompt(request)) prompt += EstimateTokens(m.content) + 4;
  // A repair of the check (see Generate) may call the model twice.
  const std::string& model = ModelFor(request);
  return {model,
          2 * options_.pricing->CostMicros(model, prompt, 0, options_.max_completion_tokens)};
}

// One GenerateAsync: up to two calls (the second when the first reply's
// code fails the check), each continuing on the client's thread.
struct ModelCodeGenerator::Generation {
  const CodeRequest* request = nullptr;
  CancellationToken* cancel = nullptr;
  GenerateCallback done;
  CodeRequest current;
  ChatRequest chat;
  ChatCallbacks callbacks;
  GeneratedCode out;
  int call = 1;
  // Hides the practice's personal values in everything this generation
  // sends, with the same placeholders in both calls.
  std::unique_ptr<PersonalDataShield::Redaction> redaction;
  // The model call in flight.
  std::unique_ptr<telemetry::Span> span;
};

namespace {

// What leaves for the model: `request` with every text that may carry a
// personal value hidden. The system prompt (template and schema) carries
// none by construction.
CodeRequest Hidden(const CodeRequest& request, PersonalDataShield::Redaction& redaction) {
  CodeRequest out = request;
  out.question = redaction.Hide(request.question);
  for (PriorTurn& turn : out.history) {
    turn.question = redaction.Hide(turn.question);
    turn.summary = redaction.Hide(turn.summary);
    turn.code = redaction.HideInCode(turn.code);
    turn.plan.clear();
  }
  out.failed_code = redaction.HideInCode(request.failed_code);
  out.failure = redaction.Hide(request.failure);
  return out;
}

}  // namespace

void ModelCodeGenerator::Call(std::shared_ptr<Generation> g) {
  const CodeRequest& request = *g->request;
  g->chat = ChatRequest();
  g->chat.model = g->out.model;
  g->chat.messages = Prompt(Hidden(g->current, *g->redaction));
  g->chat.max_completion_tokens = options_.max_completion_tokens;
  g->chat.stream = options_.stream && static_cast<bool>(request.on_code_delta);
  // The call's span, a child of the question's code generation; the model
  // service sees it as its parent.
  const absl::optional<TraceContext> parent = ParseTraceparent(request.traceparent);
  g->span = telemetry::TracerOrNull(options_.tracer)
                .StartSpan(absl::StrCat("chat ", g->chat.model), parent.value_or(TraceContext{}),
                           telemetry::SpanKind::kClient);
  if (g->span->recording()) {
    // OpenTelemetry's GenAI semantic conventions, and this service's own.
    g->span->SetAttribute("gen_ai.operation.name", std::string("chat"));
    g->span->SetAttribute("gen_ai.system", std::string("openai"));
    g->span->SetAttribute("gen_ai.request.model", g->chat.model);
    g->span->SetAttribute("gen_ai.request.max_tokens",
                          static_cast<int64_t>(g->chat.max_completion_tokens));
    g->span->SetAttribute("vet.practice_id", request.practice_id);
    g->span->SetAttribute("vet.model_call", static_cast<int64_t>(g->call));
  }
  if (parent.has_value()) g->chat.traceparent = FormatTraceparent(g->span->context());
  client_->CompleteAsync(
      g->chat, g->callbacks, *g->cancel,
      [this, g](absl::StatusOr<ChatResponse> reply) { OnReply(g, std::move(reply)); });
}

void ModelCodeGenerator::OnReply(std::shared_ptr<Generation> g,
                                 absl::StatusOr<ChatResponse> result) {
  std::unique_ptr<telemetry::Span> span = std::move(g->span);
  if (!result.ok()) {
    span->SetStatus(result.status());
    span->End();
    GenerateCallback done = std::move(g->done);
    return done(result.status());
  }
  const CodeRequest& request = *g->request;
  const ChatResponse& reply = *result;
  GeneratedCode& out = g->out;
  const std::string model = ModelFor(request);
  if (!reply.model.empty()) out.model = reply.model;
  int64_t prompt_tokens = reply.prompt_tokens;
  int64_t completion_tokens = reply.completion_tokens;
  if (!reply.has_usage) {
    // Counted from the text when the server does not say: spend is never
    // recorded as zero for a paid call.
    prompt_tokens = 0;
    for (const ChatMessage& m : g->chat.messages) prompt_tokens += EstimateTokens(m.content) + 4;
    completion_tokens = EstimateTokens(reply.content);
  }
  const int64_t cached = std::min(reply.cached_prompt_tokens, prompt_tokens);
  out.prompt_tokens += prompt_tokens;
  out.cached_prompt_tokens += cached;
  out.completion_tokens += completion_tokens;
  // Priced as the model asked for: a server may answer with a dated variant
  // of the name.
  const int64_t cost =
      options_.pricing->CostMicros(model, prompt_tokens, cached, completion_tokens);
  out.cost_micros += cost;
  if (request.on_spend) {
    request.on_spend(CallSpend{model, prompt_tokens, cached, completion_tokens, cost});
  }

  if (span->recording()) {
    span->SetAttribute("gen_ai.response.model", out.model);
    span->SetAttribute("gen_ai.usage.input_tokens", prompt_tokens);
    span->SetAttribute("gen_ai.usage.output_tokens", completion_tokens);
    span->SetAttribute("gen_ai.response.finish_reasons",
                       std::vector<std::string>{reply.finish_reason});
    span->SetAttribute("vet.cost_usd", telemetry::MicrosToUsd(cost));
  }

  out.code = internal::ExtractCode(reply.content);
  // The model wrote placeholders where the question named a person: the
  // values go back in here, for the sandbox, after the check.
  absl::Status checked = reply.finish_reason == "length"
                             ? absl::InvalidArgumentError(absl::StrCat(
                                   "the reply was cut off at the limit of ",
                                   options_.max_completion_tokens, " tokens; write shorter code"))
                         : out.code.empty() ? absl::InvalidArgumentError("the reply held no code")
                                            : internal::CheckImports(out.code);
  out.code = g->redaction->Reveal(out.code);
  // A reply the check refused is a failed call, though the server answered.
  span->SetStatus(checked);
  span->End();
  if (checked.ok()) {
    out.summary = absl::StrCat("model ", out.model, " for: ", request.question);
    GenerateCallback done = std::move(g->done);
    return done(std::move(out));
  }
  if (g->call == 2) {
    GenerateCallback done = std::move(g->done);
    return done(absl::FailedPreconditionError(
        absl::StrCat("the model's code did not pass the check twice: ", checked.message())));
  }
  if (request.on_retry) {
    request.on_retry(absl::StrCat("the model's code did not pass the check (", checked.message(),
                                  "); asking it again"));
  }
  // One more call, with the reason.
  g->call = 2;
  g->current.attempt = request.attempt + 1;
  g->current.failed_code = out.code;
  g->current.failure = std::string(checked.message());
  out.model = model;
  Call(std::move(g));
}

void ModelCodeGenerator::GenerateAsync(const CodeRequest& request, CancellationToken& cancel,
                                       GenerateCallback done) {
  auto g = std::make_shared<Generation>();
  g->request = &request;
  g->cancel = &cancel;
  g->done = std::move(done);
  g->current = request;
  g->callbacks.on_retry = request.on_retry;
  g->callbacks.on_delta = request.on_code_delta;
  g->out.generator = "model";
  g->out.model = ModelFor(request);
  g->redaction =
      std::make_unique<PersonalDataShield::Redaction>(PersonalDataShield::For(request.personal));
  Call(std::move(g));
}

absl::StatusOr<GeneratedCode> ModelCodeGenerator::Generate(const CodeRequest& request,
                                                           CancellationToken& cancel) {
  return AwaitGenerated(*this, request, cancel);
}

}  // namespace vet::codegen
