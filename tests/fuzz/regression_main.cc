// The driver of the fuzz regression tests: feeds every file under the folders
// (or files) named on the command line to the fuzz target's
// LLVMFuzzerTestOneInput, as libFuzzer would replay them, in a normal build
// without libFuzzer. A crash, a sanitizer report or a trap fails the test; a
// folder that does not exist counts as empty (regressions/<target>/ exists
// only once a crash was found).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void Collect(const std::filesystem::path& path, std::vector<std::filesystem::path>& out) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) {
    out.push_back(path);
    return;
  }
  if (!std::filesystem::is_directory(path, ec)) return;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path, ec)) {
    if (entry.is_regular_file(ec)) out.push_back(entry.path());
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) Collect(argv[i], files);
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", file.c_str());
      return 1;
    }
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::fprintf(stderr, "running %s (%zu bytes)\n", file.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("%zu inputs ran without a crash\n", files.size());
  return 0;
}
