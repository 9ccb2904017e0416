// The service's Prometheus metric families, created once and handed to the
// components that record them. Names: vet_<what>_<unit>[_total]; labels by
// practice and status, never by session or question.
#ifndef VET_SERVER_METRICS_H_
#define VET_SERVER_METRICS_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace vet::server {

// Thread-safe (prometheus-cpp metrics are).
class Metrics {
 public:
  Metrics();

  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }

  // One finished question: its final gRPC status name ("OK", ...), how long it
  // took and how long until its first event.
  void RecordQuestion(const std::string& practice_id, const std::string& status,
                      absl::Duration duration);
  void RecordFirstEvent(absl::Duration latency);
  prometheus::Gauge& active_streams() { return *active_streams_; }
  prometheus::Gauge& queued_work() { return *queued_work_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* questions_;
  prometheus::Family<prometheus::Histogram>* duration_;
  prometheus::Histogram* first_event_;
  prometheus::Gauge* active_streams_;
  prometheus::Gauge* queued_work_;
};

}  // namespace vet::server

#endif  // VET_SERVER_METRICS_H_
