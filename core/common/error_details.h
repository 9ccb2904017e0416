// What a program needs to act on an error, beside its code and message: a
// stable reason (errors a client switches on never depend on wording), how
// long to wait before retrying where waiting helps, and which request
// fields or import lines were wrong. Carried on absl::Status as payloads so
// that core/ stays free of protobuf; server/grpc_status.cc sends them as
// google.rpc.Status details (ErrorInfo, RetryInfo, BadRequest).
//
// A status rebuilt from another's code and message loses its payloads: use
// Annotate() to add context.
#ifndef VET_CORE_COMMON_ERROR_DETAILS_H_
#define VET_CORE_COMMON_ERROR_DETAILS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace vet {

// The reasons (README "Errors" lists them with their codes and whether a
// retry can help). Stable: clients compare them.
namespace reason {
inline constexpr char kApiKeyInvalid[] = "API_KEY_INVALID";
inline constexpr char kPracticeNotAllowed[] = "PRACTICE_NOT_ALLOWED";
inline constexpr char kInvalidRequest[] = "INVALID_REQUEST";
inline constexpr char kNotUnderstood[] = "NOT_UNDERSTOOD";
inline constexpr char kNotAnswerable[] = "NOT_ANSWERABLE";
inline constexpr char kNoData[] = "NO_DATA";
inline constexpr char kDataUnavailable[] = "DATA_UNAVAILABLE";
inline constexpr char kImportInvalid[] = "IMPORT_INVALID";
inline constexpr char kImportTooLarge[] = "IMPORT_TOO_LARGE";
inline constexpr char kSessionNotFound[] = "SESSION_NOT_FOUND";
inline constexpr char kSessionBusy[] = "SESSION_BUSY";
inline constexpr char kBudgetExhausted[] = "BUDGET_EXHAUSTED";
inline constexpr char kRateLimited[] = "RATE_LIMITED";
inline constexpr char kTooManyQuestions[] = "TOO_MANY_QUESTIONS";
inline constexpr char kServerBusy[] = "SERVER_BUSY";
inline constexpr char kSandboxBusy[] = "SANDBOX_BUSY";
inline constexpr char kSandboxTimeout[] = "SANDBOX_TIMEOUT";
inline constexpr char kSandboxLimit[] = "SANDBOX_LIMIT";
inline constexpr char kModelUnavailable[] = "MODEL_UNAVAILABLE";
inline constexpr char kModelRefused[] = "MODEL_REFUSED";
inline constexpr char kCancelled[] = "CANCELLED";
}  // namespace reason

struct FieldViolation {
  // A request field's path ("question", "tables[1].columns[0].name") or an
  // import problem's place ("clients.csv:12:email").
  std::string field;
  std::string description;
};

struct ErrorDetails {
  std::string reason;  // "" when none was set
  std::map<std::string, std::string> metadata;
  absl::optional<absl::Duration> retry_delay;
  std::vector<FieldViolation> violations;
};

// `status` with its reason (and metadata) set, replacing any earlier one.
// OK stays OK.
absl::Status WithReason(absl::Status status, absl::string_view reason,
                        const std::map<std::string, std::string>& metadata = {});
// `status` saying a retry after `delay` can succeed.
absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);
// `status` with `violations` added to those it has.
absl::Status WithViolations(absl::Status status, const std::vector<FieldViolation>& violations);

// What the setters above put on `status`.
ErrorDetails GetErrorDetails(const absl::Status& status);

// The same code and details, with `prefix` before the message and `suffix`
// after it.
absl::Status Annotate(const absl::Status& status, absl::string_view prefix,
                      absl::string_view suffix = "");

}  // namespace vet

#endif  // VET_CORE_COMMON_ERROR_DETAILS_H_
