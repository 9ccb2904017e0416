// The replica's cache of shared dataset versions. Order of locks: a
// practice's fetch_mu, then mu_; file work (fetching, checking, evicting)
// happens without mu_, so questions of other practices never wait on it.
#include "core/data/replicated_datasets.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/common/log.h"
#include "core/common/random.h"
#include "core/common/status_macros.h"
#include "core/common/unique_fd.h"

namespace vet::data {
namespace {

// Longest a watcher wait lasts, so destruction is prompt.
constexpr absl::Duration kWaitSlice = absl::Milliseconds(200);

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

int64_t FolderBytes(const std::filesystem::path& dir) {
  int64_t bytes = 0;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_regular_file(ec)) bytes += static_cast<int64_t>(it->file_size(ec));
  }
  return bytes;
}

absl::Time ModificationTime(const std::filesystem::path& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return absl::InfinitePast();
  return absl::TimeFromTimespec(st.st_mtim);
}

}  // namespace

ReplicatedDatasets::ReplicatedDatasets(DatasetStore* store, ReplicatedDatasetsOptions options)
    : store_(store), options_(std::move(options)) {
  watcher_ = std::thread([this] { Watch(); });
}

ReplicatedDatasets::~ReplicatedDatasets() {
  stop_ = true;
  watcher_.join();
}

ReplicatedDatasets::Stats ReplicatedDatasets::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

ReplicatedDatasets::Practice& ReplicatedDatasets::PracticeOf(const std::string& practice_id,
                                                             const std::string& root) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<Practice>& p = practices_[practice_id];
  if (p == nullptr) p = std::make_unique<Practice>();
  p->root = root;
  return *p;
}

absl::StatusOr<DataLease> ReplicatedDatasets::Lease(const std::string& practice_id,
                                                    const std::string& data_root,
                                                    const std::string& data_dir) {
  // A folder of the practices file's own is read as it is, unshared.
  if (data_root.empty()) return DataLease::Acquire(data_dir);
  Practice& practice = PracticeOf(practice_id, data_root);
  std::string want;
  bool serving = false;
  {
    absl::MutexLock lock(&mu_);
    auto known = known_.find(practice_id);
    if (known != known_.end()) {
      want = known->second;
      auto s = serving_.find(practice_id);
      serving = s != serving_.end() && s->second == want;
    }
  }
  if (!serving) {
    if (want.empty()) {
      absl::StatusOr<std::string> current = store_->Current(practice_id);
      if (!current.ok()) {
        return absl::Status(current.status().code(),
                            absl::StrCat("the shared dataset store: ", current.status().message()));
      }
      want = *current;
    }
    if (want.empty()) {
      // Nothing shared yet: data imported before the replicas shared a
      // database is shared now, so every replica serves it.
      absl::MutexLock fetch(&practice.fetch_mu);
      VET_ASSIGN_OR_RETURN(std::string local, CurrentDataVersion(data_root));
      if (local.empty()) return DataLease::Acquire(data_dir);  // kNotFound, saying so
      LogInfo("practice ", practice_id, ": sharing dataset ", local,
              " (imported before the shared store) with the other replicas");
      VET_RETURN_IF_ERROR(
          Publish(practice_id, local, absl::StrCat(data_root, "/versions/", local)));
      want = local;
    } else {
      {
        absl::MutexLock lock(&mu_);
        known_.emplace(practice_id, want);
      }
      VET_RETURN_IF_ERROR(Ensure(practice_id, data_root, want));
    }
  }
  auto used = [this](absl::StatusOr<DataLease> lease) -> absl::StatusOr<DataLease> {
    if (!lease.ok()) return lease;
    absl::MutexLock lock(&mu_);
    last_used_[lease->dir()] = absl::Now();
    return lease;
  };
  absl::StatusOr<DataLease> lease = DataLease::Acquire(data_dir);
  if (absl::IsNotFound(lease.status()) && !want.empty()) {
    // Evicted for another practice between the check and the lease (the
    // cache was full): fetched again, once.
    {
      absl::MutexLock lock(&mu_);
      serving_.erase(practice_id);
    }
    VET_RETURN_IF_ERROR(Ensure(practice_id, data_root, want));
    return used(DataLease::Acquire(data_dir));
  }
  return used(std::move(lease));
}

