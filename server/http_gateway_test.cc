// HttpGateway against a fake AnalyticsService on a real gRPC server (on
// loopback), driven by raw HTTP over sockets: events as SSE in order, errors
// as JSON with their HTTP status, forwarded headers, the body cap, the bound
// on streams, a client that goes away and one that never reads (both cancel
// the gRPC call), and docs/openapi.yaml against the routes served.
#include "server/http_gateway.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/wait.h"
#include "vetanalytics/v1/analytics.grpc.pb.h"

namespace vet::server {
namespace {

namespace v1 = ::vetanalytics::v1;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// What the fake's Ask does, chosen by the question text.
class FakeService final : public v1::AnalyticsService::Service {
 public:
  grpc::Status Ask(grpc::ServerContext* context, const v1::AskRequest* request,
                   grpc::ServerWriter<v1::AskEvent>* writer) override {
    Record(context);
    const std::string& q = request->question();
    if (q == "refuse") {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "over budget");
    }
    v1::AskEvent started;
    started.set_seq(1);
    started.mutable_session_started()->set_session_id("s1");
    writer->Write(started);
    if (q == "hang") {
      hangs_.fetch_add(1);
      // Until the gateway cancels the call (or, long after any test's own
      // wait, gives up).
      bool cancelled =
          vet::testing::WaitUntil([&] { return context->IsCancelled(); }, absl::Seconds(120));
      if (cancelled) cancellations_.fetch_add(1);
      return grpc::Status::CANCELLED;
    }
    if (q == "flood") {
      // Megabyte artifacts until a write fails: the call was cancelled.
      v1::AskEvent big;
      big.mutable_artifact()->set_name("big.bin");
      big.mutable_artifact()->set_data(std::string(1 << 20, 'x'));
      for (int i = 0; i < 10'000; ++i) {
        big.set_seq(2 + i);
        if (!writer->Write(big)) break;
      }
      // A failed write may come just before the cancellation is visible.
      if (vet::testing::WaitUntil([&] { return context->IsCancelled(); })) {
        cancellations_.fetch_add(1);
      }
      return grpc::Status::CANCELLED;
    }
    v1::AskEvent budget;
    budget.set_seq(2);
    budget.mutable_budget_check()->set_allowed(q != "late error");
    writer->Write(budget);
    if (q == "late error") {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "the budget's hard cap");
    }
    v1::AskEvent answer;
    answer.set_seq(3);
    answer.mutable_final_answer()->set_text("42 \"cats\"\nand dogs");
    writer->Write(answer);
    return grpc::Status::OK;
  }

  grpc::Status GetBudget(grpc::ServerContext* context, const v1::GetBudgetRequest* request,
                         v1::Budget* response) override {
    Record(context);
    if (request->practice_id() != "demo") {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "not your practice");
    }
    context->AddInitialMetadata("traceparent",
                                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    response->set_practice_id(request->practice_id());
    response->set_limit_micros(5'000'000);
    return grpc::Status::OK;
  }

  grpc::Status GetSession(grpc::ServerContext* context, const v1::GetSessionRequest* request,
                          v1::Session* response) override {
    Record(context);
    response->set_session_id(request->session_id());
    response->set_practice_id(request->practice_id());
    return grpc::Status::OK;
  }

  grpc::Status EndSession(grpc::ServerContext* context, const v1::EndSessionRequest* request,
                          v1::EndSessionResponse*) override {
    Record(context);
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("no session ", request->session_id()));
  }

  grpc::Status ListSessions(grpc::ServerContext* context, const v1::ListSessionsRequest* request,
                            v1::ListSessionsResponse* response) override {
    Record(context);
    response->set_next_page_token(absl::StrCat(request->page_size(), "/", request->page_token()));
    return grpc::Status::OK;
  }

  grpc::Status DescribeDataset(grpc::ServerContext* context,
                               const v1::DescribeDatasetRequest* request,
                               v1::DatasetDescription* response) override {
    Record(context);
    response->set_practice_id(request->practice_id());
    return grpc::Status::OK;
  }

  std::multimap<std::string, std::string> last_metadata() {
    absl::MutexLock lock(&mu_);
    return metadata_;
  }
  int cancellations() const { return cancellations_.load(); }
  int hangs() const { return hangs_.load(); }

 private:
  void Record(grpc::ServerContext* context) {
    absl::MutexLock lock(&mu_);
    metadata_.clear();
    for (const auto& [k, v] : context->client_metadata()) {
      metadata_.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
    }
  }

  absl::Mutex mu_;
  std::multimap<std::string, std::string> metadata_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> cancellations_{0};
  std::atomic<int> hangs_{0};  // "hang" questions that reached the service
};

