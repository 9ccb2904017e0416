// Listing and checking a version folder's files by their digests.
#include "core/data/dataset_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/common/sha256.h"
#include "core/common/status_macros.h"
#include "core/common/unique_fd.h"

namespace vet::data {
namespace {

// SHA-256 and size of one file, read 1 MiB at a time.
absl::StatusOr<StoredFile> Digest(const std::string& dir, const std::string& path) {
  const std::string full = absl::StrCat(dir, "/", path);
  UniqueFd fd(::open(full.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, " is missing"));
    return absl::InternalError(absl::StrCat("cannot read ", full, ": ", std::strerror(errno)));
  }
  Sha256Hasher hasher;
  StoredFile file;
  file.path = path;
  std::string buf(1 << 20, '\0');
  ssize_t n;
  while ((n = ::read(fd.get(), buf.data(), buf.size())) > 0) {
    hasher.Update(absl::string_view(buf.data(), n));
    file.size += n;
  }
  const int read_errno = errno;
  if (n < 0) {
    return absl::InternalError(absl::StrCat("cannot read ", full, ": ", std::strerror(read_errno)));
  }
  file.sha256 = Sha256Hex(hasher.Final());
  return file;
}

}  // namespace

absl::StatusOr<std::vector<StoredFile>> ListVersionFiles(const std::string& dir) {
  std::vector<std::string> paths;
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(dir, ec), end;
  if (ec) return absl::InternalError(absl::StrCat("cannot list ", dir, ": ", ec.message()));
  for (; it != end; it.increment(ec)) {
    if (ec) return absl::InternalError(absl::StrCat("cannot list ", dir, ": ", ec.message()));
    if (it->is_directory(ec)) continue;
    if (!it->is_regular_file(ec)) {
      return absl::FailedPreconditionError(
          absl::StrCat(it->path().string(), " in a dataset version is not a regular file"));
    }
    paths.push_back(std::filesystem::relative(it->path(), dir, ec).string());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<StoredFile> files;
  files.reserve(paths.size());
  for (const std::string& path : paths) {
    VET_ASSIGN_OR_RETURN(StoredFile file, Digest(dir, path));
    files.push_back(std::move(file));
  }
  return files;
}

absl::Status VerifyVersionFiles(const std::string& dir, const std::vector<StoredFile>& files) {
  for (const StoredFile& want : files) {
    absl::StatusOr<StoredFile> got = Digest(dir, want.path);
    if (absl::IsNotFound(got.status())) return absl::DataLossError(got.status().message());
    VET_RETURN_IF_ERROR(got.status());
    if (got->size != want.size || got->sha256 != want.sha256) {
      return absl::DataLossError(absl::StrCat(want.path, " differs from the stored version (",
                                              got->size, " bytes, sha256 ",
                                              got->sha256.substr(0, 12), "; expected ", want.size,
                                              " bytes, sha256 ", want.sha256.substr(0, 12), ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace vet::data
