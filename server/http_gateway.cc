// civetweb serves the requests, one thread each. A unary route is a blocking
// gRPC call on that thread. POST /v1/ask is a client read reactor feeding a
// small queue that the request thread drains into server-sent events; the
// reactor reads ahead only a few events, so a slow HTTP client slows the gRPC
// stream down (and the server's own bound on unread events applies) instead
// of filling the gateway's memory.
#include "server/http_gateway.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <functional>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "civetweb.h"
#include "core/common/log.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "vetanalytics/v1/analytics.grpc.pb.h"

namespace vet::server {
namespace internal {
// The web console (server/console/), embedded at build time.
absl::string_view ConsoleIndexHtml();
absl::string_view ConsoleJs();
absl::string_view ConsoleCss();
}  // namespace internal

namespace v1 = ::vetanalytics::v1;
namespace {

// Unary calls are store reads and writes: a minute is far past any healthy one.
constexpr auto kUnaryDeadline = std::chrono::seconds(60);
// Events the Ask reactor reads ahead of the HTTP client (each at most 1 MiB).
constexpr size_t kReadAhead = 4;
// Request headers forwarded as gRPC metadata, unchanged.
constexpr const char* kForwardedHeaders[] = {"x-api-key", "authorization", "x-practice-id",
                                             "traceparent", "tracestate"};

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  // Explicit false and 0 ("allowed": false) read better than absent fields;
  // proto3 JSON parsers accept both.
  options.always_print_primitive_fields = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) {
    return "{}";  // Cannot happen for our messages (no Any, valid UTF-8).
  }
  return json;
}

std::string GatewayErrorJson(grpc::StatusCode code, const std::string& message) {
  return ErrorJson(grpc::Status(code, message));
}

// Headers that every response carries: the console is the only page, and
// it loads nothing from anywhere else.
constexpr char kCommonHeaders[] =
    "Cache-Control: no-store\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "X-Frame-Options: DENY\r\n"
    "Connection: close\r\n";

bool WriteAll(mg_connection* conn, absl::string_view bytes) {
  if (bytes.empty()) return true;
  return mg_write(conn, bytes.data(), bytes.size()) == static_cast<int>(bytes.size());
}

void Reply(mg_connection* conn, int http_status, absl::string_view content_type,
           absl::string_view body, absl::string_view extra_headers = "") {
  std::string head =
      absl::StrCat("HTTP/1.1 ", http_status, " ", mg_get_response_code_text(conn, http_status),
                   "\r\n", "Content-Type: ", content_type, "\r\n", "Content-Length: ", body.size(),
                   "\r\n", kCommonHeaders, extra_headers, "\r\n");
  if (WriteAll(conn, head)) WriteAll(conn, body);
}

void ReplyError(mg_connection* conn, const grpc::Status& status,
                absl::string_view extra_headers = "") {
  Reply(conn, HttpStatusFor(status.error_code()), "application/json", ErrorJson(status),
        extra_headers);
}

// The value of query parameter `name`, or "" when absent.
std::string QueryParam(const mg_request_info* info, const char* name) {
  if (info->query_string == nullptr) return "";
  std::string value(std::strlen(info->query_string) + 1, '\0');
  int n = mg_get_var(info->query_string, std::strlen(info->query_string), name, value.data(),
                     value.size());
  if (n < 0) return "";
  value.resize(n);
  return value;
}

// Header values become gRPC metadata, which allows printable ASCII only.
bool PrintableAscii(absl::string_view value) {
  return std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// Copies the forwarded headers into the call's metadata. Returns an
// INVALID_ARGUMENT status naming a header gRPC would refuse.
grpc::Status ForwardHeaders(mg_connection* conn, grpc::ClientContext& context) {
  for (const char* name : kForwardedHeaders) {
    const char* value = mg_get_header(conn, name);
    if (value == nullptr) continue;
    if (!PrintableAscii(value)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat("header ", name,
                                       " holds characters that are not "
                                       "printable ASCII"));
    }
    context.AddMetadata(name, value);
  }
  return grpc::Status::OK;
}

