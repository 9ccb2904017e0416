// CallAudit. A refusal is attributed to the practice it named only when the
// server serves that practice: an unauthenticated caller can then add
// entries only to real practices' trails, where the recorder's refusal limit
// bounds them, and never grows the store with practice ids it made up.
#include "server/call_audit.h"

#include <utility>

#include "absl/types/variant.h"

namespace vet::server {

CallAudit::CallAudit(audit::AuditRecorder* recorder, const PracticeRegistry& practices,
                     const Clock& clock, std::string rpc)
    : recorder_(recorder), practices_(practices), clock_(clock) {
  call_.entry.at = clock_.Now();
  call_.entry.rpc = std::move(rpc);
}

void CallAudit::Authorized(const std::string& requested_practice,
                           const absl::StatusOr<std::shared_ptr<const Practice>>& practice) {
  if (recorder_ == nullptr) return;
  absl::MutexLock lock(&mu_);
  if (practice.ok()) {
    call_.entry.practice_id = (*practice)->id;
    call_.key_sha256 = (*practice)->api_key_sha256;
    attributed_ = true;
    return;
  }
  call_.key_sha256.reset();
  // ValidatePracticeId first: Find never sees a malformed id.
  attributed_ =
      ValidatePracticeId(requested_practice).ok() && practices_.Find(requested_practice).ok();
  if (attributed_) call_.entry.practice_id = requested_practice;
}

void CallAudit::SetSession(const std::string& session_id) {
  absl::MutexLock lock(&mu_);
  call_.entry.session_id = session_id;
}

void CallAudit::SetQuestion(const std::string& question) {
  if (recorder_ == nullptr) return;
  absl::MutexLock lock(&mu_);
  call_.question = question;
}

void CallAudit::Observe(const pipeline::AskEvent& event) {
  absl::MutexLock lock(&mu_);
  if (const auto* started = absl::get_if<pipeline::SessionStartedEvent>(&event.payload)) {
    call_.entry.session_id = started->session_id;
    call_.entry.question_id = started->question_id;
  } else if (const auto* check = absl::get_if<pipeline::BudgetCheckEvent>(&event.payload)) {
    // The model chosen, in case no code is written (a refusal by the budget).
    call_.entry.model = check->model;
  } else if (const auto* code = absl::get_if<pipeline::CodeGeneratedEvent>(&event.payload)) {
    call_.entry.generator = code->generator;
    call_.entry.model = code->model;
    call_.entry.prompt_tokens += code->prompt_tokens;
    call_.entry.completion_tokens += code->completion_tokens;
    if (!final_cost_) call_.entry.cost_micros += code->cost_micros;
  } else if (const auto* answer = absl::get_if<pipeline::FinalAnswerEvent>(&event.payload)) {
    // What was charged, sandbox time included.
    call_.entry.cost_micros = answer->total_cost_micros;
    final_cost_ = true;
  }
}

void CallAudit::Finish(const absl::Status& status) {
  if (recorder_ == nullptr) return;
  audit::CallRecord call;
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    finished_ = true;
    if (!attributed_) {
      recorder_->CountUnattributed();
      return;
    }
    call_.entry.status = status.code();
    call_.entry.duration = clock_.Now() - call_.entry.at;
    call = std::move(call_);
  }
  recorder_->Record(call);
}

}  // namespace vet::server
