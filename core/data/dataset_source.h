// Where a question gets its practice's dataset version, and where an import
// announces a new one: the local folder on one machine
// (LocalDatasetSource), or a store the replicas share with a local cache
// (replicated_datasets.h).
#ifndef VET_CORE_DATA_DATASET_SOURCE_H_
#define VET_CORE_DATA_DATASET_SOURCE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/data/practice_data.h"

namespace vet::data {

// Thread-safe.
class DatasetSource {
 public:
  virtual ~DatasetSource() = default;

  // Holds the practice's current version for one question (DataLease).
  // `data_root` is the practice's managed folder, "" when the practices
  // file names a folder of its own (`data_dir`, then read as it is).
  // kNotFound when the practice has no data; kUnavailable when the shared
  // store cannot be reached and no copy here is known to be current.
  virtual absl::StatusOr<DataLease> Lease(const std::string& practice_id,
                                          const std::string& data_root,
                                          const std::string& data_dir) = 0;

  // Called by CommitImport (its `publish`) once version `version` of the
  // practice is written to `dir`, before it serves here. An error refuses
  // the import.
  virtual absl::Status Publish(const std::string& practice_id, const std::string& version,
                               const std::string& dir) = 0;
};

// One machine: the practice's folder is the data; nothing to share.
class LocalDatasetSource final : public DatasetSource {
 public:
  absl::StatusOr<DataLease> Lease(const std::string&, const std::string&,
                                  const std::string& data_dir) override {
    return DataLease::Acquire(data_dir);
  }
  absl::Status Publish(const std::string&, const std::string&, const std::string&) override {
    return absl::OkStatus();
  }
};

}  // namespace vet::data

#endif  // VET_CORE_DATA_DATASET_SOURCE_H_