// The server's traceparent for the call, as a response header line.
std::string TraceHeader(const grpc::ClientContext& context) {
  const auto& metadata = context.GetServerInitialMetadata();
  auto it = metadata.find("traceparent");
  if (it == metadata.end()) return "";
  std::string value(it->second.data(), it->second.size());
  if (!PrintableAscii(value)) return "";
  return absl::StrCat("traceparent: ", value, "\r\n");
}

// The snake_case name of an event's kind: "session_started", ...
std::string EventKind(const v1::AskEvent& event) {
  const auto* oneof = v1::AskEvent::GetDescriptor()->FindOneofByName("event");
  const auto* field = v1::AskEvent::GetReflection()->GetOneofFieldDescriptor(event, oneof);
  return field != nullptr ? field->name() : "unknown";
}

// One Ask, read by a client reactor into a bounded queue that the request
// thread drains. Owned by the request thread, which waits for OnDone before
// letting go.
class AskStream : public grpc::ClientReadReactor<v1::AskEvent> {
 public:
  enum class Next { kEvent, kIdle, kEnd };

  void Start(v1::AnalyticsService::Stub& stub, const v1::AskRequest& request) {
    request_ = request;
    stub.async()->Ask(&context_, &request_, this);
    {
      absl::MutexLock lock(&mu_);
      reading_ = true;
    }
    StartRead(&incoming_);
    StartCall();
  }

  grpc::ClientContext& context() { return context_; }

  // Waits up to `timeout` for the next event (kEvent, moved into *event),
  // the end of the call (kEnd, see status()) or neither (kIdle).
  Next Wait(absl::Duration timeout, v1::AskEvent* event) {
    bool read_more = false;
    Next next;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !queue_.empty() || done_; };
      mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
      if (!queue_.empty()) {
        *event = std::move(queue_.front());
        queue_.pop_front();
        if (!reading_ && !read_ended_) read_more = reading_ = true;
        next = Next::kEvent;
      } else {
        next = done_ ? Next::kEnd : Next::kIdle;
      }
    }
    // Outside the lock: a reaction may run on this thread.
    if (read_more) StartRead(&incoming_);
    return next;
  }

  // Cancels the call (the HTTP client went away); OnDone follows.
  void Cancel() { context_.TryCancel(); }

  // Blocks until OnDone has run, then returns the call's status.
  grpc::Status AwaitDone() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
    return status_;
  }

  // The traceparent response header line (after the first event).
  std::string trace_header() {
    absl::MutexLock lock(&mu_);
    return trace_header_;
  }

  void OnReadDone(bool ok) override {
    bool read_more = false;
    {
      absl::MutexLock lock(&mu_);
      reading_ = false;
      if (!ok) {
        read_ended_ = true;
        return;
      }
      if (trace_header_.empty()) trace_header_ = TraceHeader(context_);
      queue_.push_back(std::move(incoming_));
      if (queue_.size() < kReadAhead) read_more = reading_ = true;
    }
    if (read_more) StartRead(&incoming_);
  }

  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }

 private:
  grpc::ClientContext context_;
  v1::AskRequest request_;
  // Written by the read in flight only (one at a time, `reading_`).
  v1::AskEvent incoming_;
  absl::Mutex mu_;
  std::deque<v1::AskEvent> queue_ ABSL_GUARDED_BY(mu_);
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool read_ended_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  std::string trace_header_ ABSL_GUARDED_BY(mu_);
};

int CivetLog(const mg_connection*, const char* message) {
  LogWarning("http gateway: ", message);
  return 1;  // handled: civetweb writes nothing itself
}

}  // namespace

class HttpGateway::Impl {
 public:
  Impl(Options options, std::shared_ptr<grpc::Channel> channel)
      : options_(std::move(options)),
        channel_(std::move(channel)),
        stub_(v1::AnalyticsService::NewStub(channel_)) {}

