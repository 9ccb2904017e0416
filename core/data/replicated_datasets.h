// DatasetSource for replicas (VET_DATABASE_URL): the shared DatasetStore
// decides each practice's current version; this replica keeps a verified
// local copy of the versions it serves, in the practice's managed folder
// (`<root>/versions/<version>`, `<root>/data` pointing at the current one,
// as practice_data.h lays it out), so questions read local files.
//
// - A question (Lease) asks for the version the store names current. A
//   version not here yet is fetched first, into a private folder, checked
//   file by file against the store's SHA-256s, then renamed into place and
//   swapped in: a question reads a whole version or waits, never a part.
// - A copy found here that this process has not checked yet (one left by an
//   earlier run) is checked against the store's digests before it serves;
//   a damaged one is removed and fetched again.
// - New versions are heard of by the store's announcements (LISTEN/NOTIFY),
//   with polling every `poll_interval` in case one was lost; a practice
//   this replica has served is fetched ahead, before its next question.
// - An import here is written locally and published (Publish) before it
//   serves here.
// - Versions beyond `cache_bytes` in all are removed, least recently used
//   first, never one a question is reading.
#ifndef VET_CORE_DATA_REPLICATED_DATASETS_H_
#define VET_CORE_DATA_REPLICATED_DATASETS_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/data/dataset_source.h"
#include "core/data/dataset_store.h"

namespace vet::data {

struct ReplicatedDatasetsOptions {
  // The folder holding the practices' managed folders
  // (<state_dir>/practices): where the cache is counted and evicted.
  std::string practices_dir;
  // Bytes of dataset versions kept here, all practices together.
  int64_t cache_bytes = int64_t{10} << 30;
  // How often every practice's current version is read from the store in
  // case an announcement was lost.
  absl::Duration poll_interval = absl::Seconds(10);
  // Versions of a practice the store keeps.
  int keep_versions = 3;
};

// Thread-safe. Runs one watcher thread from construction to destruction.
class ReplicatedDatasets final : public DatasetSource {
 public:
  // `store` must outlive this object.
  ReplicatedDatasets(DatasetStore* store, ReplicatedDatasetsOptions options);
  ~ReplicatedDatasets() override;

  // kUnavailable when the store cannot be reached and the practice's
  // current version was never learned; kDataLoss when a fetched copy does
  // not match its digests (nothing serves it).
  absl::StatusOr<DataLease> Lease(const std::string& practice_id, const std::string& data_root,
                                  const std::string& data_dir) override;
  absl::Status Publish(const std::string& practice_id, const std::string& version,
                       const std::string& dir) override;

  struct Stats {
    int64_t fetched = 0;        // versions fetched from the store
    int64_t fetched_bytes = 0;  // their bytes
    int64_t damaged = 0;        // local copies that failed their check
    int64_t evicted = 0;        // versions removed to stay under cache_bytes
    int64_t cached_bytes = 0;   // versions here, as of the last count
  };
  Stats stats() const;

 private:
  struct Practice {
    std::string root;
    absl::Mutex fetch_mu;  // one fetch or swap of this practice at a time
  };
  // Makes `version` present, checked and current at `root`.
  absl::Status Ensure(const std::string& practice_id, const std::string& root,
                      const std::string& version);
  absl::Status EnsureLocked(const std::string& practice_id, const std::string& root,
                            const std::string& version);
  void Evict(const std::string& keep_dir);
  void Watch();
  // The practice's entry, made on first use.
  Practice& PracticeOf(const std::string& practice_id, const std::string& root)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Learned(const std::map<std::string, std::string>& current);

  DatasetStore* const store_;
  const ReplicatedDatasetsOptions options_;

  mutable absl::Mutex mu_;
  // What the store names current, as last heard.
  std::map<std::string, std::string> known_ ABSL_GUARDED_BY(mu_);
  // Practices served here (fetched ahead when they change).
  std::map<std::string, std::unique_ptr<Practice>> practices_ ABSL_GUARDED_BY(mu_);
  // "<practice>/<version>" checked (or written) by this process and
  // `<root>/data` pointing at it.
  std::map<std::string, std::string> serving_ ABSL_GUARDED_BY(mu_);
  // Version folder -> last question that leased it, for eviction.
  std::map<std::string, absl::Time> last_used_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);

  std::atomic<bool> stop_{false};
  std::thread watcher_;
};

}  // namespace vet::data

#endif  // VET_CORE_DATA_REPLICATED_DATASETS_H_
