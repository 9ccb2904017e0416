// The load generator behind `vetctl bench`: one ClientReadReactor per Ask.
// Lifetimes:
// - the run holds each call (shared_ptr) so that its end can cancel the
//   calls in flight without holding the lock OnDone takes (a cancel may run
//   OnDone inline on the cancelling thread);
// - each call holds the run, because OnDone may still be on its way out of
//   the run's code when the thread that waited for the run has returned;
// - the channels belong to GenerateLoad's thread, which waits until every
//   call (and so every ClientContext, which holds its channel) is gone:
//   dropping a channel's last reference on one of gRPC's callback threads
//   would make gRPC join that very thread as it shuts its callback queue.
#include "clients/load_generator.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "clients/channel.h"
#include "clients/exit_codes.h"
#include "clients/format.h"
#include "vetanalytics/v1/analytics.grpc.pb.h"
#include "vetanalytics/v1/analytics.pb.h"

namespace vet::cli {
namespace {

namespace v1 = ::vetanalytics::v1;
// Latencies and the run's deadlines are read from a monotonic clock: a wall
// clock step in the middle of a run would corrupt them.
using Clock = std::chrono::steady_clock;

// How often the waiting thread looks at the canceller (Ctrl-C).
constexpr absl::Duration kCancelPoll = absl::Milliseconds(50);
// How long the end of the run waits for the cancelled calls to end.
constexpr absl::Duration kDrainTimeout = absl::Seconds(30);

absl::Duration Since(Clock::time_point start, Clock::time_point end) {
  return absl::FromChrono(end - start);
}

// The channels of a run, one per kBenchStreamsPerConnection streams.
class Connections {
 public:
  Connections(const std::string& addr,
              const std::shared_ptr<grpc::ChannelCredentials>& credentials,
              int streams) {
    const int count =
        (streams + kBenchStreamsPerConnection - 1) / kBenchStreamsPerConnection;
    for (int i = 0; i < count; ++i) {
      grpc::ChannelArguments args;
      // Without it, channels to the same address share one connection.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      channels_.push_back(grpc::CreateCustomChannel(addr, credentials, args));
      stubs_.push_back(v1::AnalyticsService::NewStub(channels_.back()));
    }
  }

  // False if a connection fails or is not made within kBenchConnectTimeout.
  bool Connect() {
    const auto deadline = std::chrono::system_clock::now() +
                          absl::ToChronoMilliseconds(kBenchConnectTimeout);
    for (const auto& channel : channels_) {
      for (;;) {
        const grpc_connectivity_state state =
            channel->GetState(/*try_to_connect=*/true);
        if (state == GRPC_CHANNEL_READY) break;
        // Refused: no point in waiting out the timeout.
        if (state == GRPC_CHANNEL_TRANSIENT_FAILURE ||
            state == GRPC_CHANNEL_SHUTDOWN ||
            !channel->WaitForStateChange(state, deadline)) {
          return false;
        }
      }
    }
    return true;
  }

  // The stub of `stream`'s connection.
  v1::AnalyticsService::Stub& stub(int stream) const {
    return *stubs_[static_cast<size_t>(stream) % stubs_.size()];
  }

 private:
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<v1::AnalyticsService::Stub>> stubs_;
};

class LoadGenerator : public std::enable_shared_from_this<LoadGenerator> {
 public:
  // `connections` must outlive Run().
  LoadGenerator(Invocation inv, BenchPlan plan, const Connections& connections)
      : inv_(std::move(inv)),
        plan_(std::move(plan)),
        connections_(connections),
        recorder_(plan_.targets) {}

  // Returns once every call it started is gone.
  BenchReport Run(CallCanceller& canceller) {
    const Clock::time_point begin = Clock::now();
    measure_start_ = begin + absl::ToChronoNanoseconds(inv_.bench.warmup);
    end_ = measure_start_ + absl::ToChronoNanoseconds(inv_.bench.duration);
    for (int stream = 0; stream < inv_.bench.streams; ++stream) {
      StartCall(stream);
    }

    bool interrupted = false;
    {
      absl::MutexLock lock(&mu_);
      const auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return max_questions_reached();
      };
      while (!done()) {
        const Clock::time_point now = Clock::now();
        if (now >= end_) break;
        if (canceller.cancelled()) {
          interrupted = true;
          break;
        }
        mu_.AwaitWithTimeout(absl::Condition(&done),
                             std::min(kCancelPoll, Since(now, end_)));
      }
      stopping_ = true;
      stopped_at_ = Clock::now();
    }
    CancelInFlight();