absl::Status ReplicatedDatasets::Publish(const std::string& practice_id, const std::string& version,
                                         const std::string& dir) {
  VET_RETURN_IF_ERROR(store_->Publish(practice_id, version, dir, options_.keep_versions));
  // Written here: no need to check it against the store.
  absl::MutexLock lock(&mu_);
  known_[practice_id] = version;
  serving_[practice_id] = version;
  last_used_[dir] = absl::Now();
  return absl::OkStatus();
}

absl::Status ReplicatedDatasets::Ensure(const std::string& practice_id, const std::string& root,
                                        const std::string& version) {
  Practice& practice = PracticeOf(practice_id, root);
  absl::MutexLock fetch(&practice.fetch_mu);
  {
    absl::MutexLock lock(&mu_);
    auto s = serving_.find(practice_id);
    if (s != serving_.end() && s->second == version) return absl::OkStatus();  // a racer did it
  }
  absl::Status s = EnsureLocked(practice_id, root, version);
  if (!s.ok()) {
    s = absl::Status(s.code(), absl::StrCat("dataset ", version,
                                            " from the shared dataset store: ", s.message()));
    LogWarning("practice ", practice_id, ": ", s.message());
  }
  return s;
}

absl::Status ReplicatedDatasets::EnsureLocked(const std::string& practice_id,
                                              const std::string& root, const std::string& version) {
  std::error_code ec;
  std::filesystem::create_directories(root + "/versions", ec);
  if (ec)
    return absl::InternalError(absl::StrCat("cannot create ", root, "/versions: ", ec.message()));
  ::chmod(root.c_str(), 0700);  // clinic data: the service's user only
  const std::string dir = absl::StrCat(root, "/versions/", version);
  if (Exists(dir)) {
    // Left by an earlier run (or an import before a restart): checked
    // before it serves, as a fetched one is.
    VET_ASSIGN_OR_RETURN(std::vector<StoredFile> files, store_->Files(practice_id, version));
    absl::Status intact = VerifyVersionFiles(dir, files);
    if (absl::IsDataLoss(intact)) {
      LogWarning("practice ", practice_id, ": the local copy of dataset ", version, " is damaged (",
                 intact.message(), "); fetching it again");
      {
        absl::MutexLock lock(&mu_);
        ++stats_.damaged;
      }
      // A question reading it holds a shared flock; it finishes on the old
      // inodes, the folder goes now.
      std::filesystem::remove_all(dir, ec);
    } else {
      VET_RETURN_IF_ERROR(intact);
    }
  }
  if (!Exists(dir)) {
    // Fetched beside the versions, renamed in when whole and checked: an
    // import's pruning never sees it, and a crash leaves only a
    // ".fetch-" folder that start-up removes.
    const std::string tmp = absl::StrCat(root, "/.fetch-", RandomHex(8));
    std::filesystem::create_directories(tmp, ec);
    if (ec) return absl::InternalError(absl::StrCat("cannot create ", tmp, ": ", ec.message()));
    absl::Status fetched = store_->Fetch(practice_id, version, tmp);
    if (!fetched.ok()) {
      std::filesystem::remove_all(tmp, ec);
      return fetched;
    }
    const int64_t bytes = FolderBytes(tmp);
    std::filesystem::rename(tmp, dir, ec);
    if (ec) {
      std::filesystem::remove_all(tmp, ec);
      return absl::InternalError(absl::StrCat("cannot move the fetched dataset to ", dir));
    }
    LogInfo("practice ", practice_id, ": fetched dataset ", version, " (", bytes,
            " bytes) from the shared store");
    absl::MutexLock lock(&mu_);
    ++stats_.fetched;
    stats_.fetched_bytes += bytes;
  }
  {
    VET_ASSIGN_OR_RETURN(PracticeLock lock, PracticeLock::Acquire(root));
    VET_ASSIGN_OR_RETURN(std::string current, CurrentDataVersion(root));
    if (current != version) VET_RETURN_IF_ERROR(SwapDataVersion(root, version));
  }
  {
    absl::MutexLock lock(&mu_);
    serving_[practice_id] = version;
    last_used_[dir] = absl::Now();
  }
  Evict(dir);
  return absl::OkStatus();
}

