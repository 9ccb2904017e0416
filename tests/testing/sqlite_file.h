// Runs SQL on a SQLite file through a connection of its own, bypassing the
// store that owns the file: what the store suites use to tamper with it.
#ifndef VET_TESTS_TESTING_SQLITE_FILE_H_
#define VET_TESTS_TESTING_SQLITE_FILE_H_

#include <string>

#include "absl/status/status.h"

namespace vet::testing {

// Runs `sql` (one or more statements, rows ignored) on the file at `path`.
// kInternal with SQLite's message when it cannot be opened or a statement
// fails (a trigger's RAISE message included).
absl::Status ExecSqliteFile(const std::string& path, const std::string& sql);

}  // namespace vet::testing

#endif  // VET_TESTS_TESTING_SQLITE_FILE_H_
