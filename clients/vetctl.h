// Runs one vetctl invocation against the server: makes the call, prints the
// result (human or JSON) and maps the outcome to an exit code. The only part
// of the CLI that speaks gRPC; this header keeps grpcpp out of its includers.
#ifndef VET_CLIENTS_VETCTL_H_
#define VET_CLIENTS_VETCTL_H_

#include <cstddef>
#include <ostream>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "clients/args.h"
#include "clients/chat.h"

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

// Ctrl-C (and SIGTERM) in `vetctl chat`: cancels the call in flight, if any,
// and otherwise wakes the prompt, which clears its line or ends the chat.
// Unlike CallCanceller nothing is remembered for the next call: a Ctrl-C at
// the prompt never cancels the question typed after it. Thread-safe;
// Interrupt() and Terminate() are what main's signal thread calls.
class ChatInterrupter {
 public:
  explicit ChatInterrupter(WakePipe& prompt) : prompt_(prompt) {}

  // Ctrl-C.
  void Interrupt();
  // SIGTERM: cancels the call in flight and ends the chat at the prompt.
  void Terminate();
  bool terminated() const;

  // The call Interrupt() cancels; `context` must stay alive until Detach(),
  // which returns whether it was cancelled.
  void Attach(grpc::ClientContext* context);
  bool Detach();

 private:
  WakePipe& prompt_;
  mutable absl::Mutex mu_;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool terminated_ ABSL_GUARDED_BY(mu_) = false;
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
// kExitUsage without a call if not. With invocation.preset it first
// converts invocation.dir (import_preset.h), prints the conversion's report
// (a JSON line with --json) and uploads the converted tables; an unknown
// preset exits kExitUsage and exports it cannot convert
// kExitInvalidArgument, both without a call. demo-data makes no call: it writes
// the demo practice's exports, up to today in console.time_zone, and lists
// them. new-key makes no call: it prints FormatNewKey of a fresh key of 32
// bytes from getrandom(2). bench is RunBench (load_generator.h).
int Run(const Invocation& invocation, const Console& console,
        CallCanceller& canceller);

// What `vetctl new-key` prints for `key`: the key on the first line, and on
// the second the practices file entry holding only its SHA-256:
//   {"id": "<practice>", "api_key_sha256": "<64 hex digits>"}
// or, with no practice, the field alone ("api_key_sha256": "...").
std::string FormatNewKey(absl::string_view key, absl::string_view practice);

// `vetctl chat`: reads lines from `input` until /quit, /exit or the end of
// the input, and answers each question with Ask on one session (the one of
// invocation.session_id, else the one the first answer starts), printed as
// `ask` prints it. The /commands are those of kChatHelp. Every call has its
// own deadline of invocation.timeout. A failed call prints its error line
// as `ask` does and the chat goes on. Ctrl-C (`interrupter`) cancels the
// question running; at the prompt it clears the line when input is
// interactive, and otherwise ends the chat. Returns kExitOk at /quit or the
// end of the input, kExitCancelled when interrupted at a non-interactive
// prompt or terminated.
int RunChat(const Invocation& invocation, const Console& console,
            LineReader& input, ChatInterrupter& interrupter);

}  // namespace vet::cli

#endif  // VET_CLIENTS_VETCTL_H_
