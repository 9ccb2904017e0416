// The process metrics Prometheus' own client libraries export, which
// prometheus-cpp lacks: CPU time, resident and virtual memory, open and
// maximum file descriptors, start time. Read from /proc/self at each scrape
// (nothing runs in between). Linux only.
#ifndef VET_SERVER_PROCESS_METRICS_H_
#define VET_SERVER_PROCESS_METRICS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace vet::server {

// The fields of /proc/<pid>/stat this collector uses (proc(5)).
struct ProcStat {
  int64_t utime_ticks = 0;
  int64_t stime_ticks = 0;
  // Since boot, in clock ticks.
  int64_t start_ticks = 0;
  int64_t vsize_bytes = 0;
  int64_t rss_pages = 0;
};

// Parses the text of /proc/<pid>/stat. The command name (field 2) may hold
// spaces and parentheses: fields are counted from its last ')'.
// kInvalidArgument when the text does not have the fields.
absl::StatusOr<ProcStat> ParseProcStat(absl::string_view text);

// The "btime" line of /proc/stat: boot time, seconds since the epoch.
absl::StatusOr<int64_t> ParseBootTime(absl::string_view proc_stat);

// A family of one unlabelled series (a counter or a gauge), for collectors
// that read their values at scrape time.
prometheus::MetricFamily SingleValueFamily(const char* name, const char* help,
                                           prometheus::MetricType type, double value);

// Thread-safe (each Collect reads /proc afresh). A family whose source
// cannot be read is left out of that scrape.
class ProcessCollector final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace vet::server

#endif  // VET_SERVER_PROCESS_METRICS_H_
