// VetServer: builds every component from ServerOptions (components.h) and
// serves them over gRPC with health checking and reflection, and over the
// HTTP gateway. Tests build it in-process on a free port.
#ifndef VET_SERVER_SERVER_H_
#define VET_SERVER_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/common/clock.h"
#include "server/config.h"

namespace vet::server {

class VetServer {
 public:
  // Builds and starts listening. kInvalidArgument for bad options or a bad
  // practices file, kUnavailable when an address cannot be bound,
  // kFailedPrecondition when the sandbox's interpreter is missing. `clock`
  // is the time every component reads (budget periods, session expiry,
  // the audit trail); it must outlive the server.
  static absl::StatusOr<std::unique_ptr<VetServer>> Start(const ServerOptions& options,
                                                          const Clock& clock = RealClock::Get());
  ~VetServer();

  // The bound gRPC port (useful with listen port 0).
  int port() const;
  // The bound metrics port, or 0 when metrics are disabled.
  int metrics_port() const;
  // The bound HTTP gateway port, or 0 when http_listen is empty.
  int http_port() const;

  // Rereads the practices file (and re-adds the demo practice with --demo):
  // new practices, rotated keys and removed practices take effect for new
  // calls; calls in flight finish with the practices they started with.
  // On a bad file returns kInvalidArgument (kNotFound if unreadable) and
  // keeps serving the practices already loaded. Thread-safe.
  absl::Status ReloadPractices();

  // Purges expired sessions and audit entries past their retention now, as
  // the sweeper does every session_sweep. Returns how many sessions went.
  // Thread-safe.
  absl::StatusOr<int> SweepNow();

  // Stops accepting new calls, lets in-flight questions finish for up to
  // `grace`, then cancels the rest. Idempotent; thread-safe.
  void Shutdown(absl::Duration grace);
  // Blocks until Shutdown has completed.
  void Wait();

 private:
  struct State;
  explicit VetServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace vet::server

#endif  // VET_SERVER_SERVER_H_