int Connect(int port, int receive_buffer = 0) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (receive_buffer > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string RequestText(const std::string& method, const std::string& path, const std::string& body,
                        const std::string& headers) {
  return absl::StrCat(
      method, " ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\n", headers,
      body.empty() && method != "POST"
          ? ""
          : absl::StrCat("Content-Type: application/json\r\nContent-Length: ", body.size(), "\r\n"),
      "\r\n", body);
}

void SendAll(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += n;
  }
}

// The whole response (the server closes every connection).
std::string Http(int port, const std::string& method, const std::string& path,
                 const std::string& body = "", const std::string& headers = "") {
  int fd = Connect(port);
  if (fd < 0) return "";
  SendAll(fd, RequestText(method, path, body, headers));
  std::string response;
  char buffer[65536];
  ssize_t n;
  while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) response.append(buffer, n);
  close(fd);
  return response;
}

std::string BodyOf(const std::string& response) {
  size_t at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

// One fake server and one gateway for the suite (stopping civetweb takes up
// to two seconds: its accept loop polls at that period); tests that need
// other options start a gateway of their own (Custom).
class HttpGatewayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    service_ = new FakeService();
    grpc::ServerBuilder builder;
    builder.RegisterService(service_);
    server_ = builder.BuildAndStart().release();
    ASSERT_NE(server_, nullptr);
    shared_ = Custom(HttpGateway::Options{}).release();
  }

  static void TearDownTestSuite() {
    delete shared_;
    server_->Shutdown(std::chrono::system_clock::now());
    delete server_;
    delete service_;
  }

  void SetUp() override {
    ASSERT_NE(shared_, nullptr);
    gateway_ = shared_;
    port_ = shared_->port();
    cancellations_before_ = service_->cancellations();
    hangs_before_ = service_->hangs();
  }

  static std::unique_ptr<HttpGateway> Custom(HttpGateway::Options options) {
    options.listen = "127.0.0.1:0";
    options.keepalive = absl::Milliseconds(20);
    auto gateway = HttpGateway::Start(options, server_->InProcessChannel(grpc::ChannelArguments()));
    EXPECT_TRUE(gateway.ok()) << gateway.status();
    return gateway.ok() ? *std::move(gateway) : nullptr;
  }

  // Uses `gateway` for the rest of the test.
  void Use(HttpGateway* gateway) {
    gateway_ = gateway;
    port_ = gateway->port();
  }

  int cancellations() const { return service_->cancellations() - cancellations_before_; }
  // "hang" questions of this test that reached the gRPC service: the gateway
  // counts a stream as open before its call gets there.
  int hangs() const { return service_->hangs() - hangs_before_; }

  std::string Ask(const std::string& question, const std::string& headers = "") {
    return Http(port_, "POST", "/v1/ask",
                absl::StrCat(R"({"practiceId": "demo", "question": ")", question, R"("})"),
                headers);
  }

  static FakeService* service_;
  static grpc::Server* server_;
  static HttpGateway* shared_;
  HttpGateway* gateway_ = nullptr;
  int port_ = 0;
  int cancellations_before_ = 0;
  int hangs_before_ = 0;
};

FakeService* HttpGatewayTest::service_ = nullptr;
grpc::Server* HttpGatewayTest::server_ = nullptr;
HttpGateway* HttpGatewayTest::shared_ = nullptr;

TEST(HttpStatusForTest, FollowsTheStandardMapping) {
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::OK), 200);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::INVALID_ARGUMENT), 400);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::FAILED_PRECONDITION), 400);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::UNAUTHENTICATED), 401);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::PERMISSION_DENIED), 403);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::NOT_FOUND), 404);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::ALREADY_EXISTS), 409);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::RESOURCE_EXHAUSTED), 429);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::CANCELLED), 499);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::INTERNAL), 500);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::UNIMPLEMENTED), 501);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::UNAVAILABLE), 503);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::DEADLINE_EXCEEDED), 504);
}

