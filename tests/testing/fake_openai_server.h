// A scripted, in-process fake of an OpenAI-compatible HTTP endpoint, so the
// Chat Completions client can be tested with no network and no API key. It
// listens on a free 127.0.0.1 port, speaks just enough HTTP/1.1 (keep-alive,
// Content-Length bodies, Expect: 100-continue, chunked responses) and answers
// each request with the next scripted Response, recording what it received.
#ifndef VET_TESTS_TESTING_FAKE_OPENAI_SERVER_H_
#define VET_TESTS_TESTING_FAKE_OPENAI_SERVER_H_

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace vet::testing {

class FakeOpenAiServer {
 public:
  struct Request {
    std::string method;
    std::string path;  // request target as sent, e.g. "/v1/chat/completions"
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
    int connection = 0;  // 1, 2, ...: which accepted TCP connection carried it
  };

  struct Response {
    int status = 200;
    // Sent as given, e.g. {"Retry-After", "1"}. Content-Type defaults to
    // application/json unless one is given here.
    std::vector<std::pair<std::string, std::string>> headers;
    // Sent with Content-Length unless `chunks` is non-empty.
    std::string body;
    // When non-empty: sent with Transfer-Encoding: chunked, one HTTP chunk per
    // element, byte for byte, so a test can cut an SSE event or a UTF-8
    // character anywhere. Empty elements are skipped (a zero-length chunk
    // would end the body).
    std::vector<std::string> chunks;
    absl::Duration chunk_delay = absl::ZeroDuration();  // between chunks
    absl::Duration delay = absl::ZeroDuration();        // before the status line
    // Read the request, then never answer; the connection stays open until
    // the client closes it or the server is destroyed.
    bool hang = false;
    // Read the request, then close the connection without a byte of reply.
    bool close_without_response = false;
    // Send "Connection: close" and close once this response is written.
    bool close_after = false;
  };

  // Binds 127.0.0.1:0 and starts accepting.
  static absl::StatusOr<std::unique_ptr<FakeOpenAiServer>> Start();

  // Stops accepting, wakes every connection (hung and delayed ones included),
  // and joins all threads. Returns promptly whatever the clients are doing.
  ~FakeOpenAiServer();

  FakeOpenAiServer(const FakeOpenAiServer&) = delete;
  FakeOpenAiServer& operator=(const FakeOpenAiServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:<port>/v1", the form an OpenAI client takes as base URL.
  std::string base_url() const;

  // Responses answer requests in arrival order, across all connections. With
  // none left a request gets the responder's answer, or without one 500
  // {"error":{"message":"no scripted response"}}.
  void Enqueue(Response r);

  // Answers every request the script has no response for (a standalone fake
  // model answers everything this way). Called under the server's lock, so
  // it should only build the response; `delay` is waited out afterwards, on
  // the request's own connection.
  void SetResponder(std::function<Response(const Request&)> responder);
  // Whether requests() keeps every request (the default); a long-running
  // fake turns it off so that its memory stays flat.
  void set_record_requests(bool record);

  // Every complete request received so far, in arrival order.
  std::vector<Request> requests() const;
  // Every byte read from every connection so far, in arrival order per read
  // (what a test checks for what must never be sent); kept while requests
  // are recorded.
  std::string received_bytes() const;
  // TCP connections accepted so far.
  int connections() const;

  // A non-streamed /v1/chat/completions reply whose single choice has
  // `content` and finish_reason "stop"; "usage" is left out when !with_usage.
  static Response Completion(const std::string& content, bool with_usage = true,
                             int prompt_tokens = 120, int completion_tokens = 40,
                             const std::string& model = "gpt-5.2-mini");

  // An OpenAI-shaped error body: {"error":{"message","type","code":null}}.
  static Response Error(int status, const std::string& message,
                        const std::string& type = "invalid_request_error");

  // A streamed (stream: true) reply as text/event-stream: one
  // "data: {chat.completion.chunk}\n\n" event per piece (delta.content =
  // piece; the first also carries role "assistant"), then an event with an
  // empty delta and finish_reason "stop", then, if with_usage, one with
  // "choices":[] and "usage", then "data: [DONE]\n\n". The SSE text is cut
  // into HTTP chunks at the byte offsets in `split_points` (unsorted and
  // out-of-range offsets are tolerated); empty means one HTTP chunk per event.
  static Response Stream(std::vector<std::string> pieces, bool with_usage = true,
                         std::vector<size_t> split_points = {}, int prompt_tokens = 120,
                         int completion_tokens = 40);

 private:
  FakeOpenAiServer(int listen_fd, int wake_read_fd, int wake_write_fd, int port);

  void AcceptLoop();
  void ServeConnection(int fd, int connection);
  // Records `request` and takes the response that answers it, atomically, so
  // the recorded order matches the order responses are handed out.
  Response TakeResponse(Request request);

  const int listen_fd_;
  // Written once at shutdown and never drained: every poll() that includes
  // wake_read_fd_ then sees it readable, which is how blocked threads stop.
  const int wake_read_fd_;
  const int wake_write_fd_;
  const int port_;
  std::atomic<bool> stopping_{false};

  mutable absl::Mutex mu_;
  std::deque<Response> scripted_ ABSL_GUARDED_BY(mu_);
  std::function<Response(const Request&)> responder_ ABSL_GUARDED_BY(mu_);
  bool record_requests_ ABSL_GUARDED_BY(mu_) = true;
  std::vector<Request> requests_ ABSL_GUARDED_BY(mu_);
  std::string received_ ABSL_GUARDED_BY(mu_);
  int connections_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::thread> connection_threads_ ABSL_GUARDED_BY(mu_);

  std::thread accept_thread_;
};

}  // namespace vet::testing

#endif  // VET_TESTS_TESTING_FAKE_OPENAI_SERVER_H_