    BenchReport report;
    report.addr = inv_.addr;
    report.streams = inv_.bench.streams;
    report.duration = inv_.bench.duration;
    report.warmup = inv_.bench.warmup;
    report.max_questions = inv_.bench.max_questions;
    report.distinct_questions = plan_.questions.size();
    report.interrupted = interrupted;
    absl::Duration measured;
    {
      absl::MutexLock lock(&mu_);
      report.cancelled_at_end = cancelled_at_end_;
      // With max_questions, the run lasted until its last counted call.
      const Clock::time_point until =
          inv_.bench.max_questions > 0 && last_counted_.has_value()
              ? *last_counted_
              : std::min(stopped_at_, end_);
      measured = std::max(absl::ZeroDuration(), Since(measure_start_, until));
    }
    return recorder_.Report(std::move(report), measured);
  }

 private:
  class AskCall;

  bool max_questions_reached() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return inv_.bench.max_questions > 0 &&
           counted_ended_ >= inv_.bench.max_questions;
  }

  // Starts the next question on `stream`, unless the run is ending.
  void StartCall(int stream);
  // Called by each call's OnDone, on a gRPC thread: records the call and
  // starts the stream's next one. Returns the run's reference to `call`,
  // for OnDone to drop last.
  std::shared_ptr<AskCall> Finished(AskCall& call, const grpc::Status& status,
                                    Clock::time_point ended);

  // Cancels every call in flight and waits until every call is gone. The
  // calls are kept alive by the copies taken here, so they can be cancelled
  // outside the lock.
  void CancelInFlight();
  // Called by each call's destructor, once its ClientContext is gone.
  void CallGone();

  const Invocation inv_;
  const BenchPlan plan_;
  const Connections& connections_;
  BenchRecorder recorder_;
  // Set before the first call starts; read-only afterwards.
  Clock::time_point measure_start_;
  Clock::time_point end_;

  absl::Mutex mu_;
  std::map<const AskCall*, std::shared_ptr<AskCall>> in_flight_
      ABSL_GUARDED_BY(mu_);
  // Calls not yet destroyed: in flight, or on their way out of OnDone.
  int64_t alive_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Clock::time_point stopped_at_ ABSL_GUARDED_BY(mu_);
  // Questions started, for the round-robin over the mix.
  int64_t started_ ABSL_GUARDED_BY(mu_) = 0;
  // With max_questions: calls started after the warm-up, and those ended.
  int64_t counted_started_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t counted_ended_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<Clock::time_point> last_counted_ ABSL_GUARDED_BY(mu_);
  int64_t cancelled_at_end_ ABSL_GUARDED_BY(mu_) = 0;
};

class LoadGenerator::AskCall final
    : public grpc::ClientReadReactor<v1::AskEvent> {
 public:
  AskCall(std::shared_ptr<LoadGenerator> load, int stream, size_t target,
          bool counted, v1::AskRequest request, const std::string& api_key,
          absl::Duration timeout)
      : load_(std::move(load)),
        stream_(stream),
        target_(target),
        counted_(counted),
        request_(std::move(request)) {
    context_->set_deadline(std::chrono::system_clock::now() +
                           absl::ToChronoMilliseconds(timeout));
    if (!api_key.empty()) context_->AddMetadata("x-api-key", api_key);
  }

  ~AskCall() override {
    context_.reset();  // It holds the channel; see the top of the file.
    load_->CallGone();
  }

  void Start(v1::AnalyticsService::Stub& stub) {
    start_ = Clock::now();
    stub.async()->Ask(context_.get(), &request_, this);
    StartRead(&event_);
    StartCall();
  }

  // Safe before Start: gRPC cancels the call as it starts.
  void Cancel() { context_->TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // The stream is over; OnDone follows.
    if (!first_event_.has_value()) first_event_ = Since(start_, Clock::now());
    StartRead(&event_);
  }

  void OnDone(const grpc::Status& status) override {
    // Destroyed in reverse order: this call (its last reference may be
    // `self`), then the run (whose last reference may be `load`).
    const std::shared_ptr<LoadGenerator> load = load_;
    const std::shared_ptr<AskCall> self =
        load->Finished(*this, status, Clock::now());
  }

  int stream() const { return stream_; }
  size_t target() const { return target_; }
  bool counted() const { return counted_; }
  Clock::time_point start() const { return start_; }
  std::optional<absl::Duration> first_event() const { return first_event_; }

 private:
  const std::shared_ptr<LoadGenerator> load_;
  const int stream_;
  const size_t target_;
  const bool counted_;
  std::unique_ptr<grpc::ClientContext> context_ =
      std::make_unique<grpc::ClientContext>();
  const v1::AskRequest request_;
  v1::AskEvent event_;
  Clock::time_point start_;
  std::optional<absl::Duration> first_event_;
};