TEST(ErrorJsonTest, HoldsCodeEscapedMessageAndDetails) {
  EXPECT_EQ(ErrorJson(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "say \"when\"\n")),
            R"({"code":"RESOURCE_EXHAUSTED","message":"say \"when\"\n","details":[]})");
}

TEST_F(HttpGatewayTest, AskStreamsEveryEventInOrderAsServerSentEvents) {
  const std::string response = Ask("revenue");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(response, HasSubstr("Content-Type: text/event-stream"));
  const std::string body = BodyOf(response);
  const size_t started = body.find("id: 1\nevent: session_started\ndata: {");
  const size_t budget = body.find("id: 2\nevent: budget_check\ndata: {");
  const size_t answer = body.find("id: 3\nevent: final_answer\ndata: {");
  const size_t end = body.find("event: end\ndata: {\"code\":\"OK\"}\n\n");
  ASSERT_NE(started, std::string::npos) << body;
  EXPECT_LT(started, budget);
  EXPECT_LT(budget, answer);
  EXPECT_LT(answer, end);
  EXPECT_TRUE(absl::EndsWith(body, "event: end\ndata: {\"code\":\"OK\"}\n\n"));
  // Each data line is the event in proto3 JSON, newlines escaped.
  const size_t data = body.find("data: ", answer) + 6;
  v1::AskEvent event;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  body.substr(data, body.find('\n', data) - data), &event)
                  .ok());
  EXPECT_EQ(event.final_answer().text(), "42 \"cats\"\nand dogs");
}

TEST_F(HttpGatewayTest, ErrorBeforeAnyEventAnswersWithItsHttpStatusAndJson) {
  const std::string response = Ask("refuse");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 429 "));
  EXPECT_EQ(BodyOf(response),
            R"({"code":"RESOURCE_EXHAUSTED","message":"over budget","details":[]})");
}

TEST_F(HttpGatewayTest, ErrorAfterEventsEndsTheStreamWithAnErrorEvent) {
  const std::string response = Ask("late error");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_TRUE(absl::EndsWith(
      BodyOf(response),
      "event: error\ndata: {\"code\":\"RESOURCE_EXHAUSTED\",\"message\":\"the budget's hard "
      "cap\",\"details\":[]}\n\n"))
      << response;
}