  ~Impl() { Stop(); }

  absl::Status Start();
  void Stop();
  int port() const { return port_; }
  int open_streams() const { return open_streams_.load(); }
  const Options& options() const { return options_; }

  static int HandleApi(mg_connection* conn, void* self) {
    static_cast<Impl*>(self)->Api(conn);
    return 1;
  }
  static int HandleStatic(mg_connection* conn, void* self) {
    static_cast<Impl*>(self)->Static(conn);
    return 1;
  }

 private:
  void Api(mg_connection* conn);
  void Static(mg_connection* conn);
  void Ask(mg_connection* conn);
  // Reads the whole body into *body; on failure replies and returns false.
  bool ReadBody(mg_connection* conn, std::string* body);
  // Prepares a unary call's context; on failure replies and returns false.
  bool PrepareCall(mg_connection* conn, grpc::ClientContext& context);
  template <typename Request, typename Response>
  void Unary(mg_connection* conn, const Request& request,
             grpc::Status (v1::AnalyticsService::Stub::*method)(grpc::ClientContext*,
                                                                const Request&, Response*));

  const Options options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AnalyticsService::Stub> stub_;
  mg_context* ctx_ = nullptr;
  int port_ = 0;
  std::atomic<int> open_streams_{0};

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Open event streams, cancelled by Stop.
  std::set<AskStream*> streams_ ABSL_GUARDED_BY(mu_);
};

absl::Status HttpGateway::Impl::Start() {
  const size_t colon = options_.listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == options_.listen.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http_listen '", options_.listen, "' is not host:port"));
  }
  // civetweb takes a bare port for all addresses and host:port otherwise.
  std::string host = options_.listen.substr(0, colon);
  if (host == "0.0.0.0" || host == "*" || host.empty()) host.clear();
  std::string ports =
      absl::StrCat(host.empty() ? "" : absl::StrCat(host, ":"), options_.listen.substr(colon + 1));
  const std::string threads = absl::StrCat(options_.threads);
  const std::string timeout_ms =
      absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(options_.write_timeout)));
  // request_timeout_ms bounds each read and each write of a request: a
  // client that stops reading its event stream frees the thread after it.
  const char* config[] = {
      "listening_ports",  ports.c_str(),       "num_threads", threads.c_str(), "request_timeout_ms",
      timeout_ms.c_str(), "enable_keep_alive", "no",          nullptr};
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof(callbacks));
  callbacks.log_message = CivetLog;
  ctx_ = mg_start(&callbacks, this, config);
  if (ctx_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.listen,
                                               " for HTTP (in use, or not a local address)"));
  }
  mg_server_port bound[4];
  const int n = mg_get_server_ports(ctx_, 4, bound);
  if (n > 0) port_ = bound[0].port;
  mg_set_request_handler(ctx_, "/v1", &Impl::HandleApi, this);
  mg_set_request_handler(ctx_, "/", &Impl::HandleStatic, this);
  return absl::OkStatus();
}

void HttpGateway::Impl::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    for (AskStream* stream : streams_) stream->Cancel();
  }
  // Waits for every request thread; a thread blocked on a client that does
  // not read returns within write_timeout.
  if (ctx_ != nullptr) mg_stop(ctx_);
  ctx_ = nullptr;
}

bool HttpGateway::Impl::ReadBody(mg_connection* conn, std::string* body) {
  const mg_request_info* info = mg_get_request_info(conn);
  const int64_t cap = options_.max_body_bytes;
  const std::string too_large = absl::StrCat("the request body is larger than ", cap, " bytes");
  if (info->content_length > cap) {
    Reply(conn, 413, "application/json",
          GatewayErrorJson(grpc::StatusCode::INVALID_ARGUMENT, too_large));
    return false;
  }
  // Chunked bodies have no length: read up to one byte past the cap.
  char buffer[8192];
  while (static_cast<int64_t>(body->size()) <= cap) {
    const int n = mg_read(conn, buffer, sizeof(buffer));
    if (n <= 0) break;
    body->append(buffer, n);
  }
  if (static_cast<int64_t>(body->size()) > cap) {
    Reply(conn, 413, "application/json",
          GatewayErrorJson(grpc::StatusCode::INVALID_ARGUMENT, too_large));
    return false;
  }
  return true;
}

