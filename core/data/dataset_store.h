// Where replicas share practice data: imported dataset versions (the
// columnar folders practice_data.h writes) and each practice's current
// version, in a store every replica reaches (PostgreSQL). A replica keeps a
// local copy of the versions it serves (replicated_datasets.h); the store
// is the one copy that decides.
#ifndef VET_CORE_DATA_DATASET_STORE_H_
#define VET_CORE_DATA_DATASET_STORE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace vet::data {

// One file of a stored version: its path under the version folder
// ("manifest.json", "clients/first_name.npy"), size and SHA-256 (hex).
struct StoredFile {
  std::string path;
  int64_t size = 0;
  std::string sha256;
};

// The files under a version folder, sorted by path, with their digests
// (every regular file; nothing else may be in a version folder).
absl::StatusOr<std::vector<StoredFile>> ListVersionFiles(const std::string& dir);

// kDataLoss naming the first file of `files` that is missing under `dir`,
// or whose size or SHA-256 differs; OK when every one matches.
absl::Status VerifyVersionFiles(const std::string& dir, const std::vector<StoredFile>& files);

// Thread-safe, except WaitForChanges (one thread).
class DatasetStore {
 public:
  virtual ~DatasetStore() = default;

  // Stores the version folder `dir` of `practice` unless the store already
  // has that version, makes it the practice's current version and tells the
  // other replicas (WaitForChanges). Versions beyond the newest
  // `keep_versions` of the practice are removed. kUnavailable when the
  // store cannot be reached.
  virtual absl::Status Publish(const std::string& practice, const std::string& version,
                               const std::string& dir, int keep_versions) = 0;

  // The practice's current version; "" when none was ever published.
  virtual absl::StatusOr<std::string> Current(const std::string& practice) = 0;
  // Every practice's current version.
  virtual absl::StatusOr<std::map<std::string, std::string>> CurrentAll() = 0;

  // The files of a stored version. kNotFound when the store does not have
  // it (never published, or removed since).
  virtual absl::StatusOr<std::vector<StoredFile>> Files(const std::string& practice,
                                                        const std::string& version) = 0;
  // Writes the version's files under the existing, empty folder `dest`,
  // checking each against its SHA-256 as it arrives. kNotFound as Files;
  // kDataLoss when a file's bytes do not match its digest. On error `dest`
  // holds a partial copy the caller removes.
  virtual absl::Status Fetch(const std::string& practice, const std::string& version,
                             const std::string& dest) = 0;

  // Blocks up to `timeout` for news of published versions; returns the
  // practices announced (possibly none, or some twice). Announcements can
  // be lost (a dropped connection): callers also poll CurrentAll().
  virtual absl::StatusOr<std::vector<std::string>> WaitForChanges(absl::Duration timeout) = 0;
};

}  // namespace vet::data

#endif  // VET_CORE_DATA_DATASET_STORE_H_