TEST_F(HttpGatewayTest, ForwardsKeyPracticeAndTraceHeadersAsMetadata) {
  const std::string response =
      Http(port_, "GET", "/v1/budget?practice_id=demo", "",
           "Authorization: Bearer k-123\r\nx-api-key: k-456\r\nX-Practice-Id: demo\r\n"
           "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
           "Cookie: not-forwarded\r\n");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(response, HasSubstr("traceparent: 00-0af7651916cd43dd8448eb211c80319c-"));
  EXPECT_THAT(BodyOf(response), HasSubstr(R"("practiceId":"demo","limitMicros":"5000000")"));
  auto metadata = service_->last_metadata();
  EXPECT_EQ(metadata.find("authorization")->second, "Bearer k-123");
  EXPECT_EQ(metadata.find("x-api-key")->second, "k-456");
  EXPECT_EQ(metadata.find("x-practice-id")->second, "demo");
  EXPECT_EQ(metadata.find("traceparent")->second,
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_EQ(metadata.count("cookie"), 0u);
}

TEST_F(HttpGatewayTest, UnaryRoutesPassQueryAndPathAndMapErrors) {
  EXPECT_THAT(Http(port_, "GET", "/v1/budget?practice_id=other"), StartsWith("HTTP/1.1 403 "));
  EXPECT_THAT(BodyOf(Http(port_, "GET", "/v1/sessions/abc?practice_id=demo")),
              HasSubstr(R"("sessionId":"abc","practiceId":"demo")"));
  const std::string ended = Http(port_, "DELETE", "/v1/sessions/abc?practice_id=demo");
  EXPECT_THAT(ended, StartsWith("HTTP/1.1 404 "));
  EXPECT_EQ(BodyOf(ended), R"({"code":"NOT_FOUND","message":"no session abc","details":[]})");
  EXPECT_THAT(BodyOf(Http(port_, "GET", "/v1/sessions?practice_id=demo&page_size=5&page_token=t")),
              HasSubstr(R"("nextPageToken":"5/t")"));
  EXPECT_THAT(Http(port_, "GET", "/v1/sessions?practice_id=demo&page_size=five"),
              StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(BodyOf(Http(port_, "GET", "/v1/dataset?practice_id=demo")),
              HasSubstr(R"("practiceId":"demo")"));
}

TEST_F(HttpGatewayTest, RefusesUnknownRoutesWrongMethodsAndBadBodies) {
  const std::string unknown = Http(port_, "GET", "/v1/nothing");
  EXPECT_THAT(unknown, StartsWith("HTTP/1.1 404 "));
  EXPECT_THAT(BodyOf(unknown), HasSubstr("no route GET /v1/nothing"));
  const std::string wrong = Http(port_, "GET", "/v1/ask");
  EXPECT_THAT(wrong, StartsWith("HTTP/1.1 405 "));
  EXPECT_THAT(wrong, HasSubstr("Allow: POST\r\n"));
  const std::string typo = Http(port_, "POST", "/v1/ask", R"({"practiceId":"demo","qestion":"x"})");
  EXPECT_THAT(typo, StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(BodyOf(typo), HasSubstr("the body is not an AskRequest in JSON: qestion"));
  EXPECT_THAT(Http(port_, "POST", "/v1/ask", "not json"), StartsWith("HTTP/1.1 400 "));
  const std::string bad_header =
      Http(port_, "GET", "/v1/budget?practice_id=demo", "", "x-api-key: caf\xc3\xa9\r\n");
  EXPECT_THAT(bad_header, StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(BodyOf(bad_header), HasSubstr("header x-api-key holds characters"));
}

TEST_F(HttpGatewayTest, RefusesABodyPastTheCapWith413) {
  const std::string big(100'000, 'a');
  const std::string response = Http(port_, "POST", "/v1/ask", big);
  EXPECT_THAT(response, StartsWith("HTTP/1.1 413 "));
  EXPECT_EQ(
      BodyOf(response),
      R"({"code":"INVALID_ARGUMENT","message":"the request body is larger than 65536 bytes","details":[]})");
}

TEST_F(HttpGatewayTest, ClientThatGoesAwayCancelsTheQuestion) {
  int fd = Connect(port_);
  ASSERT_GE(fd, 0);
  SendAll(fd, RequestText("POST", "/v1/ask", R"({"practiceId":"demo","question":"hang"})", ""));
  std::string seen;
  char buffer[4096];
  while (!absl::StrContains(seen, "event: session_started")) {
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    ASSERT_GT(n, 0);
    seen.append(buffer, n);
  }
  EXPECT_EQ(gateway_->open_streams(), 1);
  close(fd);
  // The next keep-alive write fails: the gateway cancels the gRPC call.
  EXPECT_TRUE(vet::testing::WaitUntil([&] { return cancellations() == 1; }));
  EXPECT_TRUE(vet::testing::WaitUntil([&] { return gateway_->open_streams() == 0; }));
}

TEST_F(HttpGatewayTest, ClientThatNeverReadsIsDroppedAfterTheWriteTimeout) {
  HttpGateway::Options options;
  options.write_timeout = absl::Milliseconds(300);
  auto gateway = Custom(options);
  Use(gateway.get());
  int fd = Connect(port_, /*receive_buffer=*/4096);
  ASSERT_GE(fd, 0);
  SendAll(fd, RequestText("POST", "/v1/ask", R"({"practiceId":"demo","question":"flood"})", ""));
  // Never read: the socket buffers fill, a write waits past its timeout, the
  // gateway gives the thread back and cancels the call.
  EXPECT_TRUE(vet::testing::WaitUntil([&] { return cancellations() == 1; }, absl::Seconds(30)));
  EXPECT_TRUE(vet::testing::WaitUntil([&] { return gateway_->open_streams() == 0; }));
  close(fd);
  // And the gateway still answers.
  EXPECT_THAT(Ask("revenue"), StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST_F(HttpGatewayTest, StreamsPastTheBoundAreRefusedUnavailable) {
  HttpGateway::Options options;
  options.threads = 4;
  options.max_streams = 1;
  auto gateway = Custom(options);
  Use(gateway.get());
  int fd = Connect(port_);
  SendAll(fd, RequestText("POST", "/v1/ask", R"({"practiceId":"demo","question":"hang"})", ""));
  ASSERT_TRUE(vet::testing::WaitUntil([&] { return gateway_->open_streams() == 1; }));
  const std::string refused = Ask("revenue");
  EXPECT_THAT(refused, StartsWith("HTTP/1.1 503 "));
  EXPECT_THAT(
      BodyOf(refused),
      HasSubstr(
          R"("code":"UNAVAILABLE","message":"the HTTP gateway has 1 questions streaming; retry shortly")"));
  // The other routes still answer.
  EXPECT_THAT(Http(port_, "GET", "/v1/budget?practice_id=demo"), StartsWith("HTTP/1.1 200 "));
  close(fd);
  EXPECT_TRUE(vet::testing::WaitUntil([&] { return gateway_->open_streams() == 0; }));
}

TEST_F(HttpGatewayTest, StopCancelsOpenStreams) {
  auto gateway = Custom(HttpGateway::Options{});
  Use(gateway.get());
  int fd = Connect(port_);
  SendAll(fd, RequestText("POST", "/v1/ask", R"({"practiceId":"demo","question":"hang"})", ""));
  ASSERT_TRUE(
      vet::testing::WaitUntil([&] { return gateway_->open_streams() == 1 && hangs() == 1; }));
  gateway_->Stop();
  EXPECT_EQ(gateway_->open_streams(), 0);
  EXPECT_TRUE(vet::testing::WaitUntil([&] { return cancellations() == 1; }));
  close(fd);
}

TEST_F(HttpGatewayTest, ServesTheConsoleWithAStrictContentPolicy) {
  const std::string page = Http(port_, "GET", "/");
  EXPECT_THAT(page, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(page, HasSubstr("Content-Type: text/html; charset=utf-8"));
  EXPECT_THAT(page, HasSubstr("Content-Security-Policy: default-src 'self'"));
  EXPECT_THAT(BodyOf(page), HasSubstr("<html"));
  EXPECT_THAT(Http(port_, "GET", "/console.js"), HasSubstr("text/javascript"));
  EXPECT_THAT(Http(port_, "GET", "/console.css"), HasSubstr("text/css"));
  EXPECT_THAT(Http(port_, "GET", "/secret"), StartsWith("HTTP/1.1 404 "));
}

// docs/openapi.yaml's paths and methods, read by indentation: paths at two
// spaces under `paths:`, methods at four (the file keeps that layout).
std::set<std::string> DocumentedRoutes() {
  std::ifstream in(absl::StrCat(VET_SOURCE_DIR, "/docs/openapi.yaml"));
  std::set<std::string> routes;
  std::string line, path;
  bool in_paths = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != ' ' && line[0] != '#') in_paths = line == "paths:";
    if (!in_paths) continue;
    if (line.size() > 3 && line.rfind("  /", 0) == 0 && line.back() == ':') {
      path = line.substr(2, line.size() - 3);
      continue;
    }
    for (const char* method : {"get", "post", "put", "delete", "patch"}) {
      if (line == absl::StrCat("    ", method, ":")) {
        routes.insert(absl::StrCat(absl::AsciiStrToUpper(method), " ", path));
      }
    }
  }
  return routes;
}

TEST_F(HttpGatewayTest, OpenApiDocumentsExactlyTheRoutesServed) {
  std::set<std::string> served;
  for (const HttpRoute& route : ApiRoutes()) served.insert(route.method + " " + route.path);
  const std::set<std::string> documented = DocumentedRoutes();
  ASSERT_FALSE(documented.empty()) << "docs/openapi.yaml has no paths";
  EXPECT_EQ(documented, served);
  // And every documented route is really served (not the gateway's "no
  // route" or "wrong method" answer).
  for (const std::string& route : documented) {
    std::vector<std::string> parts = absl::StrSplit(route, ' ');
    std::string path = parts[1];
    absl::StrReplaceAll({{"{session_id}", "abc"}}, &path);
    const std::string response =
        Http(port_, parts[0], absl::StrCat(path, "?practice_id=demo"),
             parts[0] == "POST" ? R"({"practiceId":"demo","question":"revenue"})" : "");
    EXPECT_THAT(BodyOf(response), ::testing::Not(HasSubstr("no route"))) << route;
    EXPECT_THAT(response, ::testing::Not(StartsWith("HTTP/1.1 405"))) << route;
  }
}

}  // namespace
}  // namespace vet::server
