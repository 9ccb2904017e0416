// AuditRecorder: the server's one way into the audit trail. Record() turns
// what a call did into an AuditEntry and queues it; one writer thread
// appends queued entries to the AuditStore in batches. A question never
// waits for the store and never fails because of it: when the queue is full
// or a write fails the entry is dropped, counted (AuditMetrics) and the
// failure logged, at most once a minute.
#ifndef VET_CORE_AUDIT_AUDIT_RECORDER_H_
#define VET_CORE_AUDIT_AUDIT_RECORDER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/audit/audit_store.h"
#include "core/common/clock.h"
#include "core/common/sha256.h"

namespace vet::audit {

// What the trail keeps of a question: its text, or only its SHA-256.
enum class QuestionMode { kHash, kText };

// "hash" or "text"; kInvalidArgument naming --audit_questions otherwise.
absl::StatusOr<QuestionMode> ParseQuestionMode(absl::string_view mode);
const char* QuestionModeName(QuestionMode mode);

// The key id of an entry: the first 12 hex characters of the key's SHA-256
// (48 bits), the beginning of the api_key_sha256 the practices file holds
// for it. Stable across restarts and reloads; reveals nothing of the key.
std::string KeyId(const Sha256Digest& api_key_sha256);

// Why entries were not written, as the metric's `reason` label says it.
inline constexpr char kDropQueueFull[] = "queue_full";
inline constexpr char kDropWriteFailed[] = "write_failed";
inline constexpr char kDropRefusalLimit[] = "refusal_limit";
inline constexpr char kDropUnattributed[] = "unattributed";

// Where the recorder reports what it wrote and dropped (the server's
// Prometheus counters). Called from any thread; must not block.
class AuditMetrics {
 public:
  virtual ~AuditMetrics() = default;
  virtual void Written(int64_t entries) = 0;
  virtual void Dropped(absl::string_view reason, int64_t entries) = 0;
};

// What the server knows of one call when it ends.
struct CallRecord {
  // The entry as the server sees it: at (the call's start), practice_id
  // (the practice the call named; refused calls are recorded only for a
  // practice the server serves: the server checks, see CountUnattributed),
  // rpc, session and question ids, generator, model, tokens, cost, status
  // and duration. The recorder fills id, key_id, question and
  // question_sha256, and clears what a refused caller chose.
  AuditEntry entry;
  // The SHA-256 of the key that was accepted; nullopt when the call was
  // refused (UNAUTHENTICATED, PERMISSION_DENIED) or never got that far.
  std::optional<Sha256Digest> key_sha256;
  // Ask: the question as the client sent it; empty for other calls.
  std::string question;
};

class AuditRecorder {
 public:
  struct Options {
    QuestionMode questions = QuestionMode::kHash;
    // Entries waiting for the writer; past it, new ones are dropped. An
    // entry is at most a few KB (a question's text is capped), so 10,000
    // bound the queue to a few tens of MB in the worst case.
    size_t max_queued = 10000;
    // Entries appended in one transaction.
    size_t max_batch = 500;
    // Entries older than this are purged by PurgeExpired; zero keeps them
    // forever.
    absl::Duration retention = absl::Hours(24 * 400);
    // Refused calls recorded for one practice: a token bucket refilled at
    // this many a minute, holding at most refusal_burst. The refusals past
    // it are counted in the next one recorded (suppressed_refusals), so an
    // unauthenticated caller cannot flood a practice's trail or the store.
    int refusals_per_minute = 60;
    int refusal_burst = 60;
    // A write failure is logged at most this often (with the count since).
    absl::Duration failure_log_interval = absl::Minutes(1);
  };

  // Starts the writer thread. kInvalidArgument for a zero max_queued or
  // max_batch, a negative retention, or refusal limits below 1. `store`,
  // `clock` and `metrics` (may be null) must outlive the recorder.
  static absl::StatusOr<std::unique_ptr<AuditRecorder>> Create(Options options, AuditStore& store,
                                                               const Clock& clock,
                                                               AuditMetrics* metrics = nullptr);
  // Writes what is queued (each batch waits on the store at most as long
  // as Append does), then stops the writer.
  ~AuditRecorder();
  AuditRecorder(const AuditRecorder&) = delete;
  AuditRecorder& operator=(const AuditRecorder&) = delete;

  // Queues the entry for `call`. Thread-safe; never blocks on the store and
  // never fails: a full queue or a refusal past the limit drops the entry
  // (counted). Client-supplied text (session id, question) is capped; the
  // question's hash is of its whole text.
  void Record(const CallRecord& call);

  // A call that names no practice this server serves (or a malformed id)
  // is not recorded: nobody's trail would show it. Counted only.
  void CountUnattributed();

  // Waits until every entry recorded before the call has been written or
  // dropped; false if that took longer than `timeout`.
  bool Flush(absl::Duration timeout);

  // Deletes entries older than the retention (clock.Now() - retention);
  // nothing when retention is zero. Returns how many were deleted.
  absl::StatusOr<int64_t> PurgeExpired();

  struct Stats {
    int64_t written = 0;
    int64_t dropped_queue_full = 0;
    int64_t dropped_write_failed = 0;
    int64_t dropped_refusal_limit = 0;
    int64_t unattributed = 0;
    // Write failures logged (rate-limited) and batches appended.
    int64_t failures_logged = 0;
    int64_t batches = 0;
  };
  Stats stats() const;

  const Options& options() const { return options_; }

 private:
  AuditRecorder(Options options, AuditStore& store, const Clock& clock, AuditMetrics* metrics);

  AuditEntry ToEntry(const CallRecord& call) const;
  // Whether a refusal for `practice_id` may be recorded now; sets
  // `suppressed` to the refusals dropped since the last one recorded.
  bool TakeRefusalToken(const std::string& practice_id, int64_t& suppressed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriterLoop();
  // absl::Condition predicates, called with mu_ held.
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool SettledUpToTarget() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnWriteFailed(const absl::Status& status, int64_t entries);
  void CountDropped(absl::string_view reason, int64_t entries);

  const Options options_;
  AuditStore& store_;
  const Clock& clock_;
  AuditMetrics* const metrics_;

  mutable absl::Mutex mu_;
  std::deque<AuditEntry> queue_ ABSL_GUARDED_BY(mu_);
  // Entries queued since the start, and those of them written or lost:
  // Flush waits for settled_ to reach what enqueued_ was when it began.
  int64_t enqueued_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t settled_ ABSL_GUARDED_BY(mu_) = 0;
  // The highest enqueued_ a Flush in progress waits for (only grows, so
  // concurrent Flushes at worst wait for a little more than they need).
  int64_t flush_target_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  struct RefusalBucket {
    double tokens = 0;
    absl::Time refilled_at;
    int64_t suppressed = 0;
  };
  std::map<std::string, RefusalBucket> refusals_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
  // Write failures since the last one logged, and when that was.
  int64_t unlogged_failures_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<absl::Time> last_failure_log_ ABSL_GUARDED_BY(mu_);

  std::thread writer_;
};

}  // namespace vet::audit

#endif  // VET_CORE_AUDIT_AUDIT_RECORDER_H_
