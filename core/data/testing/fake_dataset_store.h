// An in-memory DatasetStore for tests, with the failures a real one can
// have: a fetch that breaks half-way, bytes damaged in transit,
// announcements that never arrive.
#ifndef VET_CORE_DATA_TESTING_FAKE_DATASET_STORE_H_
#define VET_CORE_DATA_TESTING_FAKE_DATASET_STORE_H_

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/common/sha256.h"
#include "core/common/status_macros.h"
#include "core/data/dataset_store.h"

namespace vet::data::testing {

class FakeDatasetStore final : public DatasetStore {
 public:
  absl::Status Publish(const std::string& practice, const std::string& version,
                       const std::string& dir, int /*keep_versions*/) override {
    VET_ASSIGN_OR_RETURN(std::vector<StoredFile> files, ListVersionFiles(dir));
    Version v;
    for (const StoredFile& f : files) {
      std::ifstream in(std::filesystem::path(dir) / f.path, std::ios::binary);
      v.files.push_back(f);
      v.bytes[f.path] = std::string(std::istreambuf_iterator<char>(in), {});
    }
    absl::MutexLock lock(&mu_);
    if (unavailable_) return absl::UnavailableError("fake store is down");
    versions_[practice].emplace(version, std::move(v));
    if (current_[practice] != version) {
      current_[practice] = version;
      if (!drop_announcements_) announced_.push_back(practice);
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> Current(const std::string& practice) override {
    absl::MutexLock lock(&mu_);
    if (unavailable_) return absl::UnavailableError("fake store is down");
    auto it = current_.find(practice);
    return it == current_.end() ? std::string() : it->second;
  }
  absl::StatusOr<std::map<std::string, std::string>> CurrentAll() override {
    absl::MutexLock lock(&mu_);
    if (unavailable_) return absl::UnavailableError("fake store is down");
    return current_;
  }
  absl::StatusOr<std::vector<StoredFile>> Files(const std::string& practice,
                                                const std::string& version) override {
    absl::MutexLock lock(&mu_);
    VET_ASSIGN_OR_RETURN(const Version* v, Find(practice, version));
    return v->files;
  }
  absl::Status Fetch(const std::string& practice, const std::string& version,
                     const std::string& dest) override {
    absl::MutexLock lock(&mu_);
    ++fetches_;
    VET_ASSIGN_OR_RETURN(const Version* v, Find(practice, version));
    int written = 0;
    for (const StoredFile& f : v->files) {
      if (fail_after_files_ >= 0 && written == fail_after_files_) {
        return absl::UnavailableError("fake store: connection lost during the fetch");
      }
      std::string bytes = v->bytes.at(f.path);
      if (damage_in_transit_ && !bytes.empty()) bytes[bytes.size() / 2] ^= 0x5a;
      const std::filesystem::path path = std::filesystem::path(dest) / f.path;
      std::filesystem::create_directories(path.parent_path());
      std::ofstream(path, std::ios::binary) << bytes;
      if (Sha256Hex(Sha256(bytes)) != f.sha256) {
        return absl::DataLossError(absl::StrCat(f.path, " arrived damaged"));
      }
      ++written;
    }
    return absl::OkStatus();
  }
  // Tests share one fake between replicas, where each replica has a store
  // of its own (DatasetStore: WaitForChanges is for one thread), as LISTEN
  // on its own connection: so every waiting thread sees every announcement,
  // from the first, instead of the replicas taking them from each other.
  absl::StatusOr<std::vector<std::string>> WaitForChanges(absl::Duration timeout) override {
    absl::MutexLock lock(&mu_);
    size_t& seen = seen_[std::this_thread::get_id()];
    struct Unseen {
      const std::vector<std::string>* announced;
      size_t seen;
    } unseen{&announced_, seen};
    mu_.AwaitWithTimeout(
        absl::Condition(+[](Unseen* u) { return u->announced->size() > u->seen; }, &unseen),
        timeout);
    std::vector<std::string> out(announced_.begin() + seen, announced_.end());
    seen = announced_.size();
    return out;
  }

  // Failure switches.
  void FailFetchAfterFiles(int files) {
    absl::MutexLock lock(&mu_);
    fail_after_files_ = files;
  }
  void DamageInTransit(bool on) {
    absl::MutexLock lock(&mu_);
    damage_in_transit_ = on;
  }
  void DropAnnouncements(bool on) {
    absl::MutexLock lock(&mu_);
    drop_announcements_ = on;
  }
  void SetUnavailable(bool on) {
    absl::MutexLock lock(&mu_);
    unavailable_ = on;
  }
  int fetches() const {
    absl::MutexLock lock(&mu_);
    return fetches_;
  }

 private:
  struct Version {
    std::vector<StoredFile> files;
    std::map<std::string, std::string> bytes;
  };
  absl::StatusOr<const Version*> Find(const std::string& practice, const std::string& version)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (unavailable_) return absl::UnavailableError("fake store is down");
    auto p = versions_.find(practice);
    if (p == versions_.end() || p->second.count(version) == 0) {
      return absl::NotFoundError(absl::StrCat("no version ", version, " of ", practice));
    }
    return &p->second.at(version);
  }

  mutable absl::Mutex mu_;
  std::map<std::string, std::map<std::string, Version>> versions_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> current_ ABSL_GUARDED_BY(mu_);
  // Every announcement, in order; per waiting thread, how many it has seen.
  std::vector<std::string> announced_ ABSL_GUARDED_BY(mu_);
  std::map<std::thread::id, size_t> seen_ ABSL_GUARDED_BY(mu_);
  int fail_after_files_ ABSL_GUARDED_BY(mu_) = -1;
  bool damage_in_transit_ ABSL_GUARDED_BY(mu_) = false;
  bool drop_announcements_ ABSL_GUARDED_BY(mu_) = false;
  bool unavailable_ ABSL_GUARDED_BY(mu_) = false;
  int fetches_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace vet::data::testing

#endif  // VET_CORE_DATA_TESTING_FAKE_DATASET_STORE_H_
