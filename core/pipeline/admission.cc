// QuestionAdmission: two counters under one lock, and a moving average of
// how long questions take for the retry hint.
#include "core/pipeline/admission.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

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

absl::StatusOr<QuestionAdmission::Ticket> QuestionAdmission::Admit(
    const std::string& practice_id) {
  absl::MutexLock lock(&mu_);
  int& mine = by_practice_[practice_id];
  if (mine >= options_.max_per_practice) {
    const int held = mine;
    if (mine == 0) by_practice_.erase(practice_id);
    return absl::ResourceExhaustedError(absl::StrCat(
        "practice '", practice_id, "' already has ", held,
        " questions in progress, the most one practice may have at once "
        "(--max_streams_per_practice); retry in ",
        absl::FormatDuration(RetryAfterLocked())));
  }
  if (total_ >= options_.max_in_progress) {
    if (mine == 0) by_practice_.erase(practice_id);
    return absl::UnavailableError(absl::StrCat(
        "the server is busy (", total_,
        " questions in progress, its limit --max_streams); retry in ",
        absl::FormatDuration(RetryAfterLocked())));
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
