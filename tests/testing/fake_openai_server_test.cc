// Drives FakeOpenAiServer with plain libcurl, the transport the real Chat
// Completions client uses, so a fake that misbehaves shows up here rather
// than as a confusing failure in the client's tests.
#include "tests/testing/fake_openai_server.h"

#include <curl/curl.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/testing/fake_model.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"

namespace vet::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::SizeIs;

struct HttpResult {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::vector<std::string> header_lines;  // lower-cased, without CRLF

  bool HasHeader(const std::string& lower_line) const {
    for (const std::string& h : header_lines) {
      if (h == lower_line) return true;
    }
    return false;
  }
};

size_t AppendBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t AppendHeader(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  static_cast<std::vector<std::string>*>(user)->push_back(absl::AsciiStrToLower(line));
  return size * n;
}

// One curl easy handle; reusing it across Post() calls keeps its connection
// cache, which is what the keep-alive test relies on.
class Client {
 public:
  Client() : curl_(curl_easy_init()) {}
  ~Client() { curl_easy_cleanup(curl_); }

  HttpResult Post(const std::string& url, const std::string& body, long timeout_ms = 5000,
                  const std::vector<std::string>& extra_headers = {}) {
    HttpResult r;
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Authorization: Bearer sk-test-123");
    for (const std::string& h : extra_headers) headers = curl_slist_append(headers, h.c_str());
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    // Long enough that sitting it out is unmistakable on a loaded machine
    // (ExpectContinueIsAnswered).
    curl_easy_setopt(curl_, CURLOPT_EXPECT_100_TIMEOUT_MS, 10000L);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, AppendBody);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, AppendHeader);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &r.header_lines);
    r.code = curl_easy_perform(curl_);
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, nullptr);
    curl_slist_free_all(headers);
    return r;
  }

 private:
  CURL* curl_;
};

std::string CompletionsUrl(const FakeOpenAiServer& server) {
  return server.base_url() + "/chat/completions";
}

constexpr char kRequestBody[] =
    R"({"model":"gpt-5.2-mini","messages":[{"role":"user","content":"hi"}]})";

std::unique_ptr<FakeOpenAiServer> StartServer() {
  absl::StatusOr<std::unique_ptr<FakeOpenAiServer>> server = FakeOpenAiServer::Start();
  EXPECT_THAT(server, IsOk());
  return server.ok() ? std::move(*server) : nullptr;
}

TEST(FakeOpenAiServerTest, BaseUrlNamesLoopbackPort) {
  std::unique_ptr<FakeOpenAiServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);
  EXPECT_EQ(server->base_url(), absl::StrCat("http://127.0.0.1:", server->port(), "/v1"));
}

TEST(FakeOpenAiServerTest, ServesCompletion) {
  std::unique_ptr<FakeOpenAiServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  server->Enqueue(FakeOpenAiServer::Completion("Cats: 42", /*with_usage=*/true,
                                               /*prompt_tokens=*/11, /*completion_tokens=*/7));
  Client client;
  HttpResult r = client.Post(CompletionsUrl(*server), kRequestBody);
  ASSERT_EQ(r.code, CURLE_OK) << curl_easy_strerror(r.code);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.HasHeader("content-type: application/json"));

  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  ASSERT_FALSE(doc.HasParseError()) << r.body;
  EXPECT_STREQ(doc["object"].GetString(), "chat.completion");
  EXPECT_STREQ(doc["model"].GetString(), "gpt-5.2-mini");
  const rapidjson::Value& choice = doc["choices"][0];
  EXPECT_STREQ(choice["message"]["role"].GetString(), "assistant");
  EXPECT_STREQ(choice["message"]["content"].GetString(), "Cats: 42");
  EXPECT_STREQ(choice["finish_reason"].GetString(), "stop");
  EXPECT_EQ(doc["usage"]["prompt_tokens"].GetInt(), 11);
  EXPECT_EQ(doc["usage"]["completion_tokens"].GetInt(), 7);
  EXPECT_EQ(doc["usage"]["total_tokens"].GetInt(), 18);
}

TEST(FakeOpenAiServerTest, CompletionWithoutUsageOmitsIt) {
  FakeOpenAiServer::Response r =
      FakeOpenAiServer::Completion("x \"quoted\"\n", /*with_usage=*/false);
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  ASSERT_FALSE(doc.HasParseError()) << r.body;
  EXPECT_FALSE(doc.HasMember("usage"));
  EXPECT_STREQ(doc["choices"][0]["message"]["content"].GetString(), "x \"quoted\"\n");
}

