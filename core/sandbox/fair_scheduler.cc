// Implementation of FairScheduler: per-practice queues under one mutex, a
// runner thread per slot, and one thread that completes cancelled requests.
#include "core/sandbox/fair_scheduler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/common/await.h"
#include "core/common/error_details.h"

namespace vet::sandbox {
namespace {

// Whether the code ran (to its end or to a limit), so that the run's time
// says how long executions take; not for refusals or cancels.
bool CodeRan(const absl::StatusOr<ExecutionResult>& result) {
  return result.ok() || result.status().code() == absl::StatusCode::kDeadlineExceeded ||
         result.status().code() == absl::StatusCode::kResourceExhausted;
}

}  // namespace

struct FairScheduler::Pending {
  enum class State {
    kNew,        // not queued yet (ExecuteAsync is still admitting it)
    kCancelled,  // cancelled before it was queued
    kWaiting,
    kRunning,
    kFinished,  // taken out of the queue by a cancel or by shutdown
  };

  Pending(const ExecutionRequest& request, OutputSink& output, CancellationToken& cancel,
          ExecuteCallback done)
      : request(request), output(output), cancel(cancel), done(std::move(done)) {}

  const ExecutionRequest request;
  OutputSink& output;
  CancellationToken& cancel;
  ExecuteCallback done;
  // Set before the request is queued; read by whoever finishes it.
  CancellationToken::CallbackId cancel_id = -1;
  // Guarded by the scheduler's mu_.
  State state = State::kNew;
  int64_t arrival = 0;
  absl::Time enqueued;
};

absl::StatusOr<std::unique_ptr<FairScheduler>> FairScheduler::Create(
    Options options, std::unique_ptr<Executor> inner, const Clock& clock) {
  if (inner == nullptr) {
    return absl::InvalidArgumentError("FairScheduler: no inner executor");
  }
  if (options.max_concurrent < 1) {
    return absl::InvalidArgumentError("sandbox scheduler: max_concurrent must be at least 1");
  }
  if (options.max_running_per_practice < 1 ||
      options.max_running_per_practice > options.max_concurrent) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sandbox scheduler: max_running_per_practice (", options.max_running_per_practice,
        ") must be between 1 and max_concurrent (", options.max_concurrent, ")"));
  }
  if (options.max_queued_per_practice < 1 || options.max_queued < 1) {
    return absl::InvalidArgumentError(
        "sandbox scheduler: max_queued_per_practice and max_queued must be at "
        "least 1");
  }
  if (options.initial_run_estimate <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("sandbox scheduler: initial_run_estimate must be positive");
  }
  return std::unique_ptr<FairScheduler>(
      new FairScheduler(std::move(options), std::move(inner), clock));
}

FairScheduler::FairScheduler(Options options, std::unique_ptr<Executor> inner, const Clock& clock)
    : options_(std::move(options)),
      inner_(std::move(inner)),
      clock_(clock),
      run_estimate_(options_.initial_run_estimate) {
  runners_.reserve(static_cast<size_t>(options_.max_concurrent));
  for (int i = 0; i < options_.max_concurrent; ++i) {
    runners_.emplace_back([this] { RunLoop(); });
  }
  canceller_ = std::thread([this] { CancelLoop(); });
}

FairScheduler::~FairScheduler() {
  std::vector<std::shared_ptr<Pending>> abandoned;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (auto& [id, practice] : practices_) {
      for (std::shared_ptr<Pending>& pending : practice.waiting) {
        pending->state = Pending::State::kFinished;
        abandoned.push_back(std::move(pending));
      }
      practice.waiting.clear();
    }
    waiting_ = 0;
    work_.SignalAll();
  }
  // In arrival order, for callers that watch the order of completions.
  std::sort(abandoned.begin(), abandoned.end(),
            [](const auto& a, const auto& b) { return a->arrival < b->arrival; });
  for (const std::shared_ptr<Pending>& pending : abandoned) {
    Finish(*pending,
           absl::UnavailableError("the sandbox is shutting down; the question did not run"));
  }
  for (std::thread& runner : runners_) runner.join();
  canceller_.join();
}

