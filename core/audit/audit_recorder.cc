// AuditRecorder. The writer takes whatever is queued (up to max_batch) as
// soon as there is something: no timer. Under load entries pile up while a
// batch is being written, so batches grow with the load and one fsync
// covers many calls; when idle an entry is written at once.
#include "core/audit/audit_recorder.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/common/log.h"

namespace vet::audit {
namespace {

// Client-supplied text kept in an entry: a question is at most 2,000
// characters when valid (analytics.proto), so 8 KiB keeps every valid one
// whole while an invalid one cannot grow the queue; ids are 32 characters.
constexpr size_t kMaxQuestionBytes = 8192;
constexpr size_t kMaxIdBytes = 64;
constexpr size_t kKeyIdHexChars = 12;

std::string Capped(const std::string& s, size_t max) {
  return s.size() <= max ? s : s.substr(0, max);
}

bool IsRefusal(const CallRecord& call) { return !call.key_sha256.has_value(); }

}  // namespace

absl::StatusOr<QuestionMode> ParseQuestionMode(absl::string_view mode) {
  if (mode == "hash") return QuestionMode::kHash;
  if (mode == "text") return QuestionMode::kText;
  return absl::InvalidArgumentError(
      absl::StrCat("--audit_questions (VET_AUDIT_QUESTIONS) '", mode.substr(0, 40),
                   "' must be hash (the default: only the question's SHA-256) or text"));
}

const char* QuestionModeName(QuestionMode mode) {
  return mode == QuestionMode::kText ? "text" : "hash";
}

std::string KeyId(const Sha256Digest& api_key_sha256) {
  return Sha256Hex(api_key_sha256).substr(0, kKeyIdHexChars);
}

absl::StatusOr<std::unique_ptr<AuditRecorder>> AuditRecorder::Create(Options options,
                                                                     AuditStore& store,
                                                                     const Clock& clock,
                                                                     AuditMetrics* metrics) {
  if (options.max_queued == 0 || options.max_batch == 0) {
    return absl::InvalidArgumentError("the audit queue and batch sizes must be at least 1");
  }
  if (options.retention < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--audit_retention_days must be >= 0 (0 keeps the trail forever)");
  }
  if (options.refusals_per_minute < 1 || options.refusal_burst < 1) {
    return absl::InvalidArgumentError("the audit refusal limits must be at least 1");
  }
  std::unique_ptr<AuditRecorder> recorder(new AuditRecorder(options, store, clock, metrics));
  recorder->writer_ = std::thread([r = recorder.get()] { r->WriterLoop(); });
  return recorder;
}

AuditRecorder::AuditRecorder(Options options, AuditStore& store, const Clock& clock,
                             AuditMetrics* metrics)
    : options_(options), store_(store), clock_(clock), metrics_(metrics) {}

AuditRecorder::~AuditRecorder() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  writer_.join();
}

AuditEntry AuditRecorder::ToEntry(const CallRecord& call) const {
  AuditEntry e;
  e.id = NewAuditEntryId();
  e.at = call.entry.at;
  e.practice_id = call.entry.practice_id;
  e.rpc = call.entry.rpc;
  e.status = call.entry.status;
  e.duration = call.entry.duration;
  if (IsRefusal(call)) {
    // A refused caller may have sent anything: nothing it chose (session,
    // question) goes into the practice's trail.
    return e;
  }
  e.key_id = KeyId(*call.key_sha256);
  e.session_id = Capped(call.entry.session_id, kMaxIdBytes);
  e.question_id = Capped(call.entry.question_id, kMaxIdBytes);
  e.generator = Capped(call.entry.generator, kMaxIdBytes);
  e.model = Capped(call.entry.model, kMaxIdBytes);
  e.prompt_tokens = call.entry.prompt_tokens;
  e.completion_tokens = call.entry.completion_tokens;
  e.cost_micros = call.entry.cost_micros;
  if (!call.question.empty()) {
    e.question_sha256 = Sha256Hex(Sha256(call.question));
    if (options_.questions == QuestionMode::kText) {
      e.question = Capped(call.question, kMaxQuestionBytes);
    }
  }
  return e;
}

