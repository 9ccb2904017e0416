// A practice's data folder managed by the service: imports are staged,
// validated, written in the columnar form as an immutable version, and
// swapped in by replacing the `data` symlink atomically. Questions resolve
// the symlink once when they start, so each sees one version throughout.
//
//   <root>/data          -> versions/<version>   (the symlink questions read)
//   <root>/versions/<v>/  manifest.json, <table>/<column>.npy, ...
//   <root>/staging/<id>/  <table>.csv while an import uploads
#ifndef VET_CORE_DATA_PRACTICE_DATA_H_
#define VET_CORE_DATA_PRACTICE_DATA_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "core/common/unique_fd.h"
#include "core/data/import_validator.h"

namespace vet::data {

struct ImportLimits {
  // All tables together; beyond it the upload is refused.
  int64_t max_bytes = int64_t{1} << 30;
  // Old versions kept after a swap, for questions still reading them.
  int keep_versions = 3;
  // What validating one import may hold in memory
  // (ImportOptions::max_memory_bytes); past it the import is refused.
  int64_t max_memory_bytes = ImportOptions().max_memory_bytes;
};

// Receives one import's CSV bytes into a private staging folder, removed
// when this object is destroyed. Not thread-safe (one upload stream).
class ImportStaging {
 public:
  // `root` is the practice's managed folder (the parent of `data`).
  static absl::StatusOr<std::unique_ptr<ImportStaging>> Create(const std::string& root,
                                                               ImportLimits limits);
  ~ImportStaging();

  // Appends to `table`'s file. kInvalidArgument for an unknown table or a
  // table sent again after another one started; kResourceExhausted past
  // the size limit (the upload should stop).
  absl::Status Append(absl::string_view table, absl::string_view bytes);
  // Closes the files. kInvalidArgument naming tables that never arrived.
  absl::Status Finish();

  // table -> staged CSV path (after Finish).
  const std::map<std::string, std::string>& files() const { return files_; }
  int64_t bytes() const { return bytes_; }
  const std::string& root() const { return root_; }
  const ImportLimits& limits() const { return limits_; }

 private:
  ImportStaging(std::string root, std::string dir, ImportLimits limits)
      : root_(std::move(root)), dir_(std::move(dir)), limits_(limits) {}
  std::string root_;
  std::string dir_;
  ImportLimits limits_;
  std::map<std::string, std::string> files_;
  std::string current_table_;
  UniqueFd current_fd_;
  int64_t bytes_ = 0;
};

struct CommitOutcome {
  std::string version;
  bool unchanged = false;
  std::vector<std::pair<std::string, int64_t>> rows;  // schema order
  std::vector<std::string> warnings;
};

// Validates the staged files (see import_validator.h) and, only if they all
// pass, writes the new version and swaps `<root>/data` to it. Same content
// (and mapping) as the current version: nothing is written, `unchanged`.
// kInvalidArgument lists the first problems; kResourceExhausted when
// validating would hold more than the limits' max_memory_bytes;
// kFailedPrecondition when `<root>/data` exists but is not a symlink the
// service manages. A refused import leaves the current version serving.
// Memory: what validation holds (import_validator.h, at most
// max_memory_bytes), then, while the version is written, one column's copy
// (8 bytes a row) and a 1 MiB write buffer.
//
// `publish`, when set, is called with the version and its folder after the
// version is written (also when unchanged) and before it serves here
// (replicated_datasets.h shares it with the other replicas); its error
// refuses the import and leaves the current version serving.
using PublishVersion =
    std::function<absl::Status(const std::string& version, const std::string& dir)>;
absl::StatusOr<CommitOutcome> CommitImport(ImportStaging& staging, absl::string_view mapping_json,
                                           absl::CivilDay as_of,
                                           const PublishVersion& publish = nullptr);

// The practice's import lock (`<root>/.import.lock`, an exclusive flock):
// held by CommitImport, and by whoever else swaps `<root>/data`, so that
// checking the current version, writing one and swapping do not
// interleave, across threads and processes. Released on destruction.
class PracticeLock {
 public:
  static absl::StatusOr<PracticeLock> Acquire(const std::string& root);
  PracticeLock(PracticeLock&& other) noexcept = default;
  PracticeLock& operator=(PracticeLock&&) = delete;
  PracticeLock(const PracticeLock&) = delete;

 private:
  explicit PracticeLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // closing it releases the flock
};

// The version `<root>/data` points at; "" when there is none yet.
// kFailedPrecondition when `<root>/data` is a folder, not a managed link.
absl::StatusOr<std::string> CurrentDataVersion(const std::string& root);

// Points `<root>/data` at `<root>/versions/<version>` atomically (a reader
// resolving it sees the old or the new version). Hold the PracticeLock.
absl::Status SwapDataVersion(const std::string& root, const std::string& version);

// Removes what uploads interrupted by a crash left in `root` (staging
// folders, half-made links). Call at start-up, before any import begins.
void RemoveAbandonedUploads(const std::string& root);

// The version folder `data_dir` points at now (symlinks resolved), so a
// question reads one version throughout; `data_dir` itself when it is a
// plain folder. kNotFound when it does not exist.
absl::StatusOr<std::string> ResolveDataDir(const std::string& data_dir);

// A question's hold on the version it reads (a shared flock on the version
// folder): while held, pruning after an import leaves that version alone.
// Move-only; released on destruction.
class DataLease {
 public:
  // Resolves `data_dir` (see ResolveDataDir) and holds what it points at.
  static absl::StatusOr<DataLease> Acquire(const std::string& data_dir);
  DataLease(DataLease&& other) noexcept = default;
  DataLease& operator=(DataLease&&) = delete;
  DataLease(const DataLease&) = delete;

  const std::string& dir() const { return dir_; }

 private:
  DataLease(std::string dir, UniqueFd fd) : dir_(std::move(dir)), fd_(std::move(fd)) {}
  std::string dir_;
  UniqueFd fd_;  // closing it releases the shared flock
};

}  // namespace vet::data

#endif  // VET_CORE_DATA_PRACTICE_DATA_H_