absl::StatusOr<ExecutionResult> FairScheduler::Execute(const ExecutionRequest& request,
                                                       OutputSink& output,
                                                       CancellationToken& cancel) {
  return AwaitCallback<absl::StatusOr<ExecutionResult>>(
      [&](ExecuteCallback done) { ExecuteAsync(request, output, cancel, std::move(done)); });
}

void FairScheduler::ExecuteAsync(const ExecutionRequest& request, OutputSink& output,
                                 CancellationToken& cancel, ExecuteCallback done) {
  auto pending = std::make_shared<Pending>(request, output, cancel, std::move(done));
  // Registered before the request is queued, so a runner that takes it
  // finds its id set. If the token is already cancelled the callback runs
  // now, on this thread (mu_ is not held), and marks the request kCancelled.
  pending->cancel_id = cancel.Register([this, pending] { OnCancelled(pending); });
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    refused = AdmitLocked(pending);
  }
  if (!refused.ok()) Finish(*pending, std::move(refused));
}

absl::Status FairScheduler::AdmitLocked(const std::shared_ptr<Pending>& pending) {
  if (pending->state == Pending::State::kCancelled) {
    return absl::CancelledError("the question was cancelled before the sandbox ran");
  }
  if (stopping_) {
    return absl::UnavailableError("the sandbox is shutting down; the question did not run");
  }
  const std::string& id = pending->request.practice_id;
  auto found = practices_.find(id);
  const int practice_waiting =
      found == practices_.end() ? 0 : static_cast<int>(found->second.waiting.size());
  if (practice_waiting >= options_.max_queued_per_practice) {
    const int64_t retry = RetrySecondsLocked(practice_waiting, options_.max_running_per_practice);
    return WithRetryDelay(
        WithReason(absl::ResourceExhaustedError(absl::StrCat(
                       "practice '", id, "' has ", practice_waiting,
                       " executions waiting (the limit); retry in about ", retry, " s")),
                   reason::kSandboxBusy, {{"practice_id", id}}),
        absl::Seconds(retry));
  }
  if (waiting_ >= options_.max_queued) {
    const int64_t retry = RetrySecondsLocked(waiting_, options_.max_concurrent);
    return WithRetryDelay(
        WithReason(absl::UnavailableError(absl::StrCat(
                       "the sandbox is busy: ", waiting_,
                       " executions are waiting (the limit); retry in about ", retry, " s")),
                   reason::kSandboxBusy),
        absl::Seconds(retry));
  }
  pending->state = Pending::State::kWaiting;
  pending->arrival = ++arrivals_;
  pending->enqueued = clock_.Now();
  practices_[id].waiting.push_back(pending);
  ++waiting_;
  work_.SignalAll();
  return absl::OkStatus();
}

std::shared_ptr<FairScheduler::Pending> FairScheduler::TakeNextLocked() {
  if (running_ >= options_.max_concurrent) return nullptr;
  // The practice whose turn is oldest, among those under their cap; on a
  // tie (practices new since they were last idle) the one whose request
  // came first. A linear scan: only practices with work are in the map.
  Practice* next = nullptr;
  for (auto& [id, practice] : practices_) {
    if (practice.waiting.empty() || practice.running >= options_.max_running_per_practice) {
      continue;
    }
    if (next == nullptr || practice.last_turn < next->last_turn ||
        (practice.last_turn == next->last_turn &&
         practice.waiting.front()->arrival < next->waiting.front()->arrival)) {
      next = &practice;
    }
  }
  if (next == nullptr) return nullptr;
  std::shared_ptr<Pending> pending = std::move(next->waiting.front());
  next->waiting.pop_front();
  next->last_turn = ++turns_;
  ++next->running;
  ++running_;
  --waiting_;
  pending->state = Pending::State::kRunning;
  return pending;
}

