// Where the pipeline and DescribeDataset get a practice's dataset
// description: described once, reused until the practice's files change.
#ifndef VET_CORE_DATA_DATASET_CATALOG_H_
#define VET_CORE_DATA_DATASET_CATALOG_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/data/dataset.h"
#include "core/data/personal_values.h"

namespace vet::data {

// Thread-safe.
class DatasetCatalog {
 public:
  virtual ~DatasetCatalog() = default;
  // kNotFound when the practice has no data; see DescribeDataset.
  virtual absl::StatusOr<std::shared_ptr<const DatasetDescription>> Describe(
      const std::string& data_dir) = 0;
  // The values of the dataset's personal columns (personal_values.h), read
  // once per version like the description; kNotFound when the practice has
  // no data.
  virtual absl::StatusOr<std::shared_ptr<const std::vector<PersonalColumn>>> Personal(
      const std::string& data_dir) = 0;
};

// Describes an imported (columnar) version once, from its manifest; a folder
// of CSV files again only when one of its files changed (size or
// modification time), so a question does not rescan the CSVs.
class CachingDatasetCatalog final : public DatasetCatalog {
 public:
  absl::StatusOr<std::shared_ptr<const DatasetDescription>> Describe(
      const std::string& data_dir) override;
  absl::StatusOr<std::shared_ptr<const std::vector<PersonalColumn>>> Personal(
      const std::string& data_dir) override;

 private:
  struct Entry {
    std::string fingerprint;
    std::shared_ptr<const DatasetDescription> description;
  };
  struct PersonalEntry {
    std::string fingerprint;
    std::shared_ptr<const std::vector<PersonalColumn>> values;
  };
  absl::Mutex mu_;
  std::map<std::string, Entry> cache_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, PersonalEntry> personal_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vet::data

#endif  // VET_CORE_DATA_DATASET_CATALOG_H_
