// The exit codes of vetctl, one per thing a script might do next, and the
// mapping from a gRPC status to them. Kept in one place so the CLI, its usage
// text, clients/README.md and the tests agree.
//
//   0  success
//   1  any other error (INTERNAL, UNKNOWN, DATA_LOSS, ...; local I/O failure)
//   2  bad usage: unknown subcommand or flag, missing question, id or
//      directory, malformed --as_of, --lines out of range; import: a missing
//      CSV file or unreadable --mapping (checked before any call is made)
//   3  INVALID_ARGUMENT: the server refused the request (e.g. a question the
//      planner cannot answer, or import data that fails validation)
//   4  UNAUTHENTICATED or PERMISSION_DENIED: check --api_key / --practice
//   5  NOT_FOUND: unknown practice or session
//   6  RESOURCE_EXHAUSTED: budget hard cap reached or sandbox limits hit
//   7  DEADLINE_EXCEEDED: --timeout passed, or the sandbox ran too long
//   8  UNAVAILABLE: server not reachable, busy, or the model service is down;
//      retry later
//   9  CANCELLED: Ctrl-C, or the server cancelled the call
#ifndef VET_CLIENTS_EXIT_CODES_H_
#define VET_CLIENTS_EXIT_CODES_H_

#include <grpcpp/support/status_code_enum.h>

#include <string>

namespace vet::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,
  kExitUsage = 2,
  kExitInvalidArgument = 3,
  kExitAuth = 4,
  kExitNotFound = 5,
  kExitResourceExhausted = 6,
  kExitDeadlineExceeded = 7,
  kExitUnavailable = 8,
  kExitCancelled = 9,
};

// The exit code for a call that ended with `code`. OK maps to kExitOk.
ExitCode ExitCodeFor(grpc::StatusCode code);

// The canonical name of `code`, e.g. "NOT_FOUND"; "CODE_<n>" for a value
// outside the enum.
std::string StatusCodeName(grpc::StatusCode code);

}  // namespace vet::cli

#endif  // VET_CLIENTS_EXIT_CODES_H_