TEST(FakeOpenAiServerTest, RecordsRequestBodyAndHeaders) {
  std::unique_ptr<FakeOpenAiServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  server->Enqueue(FakeOpenAiServer::Completion("ok"));
  Client client;
  ASSERT_EQ(client.Post(CompletionsUrl(*server), kRequestBody).code, CURLE_OK);

  std::vector<FakeOpenAiServer::Request> requests = server->requests();
  ASSERT_THAT(requests, SizeIs(1));
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/v1/chat/completions");
  EXPECT_EQ(requests[0].body, kRequestBody);
  EXPECT_EQ(requests[0].connection, 1);
  EXPECT_THAT(requests[0].headers,
              ::testing::Contains(Pair("authorization", "Bearer sk-test-123")));
  EXPECT_THAT(requests[0].headers, ::testing::Contains(Pair("content-type", "application/json")));
}

TEST(FakeOpenAiServerTest, KeepAliveReusesOneConnection) {
  std::unique_ptr<FakeOpenAiServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  server->Enqueue(FakeOpenAiServer::Completion("first"));
  server->Enqueue(FakeOpenAiServer::Completion("second"));
  Client client;
  HttpResult a = client.Post(CompletionsUrl(*server), kRequestBody);
  HttpResult b = client.Post(CompletionsUrl(*server), kRequestBody);
  ASSERT_EQ(a.code, CURLE_OK);
  ASSERT_EQ(b.code, CURLE_OK);
  EXPECT_THAT(a.body, HasSubstr("\"first\""));
  EXPECT_THAT(b.body, HasSubstr("\"second\""));
  EXPECT_EQ(server->connections(), 1);
  std::vector<FakeOpenAiServer::Request> requests = server->requests();
  ASSERT_THAT(requests, SizeIs(2));
  EXPECT_EQ(requests[1].connection, 1);
}

TEST(FakeOpenAiServerTest, CloseAfterForcesNewConnection) {
  std::unique_ptr<FakeOpenAiServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  FakeOpenAiServer::Response first = FakeOpenAiServer::Completion("first");
  first.close_after = true;
  server->Enqueue(std::move(first));
  server->Enqueue(FakeOpenAiServer::Completion("second"));
  Client client;
  HttpResult a = client.Post(CompletionsUrl(*server), kRequestBody);
  ASSERT_EQ(a.code, CURLE_OK);
  EXPECT_TRUE(a.HasHeader("connection: close"));
  ASSERT_EQ(client.Post(CompletionsUrl(*server), kRequestBody).code, CURLE_OK);
  EXPECT_EQ(server->connections(), 2);
  std::vector<FakeOpenAiServer::Request> requests = server->requests();
  ASSERT_THAT(requests, SizeIs(2));
  EXPECT_EQ(requests[1].connection, 2);
}

TEST(FakeOpenAiServerTest, ScriptedRateLimitCarriesRetryAfter) {
  std::unique_ptr<FakeOpenAiServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  FakeOpenAiServer::Response limited =
      FakeOpenAiServer::Error(429, "Rate limit reached", "rate_limit_exceeded");
  limited.headers.push_back({"Retry-After", "1"});
  server->Enqueue(std::move(limited));
  Client client;
  HttpResult r = client.Post(CompletionsUrl(*server), kRequestBody);
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 429);
  EXPECT_TRUE(r.HasHeader("retry-after: 1"));
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  ASSERT_FALSE(doc.HasParseError()) << r.body;
  EXPECT_STREQ(doc["error"]["message"].GetString(), "Rate limit reached");
  EXPECT_STREQ(doc["error"]["type"].GetString(), "rate_limit_exceeded");
  EXPECT_TRUE(doc["error"]["code"].IsNull());
}

TEST(FakeOpenAiServerTest, FallsBackTo500WhenNothingScripted) {
  std::unique_ptr<FakeOpenAiServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  Client client;
  HttpResult r = client.Post(CompletionsUrl(*server), kRequestBody);
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 500);
  EXPECT_THAT(r.body, HasSubstr(R"("message":"no scripted response")"));
  EXPECT_THAT(server->requests(), SizeIs(1));
}

TEST(FakeOpenAiServerTest, ResponderAnswersWhatTheScriptDoesNot) {
  std::unique_ptr<FakeOpenAiServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  server->Enqueue(FakeOpenAiServer::Completion("scripted"));
  server->SetResponder([](const FakeOpenAiServer::Request& request) {
    return FakeOpenAiServer::Completion(
        absl::StrCat("responder saw ", request.body.size(), " bytes"));
  });
  Client client;
  EXPECT_THAT(client.Post(CompletionsUrl(*server), kRequestBody).body, HasSubstr("scripted"));
  EXPECT_THAT(client.Post(CompletionsUrl(*server), kRequestBody).body,
              HasSubstr(absl::StrCat("responder saw ", sizeof(kRequestBody) - 1, " bytes")));
  EXPECT_THAT(server->requests(), SizeIs(2));
  server->set_record_requests(false);
  EXPECT_EQ(client.Post(CompletionsUrl(*server), kRequestBody).status, 200);
  EXPECT_THAT(server->requests(), SizeIs(2));
}