void ReplicatedDatasets::Evict(const std::string& keep_dir) {
  struct Cached {
    absl::Time used;
    std::filesystem::path dir;
    int64_t bytes;
  };
  std::vector<Cached> cached;
  int64_t total = 0;
  std::error_code ec;
  for (const auto& practice : std::filesystem::directory_iterator(options_.practices_dir, ec)) {
    std::error_code vec;
    for (const auto& v : std::filesystem::directory_iterator(practice.path() / "versions", vec)) {
      const std::string name = v.path().filename();
      if (name.empty() || name[0] == '.' || !v.is_directory(vec)) continue;
      Cached c{ModificationTime(v.path()), v.path(), FolderBytes(v.path())};
      total += c.bytes;
      cached.push_back(std::move(c));
    }
  }
  absl::MutexLock lock(&mu_);
  for (Cached& c : cached) {
    auto used = last_used_.find(c.dir.string());
    if (used != last_used_.end()) c.used = std::max(c.used, used->second);
  }
  std::sort(cached.begin(), cached.end(),
            [](const Cached& a, const Cached& b) { return a.used < b.used; });
  for (const Cached& c : cached) {
    if (total <= options_.cache_bytes) break;
    if (c.dir == keep_dir) continue;
    // A question reading it holds a shared flock on it: leave it for now.
    UniqueFd fd(::open(c.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) continue;
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
      std::filesystem::remove_all(c.dir, ec);
      total -= c.bytes;
      ++stats_.evicted;
      last_used_.erase(c.dir.string());
      // A practice whose current version went is fetched again next time.
      const std::string practice = c.dir.parent_path().parent_path().filename();
      const std::string version = c.dir.filename();
      auto s = serving_.find(practice);
      if (s != serving_.end() && s->second == version) serving_.erase(s);
      LogInfo("practice ", practice, ": dataset ", version,
              " removed from the local cache (--data_cache_mb)");
    }
  }
  stats_.cached_bytes = total;
}

void ReplicatedDatasets::Learned(const std::map<std::string, std::string>& current) {
  std::vector<std::pair<std::string, std::string>> ahead;  // practice, version
  std::vector<std::string> roots;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [practice, version] : current) {
      std::string& known = known_[practice];
      if (known == version) continue;
      known = version;
      auto served = practices_.find(practice);
      if (served != practices_.end()) {
        ahead.emplace_back(practice, version);
        roots.push_back(served->second->root);
      }
    }
  }
  // Fetched ahead for the practices this replica serves, so their next
  // question does not wait for it. Errors are logged (Ensure) and tried
  // again by that question.
  for (size_t i = 0; i < ahead.size() && !stop_; ++i) {
    Ensure(ahead[i].first, roots[i], ahead[i].second).IgnoreError();
  }
}

void ReplicatedDatasets::Watch() {
  absl::Time next_poll = absl::Now();
  while (!stop_) {
    if (absl::Now() >= next_poll) {
      next_poll = absl::Now() + options_.poll_interval;
      absl::StatusOr<std::map<std::string, std::string>> all = store_->CurrentAll();
      if (all.ok()) {
        Learned(*all);
      } else {
        LogWarning("shared dataset store: ", all.status().message());
      }
      continue;
    }
    absl::StatusOr<std::vector<std::string>> announced =
        store_->WaitForChanges(std::min(kWaitSlice, next_poll - absl::Now()));
    if (!announced.ok()) continue;  // the poll covers what was missed
    std::map<std::string, std::string> current;
    for (const std::string& practice : announced.value()) {
      if (current.count(practice) > 0) continue;
      absl::StatusOr<std::string> version = store_->Current(practice);
      if (version.ok() && !version->empty()) current[practice] = *version;
    }
    Learned(current);
  }
}

}  // namespace vet::data
