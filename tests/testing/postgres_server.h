// A throwaway PostgreSQL 15 server for tests: initdb into a fresh temporary
// directory, postgres on a free loopback port, stopped and deleted again by
// the destructor. Runs as the `postgres` system user when the test runs as
// root (initdb refuses root), as the test's own user otherwise.
#ifndef VET_TESTS_TESTING_POSTGRES_SERVER_H_
#define VET_TESTS_TESTING_POSTGRES_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace vet::testing {

class PostgresServer {
 public:
  static std::string DefaultBinDir();
  struct Options {
    // Where initdb and postgres are: $VET_POSTGRES_BIN_DIR when set, else
    // /usr/lib/postgresql/15/bin (Debian's postgresql-15 package).
    std::string bin_dir = DefaultBinDir();
    // How long initdb plus start-up may take before giving up.
    absl::Duration start_timeout = absl::Seconds(90);
  };

  // Initializes and starts the server, then waits until it accepts
  // connections. Returns kFailedPrecondition naming the package when the
  // binaries are missing (a test must fail, not skip, on that), and
  // kInternal with the server's log when it does not come up.
  //
  // The postmaster gets PR_SET_PDEATHSIG(SIGQUIT) tied to the thread that
  // calls Start: if the test process dies (crash, kill -9, ctest timeout)
  // the server shuts down immediately instead of running on. Call Start from
  // a thread that outlives the server (the main thread, as gtest's
  // SetUpTestSuite and environments do). Only the data directory is left
  // behind in that case.
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start(const Options& options);
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start() { return Start(Options()); }

  // Stops the server (fast shutdown: open sessions are disconnected) and
  // removes its directory.
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  // "postgres://postgres:PASSWORD@127.0.0.1:PORT/<database>". The server
  // requires the password (scram-sha-256) on TCP, as production would.
  std::string url(const std::string& database = "postgres") const;
  const std::string& password() const { return password_; }

  // Creates a new empty database with a unique name ("t_1", "t_2", ...) and
  // returns the name (url(name) connects to it). Thread-safe.
  absl::StatusOr<std::string> CreateDatabase();

  // Runs one SQL statement on `database` through a fresh connection and
  // returns the first column of the first row ("" when there is none), or
  // kInternal with the server's message.
  absl::StatusOr<std::string> Query(const std::string& sql,
                                    const std::string& database = "postgres");

  // Stops the postmaster (fast shutdown) and starts it again on the same
  // port and data: what a database restart or failover looks like to the
  // clients.
  absl::Status Restart();

 private:
  PostgresServer() = default;
  absl::Status Launch();
  absl::Status WaitUntilReady(absl::Time deadline);
  absl::Status StopPostmaster();
  std::string LogTail() const;

  Options options_;
  std::string dir_;       // the temporary directory, removed at the end
  std::string data_dir_;  // dir_/data
  std::string log_path_;  // dir_/postgres.log
  std::string password_;
  int port_ = 0;
  bool as_postgres_user_ = false;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  pid_t postmaster_ = -1;
  absl::Mutex mu_;
  int next_database_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace vet::testing

#endif  // VET_TESTS_TESTING_POSTGRES_SERVER_H_
