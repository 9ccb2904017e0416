// Runs one vetctl invocation against the server: makes the call, prints the
// result (human or JSON) and maps the outcome to an exit code. The only part
// of the CLI that speaks gRPC; this header keeps grpcpp out of its includers.
#ifndef VET_CLIENTS_VETCTL_H_
#define VET_CLIENTS_VETCTL_H_

#include <cstddef>
#include <ostream>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "clients/args.h"

namespace grpc {
class ClientContext;
}  // namespace grpc

namespace vet::cli {

// Lets another thread (main's signal thread) cancel the call in flight.
// Thread-safe. A Cancel() before the call is attached cancels it as soon as
// it is attached.
class CallCanceller {
 public:
  void Cancel();
  bool cancelled() const;
  // The call to cancel; `context` must stay alive until Detach().
  void Attach(grpc::ClientContext* context);
  void Detach();

 private:
  mutable absl::Mutex mu_;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

// Where the output goes and what it is.
struct Console {
  std::ostream& out;
  std::ostream& err;
  bool out_is_terminal = false;
  bool err_is_terminal = false;
  // For timestamps in human output.
  absl::TimeZone time_zone = absl::UTCTimeZone();
};

// The CSV exports import uploads from its directory, in this order, each as
// "<table>.csv".
inline constexpr const char* kImportTables[] = {
    "clients", "patients", "staff", "appointments", "invoice_lines"};
// import sends each file in chunks of this size (the last one shorter), read
// from disk as they go: a file is never held in memory whole.
inline constexpr size_t kImportChunkBytes = size_t{1} << 20;

// Runs `invocation` (not kHelp) over a plaintext channel to invocation.addr,
// with the API key in `x-api-key` and a deadline of invocation.timeout.
// Writes the result to console.out; an error to console.err as "vetctl:
// CODE: message" (or a JSON line with invocation.json). Returns the exit code
// (exit_codes.h); kExitCancelled once `canceller` cancelled the call.
//
// import first checks that every file of kImportTables is in
// invocation.dir and that the mapping file can be read, and returns
// kExitUsage without a call if not. demo-data makes no call: it writes the
// demo practice's exports, up to today in console.time_zone, and lists them.
int Run(const Invocation& invocation, const Console& console,
        CallCanceller& canceller);

}  // namespace vet::cli

#endif  // VET_CLIENTS_VETCTL_H_
