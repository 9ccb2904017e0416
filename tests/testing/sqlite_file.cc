// ExecSqliteFile: a fresh connection per call, closed before returning.
#include "tests/testing/sqlite_file.h"

#include <sqlite3.h>

namespace vet::testing {

absl::Status ExecSqliteFile(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    absl::Status s = absl::InternalError(std::string("cannot open ") + path + ": " +
                                         (db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return s;
  }
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  absl::Status s =
      rc == SQLITE_OK ? absl::OkStatus() : absl::InternalError(error ? error : "sqlite error");
  sqlite3_free(error);
  sqlite3_close(db);
  return s;
}

}  // namespace vet::testing
