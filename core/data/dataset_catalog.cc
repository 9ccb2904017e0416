// CachingDatasetCatalog: the fingerprint is each table file's size and
// modification time, cheap to read with stat(2) on every question.
#include "core/data/dataset_catalog.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "core/data/columnar_store.h"
#include "core/data/schema.h"

namespace vet::data {
namespace {

bool IsColumnar(const std::string& data_dir) {
  struct stat st;
  return ::stat(absl::StrCat(data_dir, "/manifest.json").c_str(), &st) == 0;
}

std::string Fingerprint(const std::string& data_dir) {
  // An imported version never changes once written: its path is enough.
  if (IsColumnar(data_dir)) return "columnar";
  std::string fp;
  for (const TableSpec& table : CanonicalSchema()) {
    struct stat st;
    std::string path = absl::StrCat(data_dir, "/", table.name, ".csv");
    if (::stat(path.c_str(), &st) != 0) {
      absl::StrAppend(&fp, table.name, ":missing;");
      continue;
    }
    absl::StrAppend(&fp, table.name, ":", st.st_size, ":", st.st_mtim.tv_sec, ".",
                    st.st_mtim.tv_nsec, ";");
  }
  return fp;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const DatasetDescription>> CachingDatasetCatalog::Describe(
    const std::string& data_dir) {
  std::string fp = Fingerprint(data_dir);
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(data_dir);
    if (it != cache_.end() && it->second.fingerprint == fp) return it->second.description;
  }
  // Described outside the lock: two first questions may both scan, which is
  // harmless, and a slow scan never blocks other practices.
  auto described =
      IsColumnar(data_dir) ? DescribeColumnarDataset(data_dir) : DescribeDataset(data_dir);
  if (!described.ok()) return described.status();
  auto shared = std::make_shared<const DatasetDescription>(*std::move(described));
  absl::MutexLock lock(&mu_);
  cache_[data_dir] = Entry{fp, shared};
  return shared;
}

absl::StatusOr<std::shared_ptr<const std::vector<PersonalColumn>>> CachingDatasetCatalog::Personal(
    const std::string& data_dir) {
  std::string fp = Fingerprint(data_dir);
  {
    absl::MutexLock lock(&mu_);
    auto it = personal_.find(data_dir);
    if (it != personal_.end() && it->second.fingerprint == fp) return it->second.values;
  }
  auto read = ReadPersonalValues(data_dir);
  if (!read.ok()) return read.status();
  auto shared = std::make_shared<const std::vector<PersonalColumn>>(*std::move(read));
  absl::MutexLock lock(&mu_);
  personal_[data_dir] = PersonalEntry{fp, shared};
  return shared;
}

}  // namespace vet::data