void AuditRecorder::Record(const CallRecord& call) {
  // Hashing outside the lock: Record runs on the calls' threads.
  AuditEntry entry = ToEntry(call);
  const char* dropped = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (IsRefusal(call) && !TakeRefusalToken(call.entry.practice_id, entry.suppressed_refusals)) {
      dropped = kDropRefusalLimit;
      ++stats_.dropped_refusal_limit;
    } else if (queue_.size() >= options_.max_queued) {
      dropped = kDropQueueFull;
      ++stats_.dropped_queue_full;
    } else {
      queue_.push_back(std::move(entry));
      ++enqueued_;
    }
  }
  if (dropped != nullptr && metrics_ != nullptr) metrics_->Dropped(dropped, 1);
}

void AuditRecorder::CountUnattributed() {
  {
    absl::MutexLock lock(&mu_);
    ++stats_.unattributed;
  }
  if (metrics_ != nullptr) metrics_->Dropped(kDropUnattributed, 1);
}

bool AuditRecorder::TakeRefusalToken(const std::string& practice_id, int64_t& suppressed) {
  const absl::Time now = clock_.Now();
  auto [it, inserted] = refusals_.try_emplace(practice_id);
  RefusalBucket& bucket = it->second;
  if (inserted) {
    bucket.tokens = options_.refusal_burst;
  } else if (now > bucket.refilled_at) {
    bucket.tokens =
        std::min<double>(options_.refusal_burst,
                         bucket.tokens + options_.refusals_per_minute *
                                             absl::ToDoubleMinutes(now - bucket.refilled_at));
  }
  bucket.refilled_at = std::max(bucket.refilled_at, now);
  if (bucket.tokens < 1) {
    ++bucket.suppressed;
    return false;
  }
  bucket.tokens -= 1;
  suppressed = bucket.suppressed;
  bucket.suppressed = 0;
  return true;
}

void AuditRecorder::WriterLoop() {
  while (true) {
    std::vector<AuditEntry> batch;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &AuditRecorder::HasWorkOrStopping));
      if (queue_.empty()) return;  // stopping, and everything is written
      const size_t n = std::min(queue_.size(), options_.max_batch);
      batch.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    const int64_t n = static_cast<int64_t>(batch.size());
    absl::Status written = store_.Append(batch);
    // Counted and logged before the batch is settled, so that whoever a
    // Flush wakes sees the counts.
    if (written.ok()) {
      if (metrics_ != nullptr) metrics_->Written(n);
    } else {
      OnWriteFailed(written, n);
    }
    absl::MutexLock lock(&mu_);
    if (written.ok()) {
      stats_.written += n;
      ++stats_.batches;
    }
    settled_ += n;
  }
}

void AuditRecorder::OnWriteFailed(const absl::Status& status, int64_t entries) {
  if (metrics_ != nullptr) metrics_->Dropped(kDropWriteFailed, entries);
  const absl::Time now = clock_.Now();
  int64_t failures = 0;
  {
    absl::MutexLock lock(&mu_);
    stats_.dropped_write_failed += entries;
    unlogged_failures_ += entries;
    if (last_failure_log_.has_value() && now - *last_failure_log_ < options_.failure_log_interval) {
      return;
    }
    last_failure_log_ = now;
    failures = unlogged_failures_;
    unlogged_failures_ = 0;
    ++stats_.failures_logged;
  }
  // The message is the store's: it names the store, never an entry's content.
  LogWarning("audit: ", failures, " entries could not be written (lost; at most one such line per ",
             absl::FormatDuration(options_.failure_log_interval), "): ", status.ToString());
}

bool AuditRecorder::HasWorkOrStopping() const { return !queue_.empty() || stopping_; }

bool AuditRecorder::SettledUpToTarget() const { return settled_ >= flush_target_; }

bool AuditRecorder::Flush(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  flush_target_ = std::max(flush_target_, enqueued_);
  return mu_.AwaitWithTimeout(absl::Condition(this, &AuditRecorder::SettledUpToTarget), timeout);
}

absl::StatusOr<int64_t> AuditRecorder::PurgeExpired() {
  if (options_.retention == absl::ZeroDuration()) return 0;
  return store_.PurgeBefore(clock_.Now() - options_.retention);
}

AuditRecorder::Stats AuditRecorder::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace vet::audit
