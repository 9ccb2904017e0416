// TLS on the gRPC listener, end to end: the real server in-process with
// certificates openssl makes at test time, called by plain gRPC clients and
// by vetctl's Run (clients/vetctl.h): which clients it answers, which it
// refuses, and what vetctl says when the handshake fails.
#include <unistd.h>

#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/args.h"
#include "clients/vetctl.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_certs.h"
#include "vetanalytics/v1/analytics.grpc.pb.h"

namespace vet {
namespace {

namespace v1 = ::vetanalytics::v1;
using ::testing::HasSubstr;
using ::vet::testing::StatusIs;

constexpr char kDemoKey[] = "tls-test-demo-key";
// vetctl's exit code for UNAVAILABLE (clients/exit_codes.h).
constexpr int kExitUnavailable = 8;

class TlsIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto certs =
        testing::MakeTestCerts(absl::StrCat(::testing::TempDir(), "/vet-tls-certs-", getpid()));
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = new testing::TestCerts(*std::move(certs));
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }

  // The demo server on a free port; TLS with the test CA's server
  // certificate unless `tls` is false, requiring a client certificate signed
  // by the test CA when `client_ca` is true.
  server::ServerOptions Options(bool tls, bool client_ca) {
    server::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.metrics_listen = "";
    options.state_dir = absl::StrCat(::testing::TempDir(), "/vet-tls-state-", getpid());
    options.demo = true;
    options.demo_api_key = kDemoKey;
    options.demo_invoice_lines = 2000;
    options.worker_threads = 2;
    options.shutdown_grace = absl::Seconds(1);
    options.budget_store = "memory";
    options.sandbox = "process";
    if (tls) {
      options.tls_cert = certs_->server_cert;
      options.tls_key = certs_->server_key;
    }
    if (client_ca) options.tls_client_ca = certs_->ca_cert;
    return options;
  }

  void StartServer(bool tls, bool client_ca = false) {
    auto started = server::VetServer::Start(Options(tls, client_ca));
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = *std::move(started);
    addr_ = absl::StrCat("127.0.0.1:", server_->port());
  }

  // GetBudget of the demo practice over a channel with `credentials`.
  grpc::Status GetBudget(const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
    auto stub = v1::AnalyticsService::NewStub(grpc::CreateChannel(addr_, credentials));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    context.AddMetadata("x-api-key", kDemoKey);
    v1::GetBudgetRequest request;
    request.set_practice_id("demo");
    v1::Budget budget;
    return stub->GetBudget(&context, request, &budget);
  }

  static std::shared_ptr<grpc::ChannelCredentials> Trusting(const std::string& ca,
                                                            const std::string& cert = "",
                                                            const std::string& key = "") {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = testing::ReadFileOrEmpty(ca);
    if (!cert.empty()) {
      ssl.pem_cert_chain = testing::ReadFileOrEmpty(cert);
      ssl.pem_private_key = testing::ReadFileOrEmpty(key);
    }
    return grpc::SslCredentials(ssl);
  }

  struct VetctlResult {
    int exit_code;
    std::string out;
    std::string err;
  };

  // `vetctl budget` against the server with `flags` (its address and key
  // filled in).
  VetctlResult VetctlBudget(cli::FlagValues flags) { return Vetctl({"budget"}, std::move(flags)); }

  // `vetctl bench` of one question, ending once it is answered.
  VetctlResult VetctlBench(cli::FlagValues flags) {
    flags.streams = 1;
    flags.warmup_seconds = 0;
    flags.duration_seconds = 60;
    flags.max_questions = 1;
    flags.json = true;
    return Vetctl({"bench", "How many clients do we have?"}, flags);
  }

  VetctlResult Vetctl(const std::vector<std::string>& args, cli::FlagValues flags) {
    flags.addr = addr_;
    flags.api_key = kDemoKey;
    flags.timeout = "30";
    auto inv = cli::ParseInvocation(args, flags, cli::Environment());
    EXPECT_TRUE(inv.ok()) << inv.status();
    if (!inv.ok()) return {-1, "", ""};
    std::ostringstream out, err;
    cli::CallCanceller canceller;
    const int code = cli::Run(*inv, cli::Console{out, err}, canceller);
    return {code, out.str(), err.str()};
  }

  static testing::TestCerts* certs_;
  std::unique_ptr<server::VetServer> server_;
  std::string addr_;
};

testing::TestCerts* TlsIntegrationTest::certs_ = nullptr;

TEST_F(TlsIntegrationTest, AnswersAClientThatTrustsItsCa) {
  StartServer(/*tls=*/true);
  EXPECT_TRUE(GetBudget(Trusting(certs_->ca_cert)).ok());

  cli::FlagValues flags;
  flags.ca_cert = certs_->ca_cert;
  VetctlResult vetctl = VetctlBudget(flags);
  EXPECT_EQ(vetctl.exit_code, 0) << vetctl.err;
  EXPECT_NE(vetctl.out, "");
}

TEST_F(TlsIntegrationTest, RefusesAPlaintextClient) {
  StartServer(/*tls=*/true);
  EXPECT_EQ(GetBudget(grpc::InsecureChannelCredentials()).error_code(),
            grpc::StatusCode::UNAVAILABLE);

  VetctlResult vetctl = VetctlBudget(cli::FlagValues());
  EXPECT_EQ(vetctl.exit_code, kExitUnavailable);
  EXPECT_THAT(vetctl.err, HasSubstr(addr_));
  EXPECT_THAT(vetctl.err, HasSubstr("if it serves TLS, pass --ca_cert"));
}

