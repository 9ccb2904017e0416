// TlsFailureMessage over the messages gRPC 1.51 gives for each way a TLS
// connection fails (as seen against the real server in
// tests/integration/tls_integration_test.cc), and ChannelCredentialsFor's
// refusal of unreadable files.
#include "clients/channel.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vet::cli {
namespace {

using ::testing::HasSubstr;

constexpr char kAddr[] = "127.0.0.1:50051";
constexpr char kLastError[] =
    "failed to connect to all addresses; last error: ";

TlsSettings WithCa() {
  TlsSettings tls;
  tls.enabled = true;
  tls.ca_cert = "/etc/vet/ca.pem";
  return tls;
}

TEST(TlsFailureMessageTest, UntrustedCertificateNamesTheCaGiven) {
  const std::string message = TlsFailureMessage(
      absl::StrCat(
          kLastError,
          "UNKNOWN: ipv4:127.0.0.1:50051: Ssl handshake failed: SSL_ERROR_SSL: "
          "error:0A000086:SSL routines::certificate verify failed"),
      kAddr, WithCa());
  EXPECT_THAT(message,
              HasSubstr("TLS with the server at 127.0.0.1:50051 failed"));
  EXPECT_THAT(message, HasSubstr("not trusted by --ca_cert /etc/vet/ca.pem"));

  TlsSettings system_roots;
  system_roots.enabled = true;
  EXPECT_THAT(
      TlsFailureMessage("certificate verify failed", kAddr, system_roots),
      HasSubstr("pass the CA that signed it with --ca_cert"));
}

TEST(TlsFailureMessageTest, NameMismatchNamesTheHost) {
  EXPECT_THAT(
      TlsFailureMessage(
          absl::StrCat(kLastError,
                       "UNKNOWN: ipv4:127.0.0.1:50051: Peer name 127.0.0.1 is "
                       "not in peer certificate"),
          kAddr, WithCa()),
      HasSubstr("certificate does not name 127.0.0.1"));
}

TEST(TlsFailureMessageTest, PlaintextServerAndClosedConnections) {
  EXPECT_THAT(TlsFailureMessage(
                  "Ssl handshake failed: SSL_ERROR_SSL: error:0A00010B:SSL "
                  "routines::wrong version number",
                  kAddr, WithCa()),
              HasSubstr("does not speak TLS"));
  const std::string closed = absl::StrCat(kLastError,
                                          "UNAVAILABLE: ipv4:127.0.0.1:50051: "
                                          "Socket closed");
  EXPECT_THAT(TlsFailureMessage(closed, kAddr, WithCa()),
              HasSubstr("may require a client certificate"));
  TlsSettings with_cert = WithCa();
  with_cert.client_cert = "/me.pem";
  with_cert.client_key = "/me-key.pem";
  EXPECT_THAT(TlsFailureMessage(closed, kAddr, with_cert),
              HasSubstr("may not accept the client certificate /me.pem"));
  EXPECT_THAT(TlsFailureMessage(closed, kAddr, TlsSettings()),
              HasSubstr("if it serves TLS, pass --ca_cert"));
}

TEST(TlsFailureMessageTest, OtherFailuresAreNotTls) {
  const std::string refused = absl::StrCat(
      kLastError, "UNAVAILABLE: ipv4:127.0.0.1:50051: Connection refused");
  EXPECT_EQ(TlsFailureMessage(refused, kAddr, WithCa()), "");
  EXPECT_EQ(TlsFailureMessage(refused, kAddr, TlsSettings()), "");
  EXPECT_EQ(TlsFailureMessage("the model is down", kAddr, WithCa()), "");
}

TEST(ChannelCredentialsForTest, UnreadableFilesAreRefusedNamingTheFlag) {
  TlsSettings tls = WithCa();
  tls.ca_cert = "/nonexistent/ca.pem";
  auto credentials = ChannelCredentialsFor(tls);
  EXPECT_EQ(credentials.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(credentials.status().message()),
              HasSubstr("--ca_cert '/nonexistent/ca.pem' cannot be read"));

  tls.ca_cert = "";
  tls.client_cert = "/";
  tls.client_key = "/nonexistent/key.pem";
  credentials = ChannelCredentialsFor(tls);
  EXPECT_THAT(std::string(credentials.status().message()),
              HasSubstr("--client_cert '/' is a directory"));

  EXPECT_TRUE(ChannelCredentialsFor(TlsSettings()).ok())
      << "plaintext needs no file";
}

}  // namespace
}  // namespace vet::cli
