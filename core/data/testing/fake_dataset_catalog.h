// A DatasetCatalog that returns a fixed description, or a fixed error.
#ifndef VET_CORE_DATA_TESTING_FAKE_DATASET_CATALOG_H_
#define VET_CORE_DATA_TESTING_FAKE_DATASET_CATALOG_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/data/dataset_catalog.h"

namespace vet::data {

class FakeDatasetCatalog final : public DatasetCatalog {
 public:
  absl::Status error = absl::OkStatus();
  DatasetDescription description;
  std::vector<PersonalColumn> personal;
  // How many times Personal was called (questions run on several threads).
  std::atomic<int> personal_reads{0};

  absl::StatusOr<std::shared_ptr<const DatasetDescription>> Describe(const std::string&) override {
    if (!error.ok()) return error;
    return std::make_shared<const DatasetDescription>(description);
  }
  absl::StatusOr<std::shared_ptr<const std::vector<PersonalColumn>>> Personal(
      const std::string&) override {
    ++personal_reads;
    if (!error.ok()) return error;
    return std::make_shared<const std::vector<PersonalColumn>>(personal);
  }
};

}  // namespace vet::data

#endif  // VET_CORE_DATA_TESTING_FAKE_DATASET_CATALOG_H_
