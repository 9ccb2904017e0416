#include "server/dataset_metrics.h"

#include "server/process_metrics.h"

namespace vet::server {

std::vector<prometheus::MetricFamily> DatasetCacheCollector::Collect() const {
  using prometheus::MetricType;
  const data::ReplicatedDatasets::Stats stats =
      cache_ != nullptr ? cache_->stats() : data::ReplicatedDatasets::Stats();
  return {
      SingleValueFamily("vet_dataset_fetches_total",
                        "Practice dataset versions this replica fetched from the shared store.",
                        MetricType::Counter, static_cast<double>(stats.fetched)),
      SingleValueFamily("vet_dataset_fetched_bytes_total",
                        "Bytes of the dataset versions fetched from the shared store.",
                        MetricType::Counter, static_cast<double>(stats.fetched_bytes)),
      SingleValueFamily("vet_dataset_damaged_copies_total",
                        "Local copies of dataset versions that failed their SHA-256 check and "
                        "were fetched again.",
                        MetricType::Counter, static_cast<double>(stats.damaged)),
      SingleValueFamily("vet_dataset_evictions_total",
                        "Dataset versions removed from the local cache to stay under "
                        "--data_cache_mb.",
                        MetricType::Counter, static_cast<double>(stats.evicted)),
      SingleValueFamily("vet_dataset_cache_bytes",
                        "Bytes of shared dataset versions kept on this replica, as of the last "
                        "fetch.",
                        MetricType::Gauge, static_cast<double>(stats.cached_bytes)),
  };
}

}  // namespace vet::server
