// Serving the components (components.h) over gRPC: the analytics service,
// health checking, reflection, and the HTTP gateway as a client of the
// server's in-process channel.
#include "server/server.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/common/log.h"
#include "core/common/status_macros.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/channel_arguments.h"
#include "proto/served_descriptors.h"
#include "server/analytics_service.h"
#include "server/components.h"
#include "server/grpc_log.h"
#include "server/http_gateway.h"
#include "server/protobuf_log.h"
#include "server/reflection_service.h"

namespace vet::server {

constexpr char kServiceName[] = "vetanalytics.v1.AnalyticsService";

// Destroyed in reverse order: the gateway (a client of the server), the
// server, then the components (their pools stop first), and last the
// services the server called.
struct VetServer::State {
  std::unique_ptr<AnalyticsService> service;
  // Reflection v1 and v1alpha, with the proto's comments.
  std::unique_ptr<ReflectionServices> reflection;
  std::unique_ptr<Components> components;
  std::unique_ptr<grpc::Server> server;
  // A client of `server` (its in-process channel): destroyed first.
  std::unique_ptr<HttpGateway> gateway;
  int port = 0;

  absl::Mutex mu;
  bool shutdown_started ABSL_GUARDED_BY(mu) = false;
  bool shutdown_done ABSL_GUARDED_BY(mu) = false;
};

namespace {

// The gRPC listener's credentials: plaintext when `tls` holds no
// certificate, TLS, or TLS that requires a client certificate signed by
// tls.client_ca.
std::shared_ptr<grpc::ServerCredentials> ListenerCredentials(TlsFiles tls) {
  if (tls.cert_chain.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl(
      tls.client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                            : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = std::move(tls.client_ca);
  ssl.pem_key_cert_pairs.push_back({std::move(tls.private_key), std::move(tls.cert_chain)});
  return grpc::SslServerCredentials(ssl);
}

// The HTTP gateway, a client of `server` through its in-process channel.
absl::StatusOr<std::unique_ptr<HttpGateway>> StartGateway(const ServerOptions& options,
                                                          grpc::Server& server) {
  HttpGateway::Options gateway;
  gateway.listen = options.http_listen;
  gateway.threads = options.http_threads;
  gateway.max_streams = options.http_max_streams;
  gateway.max_body_bytes = options.http_max_body_bytes;
  gateway.write_timeout = options.http_write_timeout;
  gateway.keepalive = options.http_keepalive;
  grpc::ChannelArguments args;
  return HttpGateway::Start(std::move(gateway), server.InProcessChannel(args));
}

}  // namespace

absl::StatusOr<int> VetServer::SweepNow() { return SweepOnce(*state_->components); }

absl::StatusOr<std::unique_ptr<VetServer>> VetServer::Start(const ServerOptions& options,
                                                            const Clock& clock) {
  VET_RETURN_IF_ERROR(ValidateServerOptions(options));
  RouteProtobufLog();
  RouteGrpcLog();
  // Read before anything is built, so that a bad file stops the server
  // before the demo data or the sandbox is made.
  VET_ASSIGN_OR_RETURN(TlsFiles tls_files, ReadTlsFiles(options));
  auto state = std::make_unique<State>();
  State& s = *state;
  VET_ASSIGN_OR_RETURN(s.components, BuildComponents(options, clock));
  Components& c = *s.components;
  s.service = std::make_unique<AnalyticsService>(AnalyticsService::Deps{
      c.practices.get(), c.pipeline.get(), c.budget.get(), c.sessions.get(), c.datasets.get(),
      c.data.get(), c.pool.get(), c.import_pool.get(), c.metrics.get(), &clock,
      data::ImportLimits{options.max_import_bytes, /*keep_versions=*/3,
                         options.max_import_memory_mb << 20},
      c.admission.get(), options.max_buffered_event_bytes, options.stalled_stream_limit,
      c.audit.get(), c.audit_store.get(), c.tracer.get()});

  grpc::EnableDefaultHealthCheckService(true);
  VET_ASSIGN_OR_RETURN(s.reflection,
                       ReflectionServices::Create(proto::ServedDescriptorSet(),
                                                  {kServiceName, "grpc.health.v1.Health",
                                                   "grpc.reflection.v1.ServerReflection",
                                                   "grpc.reflection.v1alpha.ServerReflection"}));
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default, which would let a second server start
  // on a port in use and silently take half its calls.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(options.listen, ListenerCredentials(std::move(tls_files)), &s.port);
  builder.RegisterService(s.service.get());
  builder.RegisterService(s.reflection->v1());
  builder.RegisterService(s.reflection->v1alpha());
  s.server = builder.BuildAndStart();
  if (s.server == nullptr || s.port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen, " (in use, or not a local address?)"));
  }
  s.server->GetHealthCheckService()->SetServingStatus(kServiceName, true);
  s.server->GetHealthCheckService()->SetServingStatus("", true);
  if (!options.http_listen.empty()) {
    if (TlsEnabled(options)) {
      LogWarning(
          "--http_listen serves plain HTTP even with --tls_cert: keep it on 127.0.0.1 "
          "or put a TLS proxy in front");
    }
    VET_ASSIGN_OR_RETURN(s.gateway, StartGateway(options, *s.server));
  }
  const char* transport = !TlsEnabled(options)            ? "plaintext"
                          : options.tls_client_ca.empty() ? "TLS"
                                                          : "mutual TLS";
  // The port is followed by ';': scripts and tests read it up to there.
  LogInfo(
      "vet-analytics listening on ", options.listen.substr(0, options.listen.rfind(':')), ":",
      s.port, "; ", transport, "; practices: ", PracticeIds(*c.practices),
      c.metrics_port ? absl::StrCat("; metrics on port ", c.metrics_port, " (plain HTTP)") : "");
  if (s.gateway != nullptr) {
    // Like the line above, scripts and tests read the port up to the '/'.
    LogInfo("HTTP gateway and web console on http://",
            options.http_listen.substr(0, options.http_listen.rfind(':')), ":", s.gateway->port(),
            "/");
  }
  return std::unique_ptr<VetServer>(new VetServer(std::move(state)));
}

VetServer::VetServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

VetServer::~VetServer() {
  Shutdown(absl::ZeroDuration());
  Wait();
}

int VetServer::port() const { return state_->port; }
int VetServer::metrics_port() const { return state_->components->metrics_port; }
int VetServer::http_port() const {
  return state_->gateway != nullptr ? state_->gateway->port() : 0;
}

absl::Status VetServer::ReloadPractices() { return server::ReloadPractices(*state_->components); }

void VetServer::Shutdown(absl::Duration grace) {
  {
    absl::MutexLock lock(&state_->mu);
    if (state_->shutdown_started) return;
    state_->shutdown_started = true;
  }
  state_->server->GetHealthCheckService()->Shutdown();
  // Waits for in-flight calls until the deadline, then cancels them; the
  // pipeline sees the cancellation and the calls finish.
  state_->server->Shutdown(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(grace));
  // After the gRPC server: its questions, the gateway's among them, have
  // finished or been cancelled, so the gateway's threads come back.
  if (state_->gateway != nullptr) state_->gateway->Stop();
  absl::MutexLock lock(&state_->mu);
  state_->shutdown_done = true;
}

void VetServer::Wait() {
  absl::MutexLock lock(&state_->mu);
  state_->mu.Await(absl::Condition(&state_->shutdown_done));
}

}  // namespace vet::server
