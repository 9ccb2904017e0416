// Staging, commit and the symlink swap. rename(2) of a symlink over another
// is atomic, so a reader resolving `data` sees the old or the new version.
#include "core/data/practice_data.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/common/error_details.h"
#include "core/common/log.h"
#include "core/common/posix.h"
#include "core/common/random.h"
#include "core/common/status_macros.h"
#include "core/common/unique_fd.h"
#include "core/data/columnar_store.h"
#include "core/data/import_validator.h"
#include "core/data/schema.h"

namespace vet::data {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  return ErrnoToStatus(errno, absl::StrCat(what, " ", path));
}

absl::Status MakeDir(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", path, ": ", ec.message()));
  return absl::OkStatus();
}

// Two FNV-1a 64-bit hashes with different seeds: a 128-bit content id.
// Not a defence against a practice colliding with itself on purpose, which
// would only make its own re-import a no-op.
class ContentHash {
 public:
  void Add(absl::string_view bytes) {
    for (unsigned char c : bytes) {
      a_ = (a_ ^ c) * 0x100000001b3ULL;
      b_ = (b_ ^ c) * 0x100000001b3ULL;
      b_ ^= b_ >> 29;
    }
  }
  std::string Hex() const { return absl::StrFormat("%016x%016x", a_, b_); }

 private:
  uint64_t a_ = 0xcbf29ce484222325ULL;
  uint64_t b_ = 0x84222325cbf29ce4ULL;
};

absl::StatusOr<std::string> HashImport(const std::map<std::string, std::string>& files,
                                       absl::string_view mapping_json) {
  ContentHash hash;
  // A new schema or storage format makes a new version of the same files.
  hash.Add(absl::StrCat("schema:", kSchemaVersion, ";format:", kColumnarFormatVersion, ";"));
  hash.Add(absl::StrCat("mapping:", mapping_json.size(), ":"));
  hash.Add(mapping_json);
  std::string buf(1 << 20, '\0');
  for (const TableSpec& table : CanonicalSchema()) {
    auto it = files.find(table.name);
    if (it == files.end()) continue;
    hash.Add(absl::StrCat("table:", table.name, ":"));
    UniqueFd fd(::open(it->second.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return Errno("cannot read", it->second);
    ssize_t n;
    while ((n = ::read(fd.get(), buf.data(), buf.size())) > 0) {
      hash.Add(absl::string_view(buf.data(), n));
    }
    if (n < 0) return Errno("cannot read", it->second);
  }
  return hash.Hex();
}

}  // namespace

absl::StatusOr<std::string> CurrentDataVersion(const std::string& root) {
  std::string link = root + "/data";
  struct stat st;
  if (::lstat(link.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::string();
    return Errno("cannot stat", link);
  }
  if (!S_ISLNK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(link,
                     " is a folder, not a dataset the service manages; imports need the "
                     "practice's default data_dir (remove data_dir from the practices file)"));
  }
  char target[4096];
  ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
  if (n < 0) return Errno("cannot read link", link);
  std::string t(target, n);
  return t.substr(t.rfind('/') + 1);
}

namespace {

// Removes versions other than the newest `keep` (by modification time) and
// `current`.
void PruneVersions(const std::string& root, const std::string& current, int keep) {
  std::string dir = root + "/versions";
  std::vector<std::pair<int64_t, std::string>> versions;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename();
    if (name == current || name.empty()) continue;
    // A folder in the making left by a crashed import: commits hold the
    // practice's lock, so no other is writing one now.
    if (name[0] == '.') {
      std::filesystem::remove_all(entry.path(), ec);
      continue;
    }
    struct stat st;
    if (::stat(entry.path().c_str(), &st) != 0) continue;
    versions.emplace_back(
        static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec, entry.path());
  }
  std::sort(versions.rbegin(), versions.rend());
  for (size_t i = std::max(0, keep - 1); i < versions.size(); ++i) {
    // A version a question still reads (DataLease) is kept for next time.
    UniqueFd fd(::open(versions[i].second.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) continue;
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
      std::filesystem::remove_all(versions[i].second, ec);
    }
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<ImportStaging>> ImportStaging::Create(const std::string& root,
                                                                     ImportLimits limits) {
  std::string dir = absl::StrCat(root, "/staging/", RandomHex(8));
  VET_RETURN_IF_ERROR(MakeDir(dir));
  // Clinic data: nobody but the service's user may enter the practice's
  // folder, whatever the modes of the files inside.
  if (::chmod(root.c_str(), 0700) != 0) return Errno("cannot restrict", root);
  return std::unique_ptr<ImportStaging>(new ImportStaging(root, dir, limits));
}

ImportStaging::~ImportStaging() {
  current_fd_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

absl::Status ImportStaging::Append(absl::string_view table, absl::string_view bytes) {
  if (table != current_table_ || !current_fd_.valid()) {
    if (FindTable(table) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown table '", table.substr(0, 64),
                       "'; the tables are clients, patients, staff, appointments, invoice_lines"));
    }
    if (files_.count(std::string(table)) > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("table '", table,
                       "' was sent again after another table; send each table's "
                       "chunks together"));
    }
    if (!current_fd_.Close()) return Errno("cannot write", files_[current_table_]);
    current_table_ = std::string(table);
    std::string path = absl::StrCat(dir_, "/", table, ".csv");
    current_fd_.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!current_fd_.valid()) return Errno("cannot create", path);
    files_[current_table_] = path;
  }
  if (bytes_ + static_cast<int64_t>(bytes.size()) > limits_.max_bytes) {
    return WithReason(absl::ResourceExhaustedError(
                          absl::StrCat("the upload is larger than the server's limit of ",
                                       limits_.max_bytes, " bytes (--max_import_bytes)")),
                      reason::kImportTooLarge);
  }
  bytes_ += bytes.size();
  while (!bytes.empty()) {
    ssize_t n = ::write(current_fd_.get(), bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", files_[current_table_]);
    }
    bytes.remove_prefix(n);
  }
  return absl::OkStatus();
}