TEST_F(TlsIntegrationTest, AClientThatDoesNotTrustTheCaFailsSayingSo) {
  StartServer(/*tls=*/true);
  EXPECT_EQ(GetBudget(Trusting(certs_->other_ca_cert)).error_code(), grpc::StatusCode::UNAVAILABLE);

  cli::FlagValues flags;
  flags.ca_cert = certs_->other_ca_cert;
  VetctlResult vetctl = VetctlBudget(flags);
  EXPECT_EQ(vetctl.exit_code, kExitUnavailable);
  EXPECT_THAT(vetctl.err, HasSubstr(absl::StrCat("TLS with the server at ", addr_, " failed")));
  EXPECT_THAT(vetctl.err, HasSubstr("certificate is not trusted"));
}

TEST_F(TlsIntegrationTest, ATlsClientOfAPlaintextServerFailsSayingSo) {
  StartServer(/*tls=*/false);
  cli::FlagValues flags;
  flags.ca_cert = certs_->ca_cert;
  VetctlResult vetctl = VetctlBudget(flags);
  EXPECT_EQ(vetctl.exit_code, kExitUnavailable);
  EXPECT_THAT(vetctl.err, HasSubstr(absl::StrCat("TLS with the server at ", addr_, " failed")));
  EXPECT_THAT(vetctl.err, HasSubstr("does not speak TLS"));
}

TEST_F(TlsIntegrationTest, MutualTlsAnswersOnlyClientsWithACertificateOfItsCa) {
  StartServer(/*tls=*/true, /*client_ca=*/true);
  EXPECT_EQ(GetBudget(Trusting(certs_->ca_cert)).error_code(), grpc::StatusCode::UNAVAILABLE)
      << "no client certificate";
  EXPECT_EQ(
      GetBudget(Trusting(certs_->ca_cert, certs_->other_client_cert, certs_->other_client_key))
          .error_code(),
      grpc::StatusCode::UNAVAILABLE)
      << "a client certificate of another CA";
  EXPECT_TRUE(GetBudget(Trusting(certs_->ca_cert, certs_->client_cert, certs_->client_key)).ok());

  cli::FlagValues flags;
  flags.ca_cert = certs_->ca_cert;
  VetctlResult without = VetctlBudget(flags);
  EXPECT_EQ(without.exit_code, kExitUnavailable);
  EXPECT_THAT(without.err, HasSubstr(absl::StrCat("TLS with the server at ", addr_, " failed")));
  EXPECT_THAT(without.err, HasSubstr("may require a client certificate"));
  flags.client_cert = certs_->other_client_cert;
  flags.client_key = certs_->other_client_key;
  VetctlResult other = VetctlBudget(flags);
  EXPECT_EQ(other.exit_code, kExitUnavailable);
  EXPECT_THAT(other.err, HasSubstr("may not accept the client certificate"));
  flags.client_cert = certs_->client_cert;
  flags.client_key = certs_->client_key;
  VetctlResult with = VetctlBudget(flags);
  EXPECT_EQ(with.exit_code, 0) << with.err;
}

TEST_F(TlsIntegrationTest, BenchConnectsWithTheSameTlsSettings) {
  StartServer(/*tls=*/true, /*client_ca=*/true);
  cli::FlagValues flags;
  flags.ca_cert = certs_->ca_cert;
  VetctlResult refused = VetctlBench(flags);
  EXPECT_EQ(refused.exit_code, kExitUnavailable);
  EXPECT_THAT(refused.err, HasSubstr(absl::StrCat(addr_, " over TLS")));

  flags.client_cert = certs_->client_cert;
  flags.client_key = certs_->client_key;
  VetctlResult answered = VetctlBench(flags);
  EXPECT_EQ(answered.exit_code, 0) << answered.err;
  EXPECT_THAT(answered.out, HasSubstr("\"streams\":1"));
}

TEST_F(TlsIntegrationTest, VetctlRefusesAnUnreadableCaFileNamingIt) {
  StartServer(/*tls=*/false);
  cli::FlagValues flags;
  flags.ca_cert = "/nonexistent/ca.pem";
  VetctlResult vetctl = VetctlBudget(flags);
  EXPECT_EQ(vetctl.exit_code, 2);
  EXPECT_THAT(vetctl.err, HasSubstr("--ca_cert"));
  EXPECT_THAT(vetctl.err, HasSubstr("/nonexistent/ca.pem"));

  VetctlResult bench = VetctlBench(flags);
  EXPECT_EQ(bench.exit_code, 2);
  EXPECT_THAT(bench.err, HasSubstr("--ca_cert '/nonexistent/ca.pem' cannot be read"));
}

TEST_F(TlsIntegrationTest, ServerRefusesToStartWithACertButNoKey) {
  server::ServerOptions options = Options(/*tls=*/true, /*client_ca=*/false);
  options.tls_key = "";
  EXPECT_THAT(server::VetServer::Start(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls_key")));
  options = Options(/*tls=*/true, /*client_ca=*/false);
  options.tls_key = "/nonexistent/key.pem";
  EXPECT_THAT(server::VetServer::Start(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("/nonexistent/key.pem")));
}

}  // namespace
}  // namespace vet