bool HttpGateway::Impl::PrepareCall(mg_connection* conn, grpc::ClientContext& context) {
  grpc::Status forwarded = ForwardHeaders(conn, context);
  if (!forwarded.ok()) {
    ReplyError(conn, forwarded);
    return false;
  }
  return true;
}

template <typename Request, typename Response>
void HttpGateway::Impl::Unary(mg_connection* conn, const Request& request,
                              grpc::Status (v1::AnalyticsService::Stub::*method)(
                                  grpc::ClientContext*, const Request&, Response*)) {
  grpc::ClientContext context;
  if (!PrepareCall(conn, context)) return;
  context.set_deadline(std::chrono::system_clock::now() + kUnaryDeadline);
  Response response;
  grpc::Status status = ((*stub_).*method)(&context, request, &response);
  const std::string trace = TraceHeader(context);
  if (!status.ok()) {
    ReplyError(conn, status, trace);
    return;
  }
  Reply(conn, 200, "application/json", ToJson(response), trace);
}

void HttpGateway::Impl::Api(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  const absl::string_view method = info->request_method;
  const absl::string_view path = info->local_uri;
  const std::string practice_id = QueryParam(info, "practice_id");
  auto method_not_allowed = [&](absl::string_view allowed) {
    Reply(conn, 405, "application/json",
          GatewayErrorJson(grpc::StatusCode::UNIMPLEMENTED,
                           absl::StrCat(path, " answers ", allowed, ", not ", method)),
          absl::StrCat("Allow: ", allowed, "\r\n"));
  };

  if (path == "/v1/ask") {
    if (method != "POST") return method_not_allowed("POST");
    return Ask(conn);
  }
  if (path == "/v1/budget") {
    if (method != "GET") return method_not_allowed("GET");
    v1::GetBudgetRequest request;
    request.set_practice_id(practice_id);
    return Unary(conn, request, &v1::AnalyticsService::Stub::GetBudget);
  }
  if (path == "/v1/dataset") {
    if (method != "GET") return method_not_allowed("GET");
    v1::DescribeDatasetRequest request;
    request.set_practice_id(practice_id);
    return Unary(conn, request, &v1::AnalyticsService::Stub::DescribeDataset);
  }
  if (path == "/v1/sessions") {
    if (method != "GET") return method_not_allowed("GET");
    v1::ListSessionsRequest request;
    request.set_practice_id(practice_id);
    const std::string page_size = QueryParam(info, "page_size");
    int size = 0;
    if (!page_size.empty() && !absl::SimpleAtoi(page_size, &size)) {
      return ReplyError(
          conn, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "page_size is not an integer"));
    }
    request.set_page_size(size);
    request.set_page_token(QueryParam(info, "page_token"));
    return Unary(conn, request, &v1::AnalyticsService::Stub::ListSessions);
  }
  absl::string_view session_id = path;
  if (absl::ConsumePrefix(&session_id, "/v1/sessions/") && !session_id.empty() &&
      !absl::StrContains(session_id, '/')) {
    if (method == "GET") {
      v1::GetSessionRequest request;
      request.set_practice_id(practice_id);
      request.set_session_id(std::string(session_id));
      return Unary(conn, request, &v1::AnalyticsService::Stub::GetSession);
    }
    if (method == "DELETE") {
      v1::EndSessionRequest request;
      request.set_practice_id(practice_id);
      request.set_session_id(std::string(session_id));
      return Unary(conn, request, &v1::AnalyticsService::Stub::EndSession);
    }
    return method_not_allowed("GET, DELETE");
  }
  ReplyError(conn,
             grpc::Status(grpc::StatusCode::NOT_FOUND,
                          absl::StrCat("no route ", method, " ", path, "; see docs/openapi.yaml")));
}