absl::Status ImportStaging::Finish() {
  if (!current_fd_.Close()) return Errno("cannot write", files_[current_table_]);
  std::vector<std::string> missing;
  for (const TableSpec& table : CanonicalSchema()) {
    if (files_.count(table.name) == 0) missing.push_back(table.name + ".csv");
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("the import is missing ",
                                                   absl::StrJoin(missing, ", "),
                                                   "; a dataset needs all five tables"));
  }
  return absl::OkStatus();
}

absl::StatusOr<CommitOutcome> CommitImport(ImportStaging& staging, absl::string_view mapping_json,
                                           absl::CivilDay as_of, const PublishVersion& publish) {
  const std::string& root = staging.root();
  // One commit per practice at a time, across threads and processes: the
  // check of the current version, the write, the swap and the pruning must
  // not interleave with another import's (or a replica's fetch).
  VET_ASSIGN_OR_RETURN(PracticeLock lock, PracticeLock::Acquire(root));
  VET_ASSIGN_OR_RETURN(std::string current, CurrentDataVersion(root));
  VET_ASSIGN_OR_RETURN(std::string version, HashImport(staging.files(), mapping_json));

  ColumnMapping mapping;
  if (!mapping_json.empty()) {
    VET_ASSIGN_OR_RETURN(mapping, ParseColumnMapping(mapping_json));
  }
  ImportOptions options;
  options.as_of = as_of;
  options.max_memory_bytes = staging.limits().max_memory_bytes;
  // Validated even when unchanged, so the report (rows, warnings) is real.
  VET_ASSIGN_OR_RETURN(ImportResult result, ValidateImport(staging.files(), mapping, options));

  CommitOutcome outcome;
  outcome.version = version;
  outcome.warnings = result.warnings;
  for (const TypedTable& t : result.tables) outcome.rows.emplace_back(t.name, t.rows);
  if (version == current) {
    outcome.unchanged = true;
    // Shared again: the other replicas may have moved on to another import
    // since, and this one is the newest now.
    if (publish) VET_RETURN_IF_ERROR(publish(version, absl::StrCat(root, "/versions/", version)));
    return outcome;
  }

  const std::string versions = root + "/versions";
  VET_RETURN_IF_ERROR(MakeDir(versions));
  const std::string final_dir = absl::StrCat(versions, "/", version);
  std::error_code ec;
  if (!std::filesystem::exists(absl::StrCat(final_dir, "/manifest.json"), ec)) {
    // Written under a temporary name, renamed when complete: a crash leaves
    // no half-written version that looks finished.
    const std::string tmp_dir = absl::StrCat(versions, "/.tmp-", RandomHex(8));
    absl::Status written = WriteColumnarDataset(result.tables, tmp_dir);
    if (!written.ok()) {
      std::filesystem::remove_all(tmp_dir, ec);
      return written;
    }
    std::filesystem::remove_all(final_dir, ec);
    if (::rename(tmp_dir.c_str(), final_dir.c_str()) != 0) {
      absl::Status s = Errno("cannot rename to", final_dir);
      std::filesystem::remove_all(tmp_dir, ec);
      return s;
    }
  }
  // Mark it the newest for pruning, also when an older copy was reused.
  ::utimensat(AT_FDCWD, final_dir.c_str(), nullptr, 0);
  if (publish) VET_RETURN_IF_ERROR(publish(version, final_dir));
  VET_RETURN_IF_ERROR(SwapDataVersion(root, version));
  PruneVersions(root, version, staging.limits().keep_versions);
  return outcome;
}