void FairScheduler::OnCancelled(const std::shared_ptr<Pending>& pending) {
  absl::MutexLock lock(&mu_);
  switch (pending->state) {
    case Pending::State::kNew:
      pending->state = Pending::State::kCancelled;  // AdmitLocked refuses it
      return;
    case Pending::State::kWaiting: {
      const std::string& id = pending->request.practice_id;
      std::deque<std::shared_ptr<Pending>>& queue = practices_[id].waiting;
      queue.erase(std::find(queue.begin(), queue.end(), pending));
      --waiting_;
      ForgetIfIdleLocked(id);
      pending->state = Pending::State::kFinished;
      cancelled_.push_back(pending);
      return;
    }
    default:
      return;  // running (the inner executor watches the token) or finished
  }
}

void FairScheduler::ForgetIfIdleLocked(const std::string& practice_id) {
  auto found = practices_.find(practice_id);
  if (found != practices_.end() && found->second.running == 0 && found->second.waiting.empty()) {
    practices_.erase(found);
  }
}

int64_t FairScheduler::RetrySecondsLocked(int ahead, int lanes) const {
  const int64_t rounds = (static_cast<int64_t>(ahead) + lanes - 1) / lanes;
  const absl::Duration wait = run_estimate_ * rounds;
  return std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(wait, absl::Seconds(1))));
}

bool FairScheduler::HasCancelledOrStopping() const { return stopping_ || !cancelled_.empty(); }

void FairScheduler::Finish(Pending& pending, absl::StatusOr<ExecutionResult> result) {
  // After Unregister the callback is not running and will not run, so the
  // caller may destroy the token as soon as `done` has been called.
  if (pending.cancel_id >= 0) pending.cancel.Unregister(pending.cancel_id);
  ExecuteCallback done = std::move(pending.done);
  done(std::move(result));
}

void FairScheduler::RunLoop() {
  for (;;) {
    std::shared_ptr<Pending> pending;
    {
      absl::MutexLock lock(&mu_);
      while (!stopping_ && (pending = TakeNextLocked()) == nullptr) {
        work_.Wait(&mu_);
      }
      if (pending == nullptr) return;  // stopping, and nothing is waiting
    }
    // Not cancelled while waiting: from here on the inner executor watches
    // the token (a cancel kills the run at once).
    if (pending->cancel_id >= 0) {
      pending->cancel.Unregister(pending->cancel_id);
      pending->cancel_id = -1;
    }
    const absl::Time started = clock_.Now();
    absl::StatusOr<ExecutionResult> result =
        inner_->Execute(pending->request, pending->output, pending->cancel);
    const absl::Time ended = clock_.Now();
    // Plus any wait inside the inner executor itself.
    if (result.ok()) result->queued += started - pending->enqueued;
    {
      absl::MutexLock lock(&mu_);
      Practice& practice = practices_[pending->request.practice_id];
      --practice.running;
      --running_;
      ForgetIfIdleLocked(pending->request.practice_id);
      if (CodeRan(result)) {
        // A moving average; the first run replaces the initial guess.
        const absl::Duration took = ended - started;
        run_estimate_ = run_measured_ ? run_estimate_ * 0.8 + took * 0.2 : took;
        run_measured_ = true;
      }
      work_.SignalAll();
    }
    Finish(*pending, std::move(result));
  }
}

void FairScheduler::CancelLoop() {
  for (;;) {
    std::shared_ptr<Pending> pending;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &FairScheduler::HasCancelledOrStopping));
      if (cancelled_.empty()) return;  // stopping, and nothing to complete
      pending = std::move(cancelled_.front());
      cancelled_.pop_front();
    }
    Finish(*pending,
           absl::CancelledError("the question was cancelled while waiting for a sandbox slot"));
  }
}

int FairScheduler::running() const {
  absl::MutexLock lock(&mu_);
  return running_;
}

int FairScheduler::waiting() const {
  absl::MutexLock lock(&mu_);
  return waiting_;
}

std::map<std::string, FairScheduler::PracticeLoad> FairScheduler::practice_load() const {
  absl::MutexLock lock(&mu_);
  std::map<std::string, PracticeLoad> load;
  for (const auto& [id, practice] : practices_) {
    load[id] = PracticeLoad{practice.running, static_cast<int>(practice.waiting.size())};
  }
  return load;
}

}  // namespace vet::sandbox