void LoadGenerator::StartCall(int stream) {
  const size_t target = static_cast<size_t>(stream) % plan_.targets.size();
  std::shared_ptr<AskCall> call;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    const bool max_mode = inv_.bench.max_questions > 0;
    const bool counted = max_mode && Clock::now() >= measure_start_;
    if (counted && counted_started_ >= inv_.bench.max_questions) return;
    if (counted) ++counted_started_;
    v1::AskRequest request;
    request.set_practice_id(plan_.targets[target].practice);
    request.set_question(plan_.questions[static_cast<size_t>(started_++) %
                                         plan_.questions.size()]);
    request.set_as_of_date(inv_.as_of);
    call = std::make_shared<AskCall>(
        shared_from_this(), stream, target, counted, std::move(request),
        plan_.targets[target].api_key, inv_.timeout);
    in_flight_.emplace(call.get(), call);
    ++alive_;
  }
  call->Start(connections_.stub(stream));
}

std::shared_ptr<LoadGenerator::AskCall> LoadGenerator::Finished(
    AskCall& call, const grpc::Status& status, Clock::time_point ended) {
  std::shared_ptr<AskCall> self;
  bool next = false;
  {
    absl::MutexLock lock(&mu_);
    const auto it = in_flight_.find(&call);
    if (it != in_flight_.end()) {
      self = std::move(it->second);
      in_flight_.erase(it);
    }
    const bool max_mode = inv_.bench.max_questions > 0;
    const bool in_time = ended <= end_ && !(stopping_ && ended > stopped_at_);
    const bool counts = max_mode ? call.counted() && in_time
                                 : ended >= measure_start_ && in_time;
    if (counts) {
      BenchCall record;
      record.target = call.target();
      record.code = status.error_code();
      record.message = status.error_message();
      record.latency = Since(call.start(), ended);
      record.first_event = call.first_event();
      recorder_.Record(std::move(record));
      if (call.counted()) {
        ++counted_ended_;
        last_counted_ = ended;
      }
    } else if (stopping_) {
      ++cancelled_at_end_;
    }
    next = !stopping_;
  }
  if (next) StartCall(call.stream());
  return self;
}

void LoadGenerator::CancelInFlight() {
  std::vector<std::shared_ptr<AskCall>> calls;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [key, call] : in_flight_) calls.push_back(call);
  }
  for (const auto& call : calls) call->Cancel();
  calls.clear();
  absl::MutexLock lock(&mu_);
  const auto gone = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return alive_ == 0;
  };
  mu_.AwaitWithTimeout(absl::Condition(&gone), kDrainTimeout);
}

void LoadGenerator::CallGone() {
  absl::MutexLock lock(&mu_);
  --alive_;
}

}  // namespace

absl::StatusOr<BenchReport> GenerateLoad(const Invocation& inv,
                                         const BenchPlan& plan,
                                         CallCanceller& canceller) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      ChannelCredentialsFor(inv.tls);
  if (!credentials.ok()) return credentials.status();
  Connections connections(inv.addr, *credentials, inv.bench.streams);
  if (!connections.Connect()) {
    // The channel's state says only that it failed, not why: over TLS, name
    // the likely causes.
    return absl::UnavailableError(absl::StrCat(
        "cannot reach the server at ", inv.addr,
        inv.tls.enabled
            ? " over TLS: is vet-analytics-server running with TLS, and is its "
              "certificate trusted (--ca_cert)?"
            : ": is vet-analytics-server running?"));
  }
  return std::make_shared<LoadGenerator>(inv, plan, connections)
      ->Run(canceller);
}

int RunBench(const Invocation& inv, const Console& console,
             CallCanceller& canceller) {
  const bool err_color = inv.color_allowed && console.err_is_terminal;
  absl::StatusOr<BenchPlan> plan = LoadBenchPlan(inv.bench);
  if (!plan.ok()) {
    console.err << FormatUsageError(plan.status().message(), inv.json,
                                    err_color);
    console.err.flush();
    return kExitUsage;
  }
  absl::StatusOr<BenchReport> report = GenerateLoad(inv, *plan, canceller);
  if (report.status().code() == absl::StatusCode::kInvalidArgument) {
    // A TLS file that cannot be read: bad usage, as for the plan's files.
    console.err << FormatUsageError(report.status().message(), inv.json,
                                    err_color);
    console.err.flush();
    return kExitUsage;
  }
  if (!report.ok()) {
    // absl and gRPC share the numeric codes.
    const auto code = static_cast<grpc::StatusCode>(report.status().code());
    console.err << FormatError(StatusCodeName(code), report.status().message(),
                               inv.json, err_color);
    console.err.flush();
    return ExitCodeFor(code);
  }
  console.out << (inv.json ? BenchReportJson(*report)
                           : FormatBenchReport(*report));
  console.out.flush();
  return BenchExitCode(*report);
}

}  // namespace vet::cli
