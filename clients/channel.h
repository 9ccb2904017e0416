// The channel every vetctl call and bench stream goes over: plaintext, or
// TLS trusting the system's roots or --ca_cert, with a client certificate
// for servers that require one; and what to tell the user when TLS fails.
#ifndef VET_CLIENTS_CHANNEL_H_
#define VET_CLIENTS_CHANNEL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "clients/args.h"
#include "grpcpp/grpcpp.h"

namespace vet::cli {

// The credentials `tls` asks for, reading its PEM files. Returns
// kInvalidArgument naming the flag and the file when one cannot be read or
// is empty; a message never holds a file's contents.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFor(
    const TlsSettings& tls);

// A channel to `addr` with ChannelCredentialsFor(tls) and `args`; the same
// errors.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const std::string& addr, const TlsSettings& tls,
    const grpc::ChannelArguments& args = grpc::ChannelArguments());

// For a call that ended UNAVAILABLE with `grpc_message`: when TLS is the
// likely cause, a message for people naming `addr` and what gRPC says went
// wrong (the server's certificate is not trusted or does not name the host,
// the server does not speak TLS, the server closed the connection: it may
// want a client certificate); for a plaintext channel that the server
// closed, a hint to use TLS. Otherwise empty.
std::string TlsFailureMessage(absl::string_view grpc_message,
                              const std::string& addr, const TlsSettings& tls);

// Drops gRPC's own log lines unless GRPC_VERBOSITY or GRPC_TRACE is set
// (someone debugging gRPC asked for them). vetctl reports every failed call
// itself from its status; gRPC also logs some failures (a TLS handshake
// that fails logs an ERROR line), which would reach the user's terminal
// ahead of vetctl's line and break --json's promise of one JSON line on
// stderr. Call once, at the start of main, before any channel exists.
void SilenceGrpcLogUnlessAsked();

}  // namespace vet::cli

#endif  // VET_CLIENTS_CHANNEL_H_
