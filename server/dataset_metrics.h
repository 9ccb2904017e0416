// The replica's cache of shared practice data (core/data/
// replicated_datasets.h) as Prometheus families, read at each scrape:
// versions fetched and their bytes, damaged local copies found, evictions,
// and the bytes cached. At zero on a server without a shared store, so
// dashboards and alerts find the families everywhere.
#ifndef VET_SERVER_DATASET_METRICS_H_
#define VET_SERVER_DATASET_METRICS_H_

#include <vector>

#include "core/data/replicated_datasets.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace vet::server {

// Thread-safe. `cache` may be null (no shared store) and must outlive this
// collector's registration.
class DatasetCacheCollector final : public prometheus::Collectable {
 public:
  explicit DatasetCacheCollector(const data::ReplicatedDatasets* cache) : cache_(cache) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const data::ReplicatedDatasets* const cache_;
};

}  // namespace vet::server

#endif  // VET_SERVER_DATASET_METRICS_H_
