// What the model-path suites check after every test: that no personal value
// of the demo practice is anywhere in the bytes the fake model server
// received (FakeOpenAiServer::received_bytes: request lines, headers and
// bodies of every request). The values are read straight from the imported
// version's dictionaries, not through the code under test.
#ifndef VET_TESTS_TESTING_PERSONAL_DATA_CHECK_H_
#define VET_TESTS_TESTING_PERSONAL_DATA_CHECK_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace vet::testing {

struct PersonalValue {
  std::string column;  // "clients.first_name"
  std::string value;
};

// Every value of every personal column (per the schema's marks) of the
// columnar dataset `data_dir` points at (a version folder or the practice's
// data symlink). Empty when it has none (no data yet).
std::vector<PersonalValue> ReadPersonalValuesOf(const std::string& data_dir);

// The values found in `bytes`, as "clients.first_name=Olivia", each once:
// case-insensitively, as a substring for values of 5 characters or more and
// as a whole word for shorter ones; a phone also by its last 10 digits
// written with any separators.
std::vector<std::string> PersonalValuesIn(absl::string_view bytes,
                                          const std::vector<PersonalValue>& values);

// PersonalValuesIn for the values of every practice with data under a
// server's state folder (<state_dir>/practices/*/data).
std::vector<std::string> PersonalValuesOfAnyPracticeIn(absl::string_view bytes,
                                                       const std::string& state_dir);

}  // namespace vet::testing

#endif  // VET_TESTS_TESTING_PERSONAL_DATA_CHECK_H_
