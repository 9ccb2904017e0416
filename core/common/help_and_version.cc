#include <string>

#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "core/common/version.h"

namespace vet {
namespace {

// The path from the source root: "server/main.cc" whether the compiler was
// given "/check/work/main/server/main.cc" or "../server/main.cc".
std::string FromSourceRoot(absl::string_view file, absl::string_view main_file) {
  if (absl::EndsWith(file, main_file) &&
      (file.size() == main_file.size() || file[file.size() - main_file.size() - 1] == '/')) {
    return std::string(main_file);
  }
  return std::string(file);
}

}  // namespace

void ConfigureHelpAndVersion(const char* program, const char* main_file) {
  const std::string main(main_file);
  const std::string name(program);
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [main](absl::string_view file) {
    return FromSourceRoot(file, main) == main;
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  config.normalize_filename = [main](absl::string_view file) { return FromSourceRoot(file, main); };
  config.version_string = [name] { return VersionLine(name.c_str()); };
  absl::SetFlagsUsageConfig(config);
}

}  // namespace vet
