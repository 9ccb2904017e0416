// ChatClient for the OpenAI Chat Completions API and compatible servers
// (Azure OpenAI's v1 endpoint, vLLM, Ollama, llama.cpp's server): POST
// <base_url>/chat/completions with a bearer key, on libcurl, JSON with
// RapidJSON.
//
// - Asynchronous: every call is a transfer on one curl multi handle driven
//   by the client's own I/O thread, so a call in flight holds no other
//   thread; CompleteAsync returns at once and its callback runs on that
//   thread when the reply (or the final failure) arrives. Complete waits
//   for it. Connections are kept alive and reused through the multi
//   handle's connection cache.
// - Each attempt has a connect timeout and an overall timeout; a
//   cancellation stops the transfer (or the wait before a retry) at once.
// - 429, 5xx and connection failures are retried with capped exponential
//   backoff and full jitter, honouring Retry-After; 400, 401, 403 and 404
//   are not. Every retry is reported through ChatCallbacks::on_retry.
// - stream: true reads server-sent events and hands each piece of content
//   to on_delta as it arrives; a final usage chunk is asked for
//   (stream_options.include_usage) and read when the server sends one.
#ifndef VET_CORE_CODEGEN_MODEL_OPENAI_CLIENT_H_
#define VET_CORE_CODEGEN_MODEL_OPENAI_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/codegen/model/chat_client.h"

namespace vet::codegen {

class OpenAiClient final : public ChatClient {
 public:
  struct Options {
    // Up to and including the version: "https://api.openai.com/v1".
    std::string base_url = "https://api.openai.com/v1";
    // Sent as "Authorization: Bearer <key>" (and "api-key" for Azure);
    // never logged, never put in a status.
    std::string api_key;
    absl::Duration connect_timeout = absl::Seconds(10);
    // One attempt, from connecting to the last byte.
    absl::Duration request_timeout = absl::Seconds(120);
    // Attempts in all, the first included.
    int max_attempts = 4;
    absl::Duration initial_backoff = absl::Milliseconds(500);
    absl::Duration max_backoff = absl::Seconds(8);
    // A Retry-After longer than this is not waited for: the call fails.
    absl::Duration max_retry_after = absl::Seconds(30);
    // Largest reply accepted.
    int64_t max_response_bytes = int64_t{4} << 20;
  };

  // kInvalidArgument for a base URL that is not http(s)://host[:port][/path].
  static absl::StatusOr<std::unique_ptr<OpenAiClient>> Create(Options options);
  ~OpenAiClient() override;

  absl::StatusOr<ChatResponse> Complete(const ChatRequest& request, const ChatCallbacks& callbacks,
                                        CancellationToken& cancel) override;
  // Calls `done` (and the callbacks) on the client's I/O thread; inline
  // with kUnavailable when the client is shutting down. Calls still in
  // flight when the client is destroyed end kCancelled.
  void CompleteAsync(const ChatRequest& request, const ChatCallbacks& callbacks,
                     CancellationToken& cancel, CompleteCallback done) override;

  // For tests: the endpoint this client posts to.
  const std::string& endpoint() const { return endpoint_; }
  // Calls in flight (transfers and waits before a retry).
  int in_flight() const;

 private:
  struct Call;
  class Loop;
  explicit OpenAiClient(Options options);

  const Options options_;
  const std::string endpoint_;
  std::unique_ptr<Loop> loop_;
};

// Exposed for tests.
namespace internal {

// Incremental parser of a server-sent event stream of chat.completion.chunk
// objects. Bytes may arrive split anywhere.
class SseParser {
 public:
  // Feeds bytes; returns kInternal for a data line that is not a chunk.
  absl::Status Feed(absl::string_view bytes);
  bool done() const { return done_; }
  // Content that completed since the last call.
  std::string TakeDelta();
  const ChatResponse& response() const { return response_; }

 private:
  absl::Status OnData(absl::string_view data);
  std::string buffer_;
  std::string delta_;
  bool done_ = false;
  ChatResponse response_;
};

// Parses a non-streamed chat.completion body.
absl::StatusOr<ChatResponse> ParseCompletion(absl::string_view body);
// The error message of an error body ({"error": {"message": ...}}), cut
// short; empty when there is none.
std::string ErrorMessage(absl::string_view body);
// Seconds in a Retry-After header (delta-seconds or an HTTP date); nullopt
// if absent or unreadable.
absl::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now);

}  // namespace internal
}  // namespace vet::codegen

#endif  // VET_CORE_CODEGEN_MODEL_OPENAI_CLIENT_H_
