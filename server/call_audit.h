// CallAudit: what one call's audit entry will say, gathered as the call goes
// (who was authorized, the Ask's events) and handed to the AuditRecorder
// once, when the call ends. One per call; the service's methods make it.
#ifndef VET_SERVER_CALL_AUDIT_H_
#define VET_SERVER_CALL_AUDIT_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/audit/audit_recorder.h"
#include "core/common/clock.h"
#include "core/pipeline/events.h"
#include "core/practice/practice.h"

namespace vet::server {

// Thread-safe (one mutex): a call's steps may run on different threads.
class CallAudit {
 public:
  // `recorder` may be null (nothing is recorded). `recorder`, `practices`
  // and `clock` must outlive this. The call's start is clock.Now().
  CallAudit(audit::AuditRecorder* recorder, const PracticeRegistry& practices, const Clock& clock,
            std::string rpc);

  // The practice the request named and what authorizing it gave. A call
  // that ends without this is not recorded (counted as unattributed).
  void Authorized(const std::string& requested_practice,
                  const absl::StatusOr<std::shared_ptr<const Practice>>& practice);
  // A session the request named (GetSession, EndSession, a continued Ask).
  void SetSession(const std::string& session_id);
  // Ask: the question as sent.
  void SetQuestion(const std::string& question);
  // Ask: takes the session and question ids, generator, model, tokens and
  // cost from the question's events.
  void Observe(const pipeline::AskEvent& event);

  // Records the call's entry with `status` and its duration; only the first
  // call does anything. An authorized call is recorded with its key id; a
  // refused one only when it named a practice this server serves (else it
  // is counted as unattributed: nobody's trail would show it).
  void Finish(const absl::Status& status);

 private:
  audit::AuditRecorder* const recorder_;
  const PracticeRegistry& practices_;
  const Clock& clock_;
  absl::Mutex mu_;
  audit::CallRecord call_ ABSL_GUARDED_BY(mu_);
  // Set by Authorized: whether the requested practice may be recorded.
  bool attributed_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool final_cost_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace vet::server

#endif  // VET_SERVER_CALL_AUDIT_H_
