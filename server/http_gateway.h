// HttpGateway: the HTTP/JSON face of the gRPC API (and the web console's
// static files), on its own listener (--http_listen). It is a gRPC client of
// the same server, through an in-process channel, so that authentication,
// validation, admission limits, audit, metrics and the order of Ask events
// are exactly those of the gRPC path: the gateway only converts (proto3 JSON
// both ways, one server-sent event per AskEvent, gRPC status to HTTP status).
#ifndef VET_SERVER_HTTP_GATEWAY_H_
#define VET_SERVER_HTTP_GATEWAY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/status.h"

namespace vet::server {

class HttpGateway {
 public:
  struct Options {
    // "host:port"; port 0 picks a free port (see port()).
    std::string listen = "127.0.0.1:8080";
    // HTTP worker threads. Every open request holds one, an event stream for
    // as long as its question runs.
    int threads = 64;
    // Event streams (POST /v1/ask) open at once; past it 503 UNAVAILABLE,
    // so that some threads always answer the other routes. The server's own
    // admission limits (--max_streams, per practice, rate) apply as well,
    // through the gRPC call.
    int max_streams = 48;
    // Largest request body; past it 413 and the connection is closed.
    int64_t max_body_bytes = 64 << 10;
    // How long one write may wait for a client that does not read (its
    // socket buffers full): past it the request is abandoned, its gRPC call
    // cancelled and its thread freed.
    absl::Duration write_timeout = absl::Seconds(30);
    // An event stream with no event for this long gets an SSE comment line;
    // writing it is how a client that went away is noticed (then the
    // question is cancelled).
    absl::Duration keepalive = absl::Seconds(10);
  };

  // Starts listening. `channel` reaches the AnalyticsService (normally the
  // server's InProcessChannel) and must stay usable until the gateway is
  // destroyed. Returns kUnavailable when the address cannot be bound,
  // kInvalidArgument for bad options. Plain HTTP only: Debian's civetweb
  // crashed serving HTTPS with a context set up in memory, so TLS is for a
  // proxy in front (README).
  static absl::StatusOr<std::unique_ptr<HttpGateway>> Start(Options options,
                                                            std::shared_ptr<grpc::Channel> channel);
  // Stops: cancels the questions of open event streams and waits for every
  // request thread to finish (at most about write_timeout).
  ~HttpGateway();

  // The bound port.
  int port() const;

  // Stops accepting requests, cancels the questions of open event streams
  // and waits for the request threads. Idempotent; thread-safe.
  void Stop();

  // Event streams open now (tests and metrics).
  int open_streams() const;

  class Impl;

 private:
  explicit HttpGateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A route the gateway serves: "GET" and "/v1/sessions/{session_id}".
// docs/openapi.yaml documents exactly these (a test checks both ways).
struct HttpRoute {
  std::string method;
  std::string path;
};
const std::vector<HttpRoute>& ApiRoutes();

// The HTTP status for a gRPC code (the mapping of google/rpc/code.proto):
// INVALID_ARGUMENT 400, UNAUTHENTICATED 401, PERMISSION_DENIED 403,
// NOT_FOUND 404, RESOURCE_EXHAUSTED 429, CANCELLED 499, UNAVAILABLE 503,
// DEADLINE_EXCEEDED 504, ...
int HttpStatusFor(grpc::StatusCode code);

// "RESOURCE_EXHAUSTED" for grpc::RESOURCE_EXHAUSTED, and so on.
const char* StatusCodeName(grpc::StatusCode code);

// The JSON body of an error: {"code": "NOT_FOUND", "message": "...",
// "details": [...]}, details decoded from status.error_details().
std::string ErrorJson(const grpc::Status& status);

}  // namespace vet::server

#endif  // VET_SERVER_HTTP_GATEWAY_H_
