// The shared server lives in a gtest environment registered when this file
// is linked in (any binary that calls SharedPostgres), so it is stopped and
// its directory removed at the end of RUN_ALL_TESTS, before static
// destructors run.
#include "tests/testing/postgres_fixture.h"

#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace vet::testing {
namespace {

class SharedPostgresEnvironment : public ::testing::Environment {
 public:
  static absl::StatusOr<PostgresServer*> Server() {
    absl::MutexLock lock(&mu_);
    if (!started_) {
      started_ = true;
      absl::StatusOr<std::unique_ptr<PostgresServer>> server = PostgresServer::Start();
      if (server.ok()) {
        server_ = std::move(server).value().release();
      } else {
        error_ = new absl::Status(server.status());
      }
    }
    if (error_ != nullptr) return *error_;
    return server_;
  }
  void TearDown() override {
    absl::MutexLock lock(&mu_);
    delete server_;
    server_ = nullptr;
  }

 private:
  // Plain pointers, never destroyed at exit: TearDown stops the server.
  static absl::Mutex mu_;
  static bool started_ ABSL_GUARDED_BY(mu_);
  static PostgresServer* server_ ABSL_GUARDED_BY(mu_);
  static absl::Status* error_ ABSL_GUARDED_BY(mu_);
};
absl::Mutex SharedPostgresEnvironment::mu_;
bool SharedPostgresEnvironment::started_ = false;
PostgresServer* SharedPostgresEnvironment::server_ = nullptr;
absl::Status* SharedPostgresEnvironment::error_ = nullptr;
::testing::Environment* const kSharedPostgresEnvironment =
    ::testing::AddGlobalTestEnvironment(new SharedPostgresEnvironment());

}  // namespace

absl::StatusOr<PostgresServer*> SharedPostgres() { return SharedPostgresEnvironment::Server(); }

absl::StatusOr<PostgresDatabase> FreshPostgresDatabase() {
  absl::StatusOr<PostgresServer*> server = SharedPostgres();
  if (!server.ok()) return server.status();
  absl::StatusOr<std::string> name = (*server)->CreateDatabase();
  if (!name.ok()) return name.status();
  return PostgresDatabase{*server, *std::move(name)};
}

}  // namespace vet::testing