void HttpGateway::Impl::Ask(mg_connection* conn) {
  std::string body;
  if (!ReadBody(conn, &body)) return;
  v1::AskRequest request;
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = false;  // a misspelt field is an error, not silence
  auto parsed = google::protobuf::util::JsonStringToMessage(body, &request, parse);
  if (!parsed.ok()) {
    return ReplyError(conn, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                         absl::StrCat("the body is not an AskRequest in JSON: ",
                                                      parsed.message().substr(0, 200).ToString())));
  }
  if (open_streams_.fetch_add(1) >= options_.max_streams) {
    open_streams_.fetch_sub(1);
    return ReplyError(conn, grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                         absl::StrCat("the HTTP gateway has ", options_.max_streams,
                                                      " questions streaming; retry shortly")));
  }
  AskStream stream;
  if (!PrepareCall(conn, stream.context())) {
    open_streams_.fetch_sub(1);
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      open_streams_.fetch_sub(1);
      return ReplyError(conn,
                        grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
    }
    streams_.insert(&stream);
    // Started under the lock: Stop's TryCancel must find the call started
    // (a cancel before the call starts would be lost).
    stream.Start(*stub_, request);
  }

  // The HTTP status waits for the first event: a call refused before any
  // event (a bad key, a bad request, the server busy) answers with its own
  // status and the error JSON, like the unary routes; after that, the
  // stream ends with an `end` event (OK) or an `error` event.
  bool streaming = false;
  bool client_gone = false;
  v1::AskEvent event;
  while (true) {
    const AskStream::Next next = stream.Wait(options_.keepalive, &event);
    if (next == AskStream::Next::kEnd) break;
    if (next == AskStream::Next::kIdle) {
      if (streaming && !WriteAll(conn, ": keepalive\n\n")) {
        client_gone = true;
        break;
      }
      continue;
    }
    if (!streaming) {
      std::string head = absl::StrCat(
          "HTTP/1.1 200 OK\r\n"
          "Content-Type: text/event-stream; charset=utf-8\r\n"
          "X-Accel-Buffering: no\r\n",
          kCommonHeaders, stream.trace_header(), "\r\n");
      if (!WriteAll(conn, head)) {
        client_gone = true;
        break;
      }
      streaming = true;
    }
    // ToJson writes no newline, so the event's JSON is one data line.
    if (!WriteAll(conn, absl::StrCat("id: ", event.seq(), "\nevent: ", EventKind(event),
                                     "\ndata: ", ToJson(event), "\n\n"))) {
      client_gone = true;
      break;
    }
  }
  if (client_gone) stream.Cancel();
  const grpc::Status status = stream.AwaitDone();
  {
    absl::MutexLock lock(&mu_);
    streams_.erase(&stream);
  }
  open_streams_.fetch_sub(1);
  if (client_gone) return;
  if (!streaming) {
    if (status.ok()) {
      // An OK stream without events cannot happen; answer it plainly anyway.
      return Reply(conn, 200, "text/event-stream; charset=utf-8",
                   "event: end\ndata: {\"code\":\"OK\"}\n\n");
    }
    return ReplyError(conn, status);
  }
  if (status.ok()) {
    WriteAll(conn, "event: end\ndata: {\"code\":\"OK\"}\n\n");
  } else {
    WriteAll(conn, absl::StrCat("event: error\ndata: ", ErrorJson(status), "\n\n"));
  }
}

