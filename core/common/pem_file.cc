// ReadPemFile: one place for the checks and the wording of an unreadable
// TLS file, shared by the server's configuration and vetctl.
#include "core/common/pem_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace vet {

absl::StatusOr<std::string> ReadPemFile(absl::string_view setting, const std::string& path) {
  std::error_code ec;
  // A directory opens as a stream on Linux and reads as empty: say what it
  // is rather than "empty".
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat(setting, " '", path, "' is a directory, not a PEM file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(setting, " '", path, "' cannot be read: ", std::strerror(errno)));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  if (text.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(setting, " '", path, "' is empty (expected a PEM file)"));
  }
  return text;
}

}  // namespace vet
