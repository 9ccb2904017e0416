// The stores a behavioural suite runs over (memory, SQLite, PostgreSQL), for
// value-parameterised tests: each suite wraps its store in a small test
// backend (InMemory and Sqlite default-constructed, Postgres from a fresh
// database on the shared server) and instantiates over ThreeStores.
#ifndef VET_TESTS_TESTING_STORE_KINDS_H_
#define VET_TESTS_TESTING_STORE_KINDS_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "tests/testing/postgres_fixture.h"

namespace vet::testing {

template <typename Backend>
struct StoreKind {
  std::string name;
  // Keeps its data across store instances: reopening, replicas.
  bool durable;
  // A fresh backend, or a failure (a missing PostgreSQL fails the test).
  std::function<absl::StatusOr<std::unique_ptr<Backend>>()> make;
};

template <typename Backend>
void PrintTo(const StoreKind<Backend>& kind, std::ostream* os) {
  *os << kind.name;
}

// The three stores, or only the durable two.
template <typename Backend, typename InMemory, typename Sqlite, typename Postgres>
std::vector<StoreKind<Backend>> ThreeStores(bool durable_only) {
  using Made = absl::StatusOr<std::unique_ptr<Backend>>;
  std::vector<StoreKind<Backend>> kinds;
  if (!durable_only) {
    kinds.push_back({"InMemory", false, []() -> Made { return std::make_unique<InMemory>(); }});
  }
  kinds.push_back({"Sqlite", true, []() -> Made { return std::make_unique<Sqlite>(); }});
  kinds.push_back({"Postgres", true, []() -> Made {
                     absl::StatusOr<PostgresDatabase> database = FreshPostgresDatabase();
                     if (!database.ok()) return database.status();
                     return std::make_unique<Postgres>(database->server, database->name);
                   }});
  return kinds;
}

// Test names end in the store's name: ".../Sqlite".
template <typename Backend>
std::string StoreName(const ::testing::TestParamInfo<StoreKind<Backend>>& info) {
  return info.param.name;
}

}  // namespace vet::testing

#endif  // VET_TESTS_TESTING_STORE_KINDS_H_
