// The events one question streams back, in plain C++ (server/ converts them
// to vetanalytics.v1.AskEvent). Money is micro-dollars.
#ifndef VET_CORE_PIPELINE_EVENTS_H_
#define VET_CORE_PIPELINE_EVENTS_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "absl/types/variant.h"
#include "core/common/result.h"
#include "core/sandbox/executor.h"

namespace vet::pipeline {

struct SessionStartedEvent {
  std::string session_id;
  bool resumed = false;
  int turn = 1;
  std::string as_of_date;
  // The question's id (the budget ledger's and the audit trail's).
  std::string question_id;
};

struct BudgetCheckEvent {
  bool allowed = true;
  int64_t spent_micros = 0;
  int64_t limit_micros = 0;
  int64_t remaining_micros = 0;
  int64_t reserved_micros = 0;
  int64_t estimate_micros = 0;
  bool soft_cap_reached = false;
  bool hard_cap_reached = false;
  std::string model;
  // The model configured for this question when the soft cap made it use
  // `model` instead; empty otherwise.
  std::string downgraded_from;
  // When the period's spend starts again from zero.
  absl::Time resets_at;
  // How long the question waited for other questions' holds to settle
  // (zero when it did not wait).
  absl::Duration waited;
  std::string message;
};

struct CodeGeneratedEvent {
  int attempt = 1;
  std::string code;
  std::string generator;
  std::string model;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cost_micros = 0;
  std::string summary;
};

struct ExecutionOutputEvent {
  sandbox::OutputStream stream = sandbox::OutputStream::kStdout;
  std::string text;
};

// A file the code produced, or one part of it: `data` is the bytes at
// `offset` of an artifact of `total_bytes` (artifact_chunks.h splits one
// that does not fit in a message).
struct ArtifactEvent {
  std::string name;
  std::string mime_type;
  std::string data;
  int64_t offset = 0;
  int64_t total_bytes = 0;
};

struct CodeDeltaEvent {
  int attempt = 1;
  std::string text;
};

struct RetryEvent {
  int attempt = 2;
  std::string reason;
};

struct FinalAnswerEvent {
  std::string text;
  ResultValue result;
  int64_t total_cost_micros = 0;
  std::string code;
  int attempts = 1;
  Explanation explanation;
};

using EventPayload =
    absl::variant<SessionStartedEvent, BudgetCheckEvent, CodeGeneratedEvent, ExecutionOutputEvent,
                  ArtifactEvent, RetryEvent, FinalAnswerEvent, CodeDeltaEvent>;

struct AskEvent {
  int64_t seq = 0;  // 1, 2, 3, ... per question
  absl::Time timestamp;
  EventPayload payload;
};

// Receives the events of one question in order. Called from one thread at a
// time; must not block for long (queue and return).
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void Emit(const AskEvent& event) = 0;
};

}  // namespace vet::pipeline

#endif  // VET_CORE_PIPELINE_EVENTS_H_
