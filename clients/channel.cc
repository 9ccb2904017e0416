// Channel credentials from vetctl's TLS settings, and the reading of gRPC's
// handshake errors into something a user can act on.
#include "clients/channel.h"

#include <grpc/support/log.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/common/pem_file.h"

namespace vet::cli {
namespace {

void DropGrpcLogLine(gpr_log_func_args* /*args*/) {}

bool IsSet(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && value[0] != '\0';
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFor(
    const TlsSettings& tls) {
  if (!tls.enabled) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  if (!tls.ca_cert.empty()) {
    auto ca = ReadPemFile("--ca_cert", tls.ca_cert);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  if (!tls.client_cert.empty()) {
    auto cert = ReadPemFile("--client_cert", tls.client_cert);
    if (!cert.ok()) return cert.status();
    auto key = ReadPemFile("--client_key", tls.client_key);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const std::string& addr, const TlsSettings& tls,
    const grpc::ChannelArguments& args) {
  auto credentials = ChannelCredentialsFor(tls);
  if (!credentials.ok()) return credentials.status();
  return grpc::CreateCustomChannel(addr, *credentials, args);
}

std::string TlsFailureMessage(absl::string_view grpc_message,
                              const std::string& addr, const TlsSettings& tls) {
  const std::string m = absl::AsciiStrToLower(grpc_message);
  // A TLS server closes a plaintext connection at its first bytes; so does
  // a mutual-TLS server a client it refuses, after a TLS 1.3 handshake the
  // client thought complete. gRPC says only "Socket closed" for both.
  const bool closed = absl::StrContains(m, "socket closed") ||
                      absl::StrContains(m, "connection reset");
  if (!tls.enabled) {
    if (!closed) return "";
    return absl::StrCat(
        "the server at ", addr,
        " closed the connection: if it serves TLS, pass --ca_cert "
        "(or --tls)");
  }
  const std::string prefix =
      absl::StrCat("TLS with the server at ", addr, " failed: ");
  // gRPC 1.51's words, after "failed to connect to all addresses; last
  // error: ...": "Ssl handshake failed: SSL_ERROR_SSL: ... certificate
  // verify failed", "... wrong version number" (no TLS on the other side),
  // "Peer name H is not in peer certificate".
  if (absl::StrContains(m, "certificate verify failed") ||
      absl::StrContains(m, "certificate_verify_failed")) {
    return absl::StrCat(prefix, "the server's certificate is not trusted",
                        tls.ca_cert.empty()
                            ? " (pass the CA that signed it with --ca_cert)"
                            : absl::StrCat(" by --ca_cert ", tls.ca_cert));
  }
  if (absl::StrContains(m, "not in peer certificate")) {
    return absl::StrCat(prefix, "the server's certificate does not name ",
                        addr.substr(0, addr.rfind(':')),
                        " (connect with a name its subjectAltName holds)");
  }
  if (absl::StrContains(m, "wrong version number") ||
      absl::StrContains(m, "wrong_version_number")) {
    return absl::StrCat(
        prefix, "the server does not speak TLS (drop --tls and --ca_cert)");
  }
  if (closed) {
    return absl::StrCat(
        prefix,
        tls.client_cert.empty()
            ? "the server closed the connection; it may require a client "
              "certificate (--client_cert, --client_key)"
            : absl::StrCat("the server closed the connection; it may not "
                           "accept the client certificate ",
                           tls.client_cert));
  }
  if (absl::StrContains(m, "handshake")) {
    return absl::StrCat(prefix, "the handshake did not complete");
  }
  return "";
}

void SilenceGrpcLogUnlessAsked() {
  if (IsSet("GRPC_VERBOSITY") || IsSet("GRPC_TRACE")) return;
  gpr_set_log_function(&DropGrpcLogLine);
}

}  // namespace vet::cli