absl::Status SwapDataVersion(const std::string& root, const std::string& version) {
  const std::string link = root + "/data";
  const std::string tmp_link = absl::StrCat(root, "/.data-", RandomHex(8));
  if (::symlink(absl::StrCat("versions/", version).c_str(), tmp_link.c_str()) != 0) {
    return Errno("cannot create link", tmp_link);
  }
  if (::rename(tmp_link.c_str(), link.c_str()) != 0) {
    absl::Status s = Errno("cannot swap", link);
    ::unlink(tmp_link.c_str());
    return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<PracticeLock> PracticeLock::Acquire(const std::string& root) {
  const std::string lock_path = root + "/.import.lock";
  UniqueFd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return Errno("cannot open", lock_path);
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return Errno("cannot lock", lock_path);
  }
  return PracticeLock(std::move(fd));
}

absl::StatusOr<DataLease> DataLease::Acquire(const std::string& data_dir) {
  // A prune may remove the version between resolving and locking it; then
  // the link points somewhere newer, so try again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    VET_ASSIGN_OR_RETURN(std::string dir, ResolveDataDir(data_dir));
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) continue;
    while (::flock(fd.get(), LOCK_SH) != 0 && errno == EINTR) {
    }
    struct stat st;
    if (::fstat(fd.get(), &st) == 0 && st.st_nlink > 0)
      return DataLease(std::move(dir), std::move(fd));
    // Removed meanwhile: closed, and tried again.
  }
  return absl::UnavailableError(
      absl::StrCat("the practice's data at ", data_dir, " kept changing; try again"));
}

void RemoveAbandonedUploads(const std::string& root) {
  std::error_code ec;
  std::filesystem::remove_all(root + "/staging", ec);
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
    // Links made for a swap, and fetches from the shared store
    // (replicated_datasets.h), that a crash interrupted.
    const std::string name = entry.path().filename().string();
    if (name.rfind(".data-", 0) == 0) std::filesystem::remove(entry.path(), ec);
    if (name.rfind(".fetch-", 0) == 0) std::filesystem::remove_all(entry.path(), ec);
  }
}

absl::StatusOr<std::string> ResolveDataDir(const std::string& data_dir) {
  char resolved[PATH_MAX];
  if (::realpath(data_dir.c_str(), resolved) == nullptr) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat("the practice has no data yet (", data_dir,
                                              " does not exist); import its exports first"));
    }
    return Errno("cannot resolve", data_dir);
  }
  return std::string(resolved);
}

}  // namespace vet::data
