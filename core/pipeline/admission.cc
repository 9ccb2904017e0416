// QuestionAdmission: two counters under one lock, and a moving average of
// how long questions take for the retry hint.
#include "core/pipeline/admission.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/common/error_details.h"

namespace vet::pipeline {

QuestionAdmission::Ticket::Ticket(Ticket&& other) noexcept
    : admission_(std::exchange(other.admission_, nullptr)),
      practice_id_(std::move(other.practice_id_)),
      admitted_(other.admitted_) {}

QuestionAdmission::Ticket& QuestionAdmission::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    if (admission_ != nullptr) admission_->Release(practice_id_, admitted_);
    admission_ = std::exchange(other.admission_, nullptr);
    practice_id_ = std::move(other.practice_id_);
    admitted_ = other.admitted_;
  }
  return *this;
}

QuestionAdmission::Ticket::~Ticket() {
  if (admission_ != nullptr) admission_->Release(practice_id_, admitted_);
}

QuestionAdmission::QuestionAdmission(Options options, const Clock& clock)
    : options_(options), clock_(clock) {}

absl::Duration QuestionAdmission::RetryAfterLocked() const {
  return std::max(absl::Seconds(1), absl::Ceil(typical_, absl::Seconds(1)));
}

absl::StatusOr<QuestionAdmission::Ticket> QuestionAdmission::Admit(const std::string& practice_id) {
  absl::MutexLock lock(&mu_);
  int& mine = by_practice_[practice_id];
  if (mine >= options_.max_per_practice) {
    const int held = mine;
    if (mine == 0) by_practice_.erase(practice_id);
    return WithRetryDelay(
        WithReason(absl::ResourceExhaustedError(absl::StrCat(
                       "practice '", practice_id, "' already has ", held,
                       " questions in progress, the most one practice may have at once "
                       "(--max_streams_per_practice); retry in ",
                       absl::FormatDuration(RetryAfterLocked()))),
                   reason::kTooManyQuestions, {{"practice_id", practice_id}}),
        RetryAfterLocked());
  }
  if (total_ >= options_.max_in_progress) {
    if (mine == 0) by_practice_.erase(practice_id);
    return WithRetryDelay(
        WithReason(absl::UnavailableError(
                       absl::StrCat("the server is busy (", total_,
                                    " questions in progress, its limit --max_streams); retry in ",
                                    absl::FormatDuration(RetryAfterLocked()))),
                   reason::kServerBusy),
        RetryAfterLocked());
  }
  if (options_.rate_per_minute > 0) {
    // Refilled continuously at rate_per_minute, up to the burst; a
    // practice seen for the first time starts full.
    const absl::Time now = clock_.Now();
    const double per_second = options_.rate_per_minute / 60.0;
    const double burst = std::max(1, options_.rate_burst);
    auto [it, fresh] = buckets_.try_emplace(practice_id, Bucket{burst, now});
    Bucket& bucket = it->second;
    if (!fresh) {
      bucket.tokens =
          std::min(burst, bucket.tokens + absl::ToDoubleSeconds(now - bucket.counted) * per_second);
      bucket.counted = now;
    }
    if (bucket.tokens < 1) {
      if (mine == 0) by_practice_.erase(practice_id);
      const absl::Duration next =
          absl::Ceil(absl::Seconds((1 - bucket.tokens) / per_second), absl::Milliseconds(100));
      return WithRetryDelay(
          WithReason(absl::ResourceExhaustedError(absl::StrCat(
                         "practice '", practice_id, "' may ask ", options_.rate_per_minute,
                         " questions a minute (--rate_limit, bursts of ", options_.rate_burst,
                         "); the next may be asked in ", absl::FormatDuration(next))),
                     reason::kRateLimited, {{"practice_id", practice_id}}),
          next);
    }
    bucket.tokens -= 1;
  }
  ++mine;
  ++total_;
  return Ticket(this, practice_id, clock_.Now());
}

void QuestionAdmission::Release(const std::string& practice_id, absl::Time admitted) {
  const absl::Duration took = clock_.Now() - admitted;
  absl::MutexLock lock(&mu_);
  --total_;
  auto it = by_practice_.find(practice_id);
  if (it != by_practice_.end() && --it->second <= 0) by_practice_.erase(it);
  // A weight of 1/16: a few dozen questions set the typical time.
  typical_ += (std::max(absl::ZeroDuration(), took) - typical_) / 16;
}

int QuestionAdmission::in_progress() const {
  absl::MutexLock lock(&mu_);
  return total_;
}

int QuestionAdmission::in_progress(const std::string& practice_id) const {
  absl::MutexLock lock(&mu_);
  auto it = by_practice_.find(practice_id);
  return it == by_practice_.end() ? 0 : it->second;
}

}  // namespace vet::pipeline
