// One throwaway PostgreSQL server per test binary, a fresh database per
// test: what the store suites (budget, sessions) share. The server starts
// on first use, so tests that never ask for it never wait for it, and a
// gtest environment stops it after the last test.
#ifndef VET_TESTS_TESTING_POSTGRES_FIXTURE_H_
#define VET_TESTS_TESTING_POSTGRES_FIXTURE_H_

#include <string>

#include "absl/status/statusor.h"
#include "tests/testing/postgres_server.h"

namespace vet::testing {

// The server of this test binary, started by the first call. Call from the
// main thread (a test's SetUp or body: see PostgresServer::Start on why).
// Thread-safe. When the server cannot start, every call returns that first
// error (kFailedPrecondition when PostgreSQL is not installed: the test must
// fail, not skip). The pointer stays valid until the last test has run.
absl::StatusOr<PostgresServer*> SharedPostgres();

// A new empty database on SharedPostgres().
struct PostgresDatabase {
  PostgresServer* server = nullptr;
  std::string name;
  // "postgres://postgres:PASSWORD@127.0.0.1:PORT/<name>".
  std::string url() const { return server->url(name); }
};
absl::StatusOr<PostgresDatabase> FreshPostgresDatabase();

}  // namespace vet::testing

#endif  // VET_TESTS_TESTING_POSTGRES_FIXTURE_H_