TEST(FakeModelTest, SimpleCodeUnlessTheQuestionIsCpuHeavy) {
  FakeModelOptions options;
  options.delay = absl::Milliseconds(250);
  options.spin = absl::Milliseconds(1500);
  FakeOpenAiServer::Request request;
  request.body = R"({"messages":[{"role":"user","content":"revenue?"}]})";
  FakeOpenAiServer::Response simple = FakeModelReply(request, options);
  EXPECT_EQ(simple.delay, absl::Milliseconds(250));
  EXPECT_TRUE(simple.chunks.empty());
  EXPECT_THAT(simple.body, HasSubstr("invoice_lines"));
  EXPECT_THAT(simple.body, Not(HasSubstr("datetime")));

  request.body = R"({"messages":[{"role":"user","content":"a cpu-heavy one"}],"stream":true})";
  FakeOpenAiServer::Response heavy = FakeModelReply(request, options);
  std::string sse;
  for (const std::string& chunk : heavy.chunks) sse += chunk;
  EXPECT_THAT(sse, HasSubstr("timedelta(seconds=1.500)"));
  EXPECT_THAT(sse, HasSubstr("data: [DONE]"));
}

TEST(FakeOpenAiServerTest, HangTimesOutClientAndShutdownIsPrompt) {
  std::unique_ptr<FakeOpenAiServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  FakeOpenAiServer::Response hang;
  hang.hang = true;
  server->Enqueue(std::move(hang));
  Client client;
  absl::Time start = absl::Now();
  HttpResult r = client.Post(CompletionsUrl(*server), kRequestBody, /*timeout_ms=*/300);
  EXPECT_EQ(r.code, CURLE_OPERATION_TIMEDOUT) << curl_easy_strerror(r.code);
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_THAT(server->requests(), SizeIs(1));

  // A second hung request whose client is still connected when the server
  // goes away: the destructor must not wait for the client. curl closes a
  // connection on timeout, so this one is sent raw and left open.
  FakeOpenAiServer::Response hang2;
  hang2.hang = true;
  server->Enqueue(std::move(hang2));
  CURL* holder = curl_easy_init();
  curl_easy_setopt(holder, CURLOPT_URL, server->base_url().c_str());
  curl_easy_setopt(holder, CURLOPT_CONNECT_ONLY, 1L);
  ASSERT_EQ(curl_easy_perform(holder), CURLE_OK);
  const std::string request =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
  size_t sent = 0;
  EXPECT_EQ(curl_easy_send(holder, request.data(), request.size(), &sent), CURLE_OK);
  EXPECT_EQ(sent, request.size());
  EXPECT_TRUE(WaitUntil([&] { return server->requests().size() == 2; }));
  start = absl::Now();
  server.reset();
  // Against replies held for an hour: prompt, with room for a loaded machine.
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  curl_easy_cleanup(holder);
}

