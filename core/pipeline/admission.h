// Admission of questions: how many may be in progress at once, in all and
// per practice, so that one practice (or one busy hour) cannot take the
// server from the others. A question in progress holds no thread while it
// waits on a model or a queue (pipeline.h), so these bounds are about
// memory, connections and fairness, not threads.
#ifndef VET_CORE_PIPELINE_ADMISSION_H_
#define VET_CORE_PIPELINE_ADMISSION_H_

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/common/clock.h"

namespace vet::pipeline {

// Thread-safe.
class QuestionAdmission {
 public:
  struct Options {
    // Questions in progress on this server, all practices together
    // (--max_streams). Past it: kUnavailable, at once.
    int max_in_progress = 1024;
    // Questions in progress for one practice (--max_streams_per_practice):
    // a practice past it is refused kResourceExhausted while the others
    // are still served. 128 lets one practice drive the whole machine when
    // it is alone (a model-path question is ~1 s, so 128 in progress is
    // ~100 questions/s, more than two cores execute), while eight
    // practices at their limit still fit under max_in_progress.
    int max_per_practice = 128;
    // Questions one practice may start per minute (--rate_limit), as a
    // token bucket holding at most `rate_burst` questions; 0 turns it off.
    // Off by default: the bound on questions in progress already keeps one
    // practice from taking the server; a rate limit is for operators who
    // want to cap a practice's use (or a runaway client) over time.
    int rate_per_minute = 0;
    int rate_burst = 20;
  };

  // Held by one admitted question; lets go when destroyed.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept;
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket();

   private:
    friend class QuestionAdmission;
    Ticket(QuestionAdmission* admission, std::string practice_id, absl::Time admitted)
        : admission_(admission), practice_id_(std::move(practice_id)), admitted_(admitted) {}
    QuestionAdmission* admission_ = nullptr;
    std::string practice_id_;
    absl::Time admitted_;
  };

  // `clock` must outlive the admission and every ticket.
  QuestionAdmission(Options options, const Clock& clock);

  // Admits one question of `practice_id`, or refuses it at once:
  //   kResourceExhausted  the practice has max_per_practice questions in
  //                       progress, or has used up its rate; the message
  //                       names the practice, the limit and when to retry
  //   kUnavailable        the server has max_in_progress questions in
  //                       progress; the message says when to retry
  absl::StatusOr<Ticket> Admit(const std::string& practice_id);

  int in_progress() const;
  int in_progress(const std::string& practice_id) const;

 private:
  void Release(const std::string& practice_id, absl::Time admitted);
  // A retry delay for a refused question: about how long a question takes
  // here (a moving average), at least a second.
  absl::Duration RetryAfterLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  const Clock& clock_;
  mutable absl::Mutex mu_;
  int total_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int> by_practice_ ABSL_GUARDED_BY(mu_);
  // Token buckets by practice: tokens left and when they were counted.
  struct Bucket {
    double tokens = 0;
    absl::Time counted;
  };
  std::map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
  // Exponentially weighted moving average of how long questions took.
  absl::Duration typical_ ABSL_GUARDED_BY(mu_) = absl::Seconds(1);
};

}  // namespace vet::pipeline

#endif  // VET_CORE_PIPELINE_ADMISSION_H_