void HttpGateway::Impl::Static(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  const absl::string_view method = info->request_method;
  const absl::string_view path = info->local_uri;
  absl::string_view body;
  absl::string_view type;
  if (path == "/" || path == "/index.html") {
    body = internal::ConsoleIndexHtml();
    type = "text/html; charset=utf-8";
  } else if (path == "/console.js") {
    body = internal::ConsoleJs();
    type = "text/javascript; charset=utf-8";
  } else if (path == "/console.css") {
    body = internal::ConsoleCss();
    type = "text/css; charset=utf-8";
  } else {
    return Reply(conn, 404, "text/plain; charset=utf-8", "not found\n");
  }
  if (method != "GET" && method != "HEAD") {
    return Reply(conn, 405, "text/plain; charset=utf-8", "GET only\n", "Allow: GET, HEAD\r\n");
  }
  // The console talks only to this origin; charts are data: URLs.
  constexpr char kPolicy[] =
      "Content-Security-Policy: default-src 'self'; img-src 'self' data: blob:; "
      "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
      "base-uri 'none'; form-action 'self'\r\n";
  if (method == "HEAD") {
    std::string head =
        absl::StrCat("HTTP/1.1 200 OK\r\nContent-Type: ", type, "\r\nContent-Length: ", body.size(),
                     "\r\n", kCommonHeaders, kPolicy, "\r\n");
    WriteAll(conn, head);
    return;
  }
  Reply(conn, 200, type, body, kPolicy);
}

absl::StatusOr<std::unique_ptr<HttpGateway>> HttpGateway::Start(
    Options options, std::shared_ptr<grpc::Channel> channel) {
  if (options.threads < 2 || options.max_streams < 1 || options.max_streams >= options.threads) {
    return absl::InvalidArgumentError(
        "the HTTP gateway needs 1 <= max_streams < threads, so that some threads answer "
        "the other routes");
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(channel));
  absl::Status started = impl->Start();
  if (!started.ok()) return started;
  return std::unique_ptr<HttpGateway>(new HttpGateway(std::move(impl)));
}

HttpGateway::HttpGateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpGateway::~HttpGateway() = default;
int HttpGateway::port() const { return impl_->port(); }
void HttpGateway::Stop() { impl_->Stop(); }
int HttpGateway::open_streams() const { return impl_->open_streams(); }

const std::vector<HttpRoute>& ApiRoutes() {
  static const auto* routes = new std::vector<HttpRoute>{
      {"POST", "/v1/ask"},
      {"GET", "/v1/budget"},
      {"GET", "/v1/dataset"},
      {"GET", "/v1/sessions"},
      {"GET", "/v1/sessions/{session_id}"},
      {"DELETE", "/v1/sessions/{session_id}"},
  };
  return *routes;
}

int HttpStatusFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
      return 409;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::FAILED_PRECONDITION:
      return 400;
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    default:
      return 500;  // UNKNOWN, INTERNAL, DATA_LOSS
  }
}

std::string ErrorJson(const grpc::Status& status) {
  // Built by hand for a stable field order (code, message, details); the
  // message is escaped by protobuf's JSON printer.
  google::protobuf::Value message;
  message.set_string_value(status.error_message());
  std::string message_json;
  if (!google::protobuf::util::MessageToJsonString(message, &message_json).ok()) {
    message_json = "\"(the message is not valid UTF-8)\"";
  }
  // The google.rpc.Status details (ErrorInfo, RetryInfo, BadRequest), each
  // as proto3 JSON with its "@type", as gRPC-JSON transcoders render them.
  std::string details_json = "[";
  google::rpc::Status rpc;
  if (!status.error_details().empty() && rpc.ParseFromString(status.error_details())) {
    for (const google::protobuf::Any& detail : rpc.details()) {
      std::string one;
      if (!google::protobuf::util::MessageToJsonString(detail, &one).ok()) continue;
      if (details_json.size() > 1) details_json += ",";
      details_json += one;
    }
  }
  details_json += "]";
  return absl::StrCat("{\"code\":\"",
                      // absl and gRPC share the codes and their names.
                      absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
                      "\",\"message\":", message_json, ",\"details\":", details_json, "}");
}

}  // namespace vet::server