TEST(FakeOpenAiServerTest, ShutdownInterruptsLongDelay) {
  std::unique_ptr<FakeOpenAiServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  FakeOpenAiServer::Response slow = FakeOpenAiServer::Completion("late");
  slow.delay = absl::Hours(1);
  server->Enqueue(std::move(slow));
  Client client;
  EXPECT_EQ(client.Post(CompletionsUrl(*server), kRequestBody, /*timeout_ms=*/200).code,
            CURLE_OPERATION_TIMEDOUT);
  absl::Time start = absl::Now();
  server.reset();
  // Against an hour's delay: prompt, with room for a loaded machine.
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(FakeOpenAiServerTest, CloseWithoutResponseIsAClientError) {
  std::unique_ptr<FakeOpenAiServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  FakeOpenAiServer::Response drop;
  drop.close_without_response = true;
  server->Enqueue(std::move(drop));
  Client client;
  HttpResult r = client.Post(CompletionsUrl(*server), kRequestBody);
  EXPECT_THAT(r.code, ::testing::AnyOf(CURLE_GOT_NOTHING, CURLE_RECV_ERROR))
      << curl_easy_strerror(r.code);
  EXPECT_THAT(server->requests(), SizeIs(1));
}

TEST(FakeOpenAiServerTest, StreamReassemblesAcrossAwkwardSplits) {
  const std::vector<std::string> pieces = {"Caf\xC3\xA9", " has ", "3 cats"};
  // Unsplit first, to learn the SSE text and where the awkward bytes are.
  FakeOpenAiServer::Response whole = FakeOpenAiServer::Stream(pieces);
  std::string sse;
  for (const std::string& c : whole.chunks) sse += c;
  ASSERT_TRUE(absl::EndsWith(sse, "data: [DONE]\n\n"));
  const size_t utf8 = sse.find("\xC3\xA9");
  const size_t second_data = sse.find("data:", 1);
  ASSERT_NE(utf8, std::string::npos);
  ASSERT_NE(second_data, std::string::npos);
  // Mid-character, mid-"data:", and between the two "\n" ending an event.
  const std::vector<size_t> splits = {utf8 + 1, second_data + 3, second_data - 1};

  std::unique_ptr<FakeOpenAiServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  FakeOpenAiServer::Response streamed =
      FakeOpenAiServer::Stream(pieces, /*with_usage=*/true, splits);
  EXPECT_THAT(streamed.chunks, SizeIs(splits.size() + 1));
  streamed.chunk_delay = absl::Milliseconds(5);
  server->Enqueue(std::move(streamed));

  Client client;
  HttpResult r = client.Post(CompletionsUrl(*server),
                             R"({"model":"gpt-5.2-mini","stream":true,"messages":[]})");
  ASSERT_EQ(r.code, CURLE_OK) << curl_easy_strerror(r.code);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.HasHeader("content-type: text/event-stream"));
  EXPECT_TRUE(r.HasHeader("transfer-encoding: chunked"));
  EXPECT_EQ(r.body, sse);
  EXPECT_THAT(sse, HasSubstr(R"("choices":[],"usage":{"prompt_tokens":120)"));
  EXPECT_THAT(sse, HasSubstr(R"("delta":{"role":"assistant","content":"Caf)"));
}

TEST(FakeOpenAiServerTest, StreamWithoutUsageHasNoUsageEvent) {
  FakeOpenAiServer::Response r = FakeOpenAiServer::Stream({"a"}, /*with_usage=*/false);
  // One piece, the finish event, and [DONE].
  ASSERT_THAT(r.chunks, SizeIs(3));
  EXPECT_THAT(r.chunks[1], HasSubstr(R"("finish_reason":"stop")"));
  EXPECT_EQ(r.chunks[2], "data: [DONE]\n\n");
  for (const std::string& c : r.chunks) EXPECT_THAT(c, ::testing::Not(HasSubstr("usage")));
}

TEST(FakeOpenAiServerTest, AnswersExpectContinueForLargeBodies) {
  std::unique_ptr<FakeOpenAiServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  server->Enqueue(FakeOpenAiServer::Completion("big"));
  const std::string body = absl::StrCat(R"({"messages":[{"content":")",
                                        std::string(size_t{2} * 1024 * 1024, 'x'), R"("}]})");
  Client client;
  absl::Time start = absl::Now();
  // Forced, since whether curl adds it on its own depends on version and size.
  HttpResult r =
      client.Post(CompletionsUrl(*server), body, /*timeout_ms=*/5000, {"Expect: 100-continue"});
  ASSERT_EQ(r.code, CURLE_OK) << curl_easy_strerror(r.code);
  EXPECT_EQ(r.status, 200);
  // Without the 100 Continue curl would sit out its 10 s expect timeout.
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  std::vector<FakeOpenAiServer::Request> requests = server->requests();
  ASSERT_THAT(requests, SizeIs(1));
  EXPECT_EQ(requests[0].body, body);
  EXPECT_EQ(requests[0].headers["expect"], "100-continue");
}

TEST(FakeOpenAiServerTest, SurvivesGarbageInput) {
  std::unique_ptr<FakeOpenAiServer> server = StartServer();
  ASSERT_NE(server, nullptr);
  // Raw TCP so the bytes are exactly as bad as intended.
  CURL* raw = curl_easy_init();
  curl_easy_setopt(raw, CURLOPT_URL, server->base_url().c_str());
  curl_easy_setopt(raw, CURLOPT_CONNECT_ONLY, 1L);
  ASSERT_EQ(curl_easy_perform(raw), CURLE_OK);
  size_t sent = 0;
  const char kGarbage[] = "\x01\x02 not http\r\nno colon here\r\n\r\n";
  EXPECT_EQ(curl_easy_send(raw, kGarbage, sizeof(kGarbage) - 1, &sent), CURLE_OK);
  curl_easy_cleanup(raw);

  // The server still answers well-formed requests afterwards.
  server->Enqueue(FakeOpenAiServer::Completion("still here"));
  Client client;
  HttpResult r = client.Post(CompletionsUrl(*server), kRequestBody);
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_THAT(r.body, HasSubstr("still here"));
}

}  // namespace
}  // namespace vet::testing
