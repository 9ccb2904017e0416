// Metric families and their buckets. Question durations span ~50 ms (warm
// planner answers) to the 30 s sandbox limit, hence the bucket spread.
#include "server/metrics.h"

namespace vet::server {
namespace {
const prometheus::Histogram::BucketBoundaries kSecondsBuckets = {
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  questions_ = &prometheus::BuildCounter()
                    .Name("vet_questions_total")
                    .Help("Questions answered, by practice and final gRPC status")
                    .Register(*registry_);
  duration_ = &prometheus::BuildHistogram()
                   .Name("vet_question_duration_seconds")
                   .Help("Time from receiving a question to the end of its stream")
                   .Register(*registry_);
  first_event_ = &prometheus::BuildHistogram()
                      .Name("vet_question_first_event_seconds")
                      .Help("Time from receiving a question to its first event")
                      .Register(*registry_)
                      .Add({}, kSecondsBuckets);
  active_streams_ = &prometheus::BuildGauge()
                         .Name("vet_active_streams")
                         .Help("Ask streams in progress")
                         .Register(*registry_)
                         .Add({});
  queued_work_ = &prometheus::BuildGauge()
                      .Name("vet_worker_pool_pending")
                      .Help("Blocking tasks queued or running on the worker pool")
                      .Register(*registry_)
                      .Add({});
}

void Metrics::RecordQuestion(const std::string& practice_id, const std::string& status,
                             absl::Duration duration) {
  questions_->Add({{"practice", practice_id}, {"status", status}}).Increment();
  duration_->Add({{"practice", practice_id}}, kSecondsBuckets)
      .Observe(absl::ToDoubleSeconds(duration));
}

void Metrics::RecordFirstEvent(absl::Duration latency) {
  first_event_->Observe(absl::ToDoubleSeconds(latency));
}

}  // namespace vet::server
