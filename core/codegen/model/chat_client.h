// A chat-completions model behind one call: the messages in, the reply and
// its token usage out. The implementation for OpenAI-compatible servers is
// openai_client.h; tests run it against a fake OpenAI-compatible server on
// loopback (tests/testing/fake_openai_server.h) whose replies they script.
#ifndef VET_CORE_CODEGEN_MODEL_CHAT_CLIENT_H_
#define VET_CORE_CODEGEN_MODEL_CHAT_CLIENT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/common/cancellation.h"

namespace vet::codegen {

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

struct ChatRequest {
  std::string model;
  std::vector<ChatMessage> messages;
  int max_completion_tokens = 2048;
  // Ask for the reply as server-sent events, delivered to on_delta as it
  // is written.
  bool stream = false;
  // Sent as the W3C `traceparent` header when it is a valid one; empty:
  // none.
  std::string traceparent;
};

struct ChatResponse {
  std::string content;
  std::string model;  // as the server named it
  std::string finish_reason;
  // Absent from some compatible servers: has_usage says whether the counts
  // are the server's.
  bool has_usage = false;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_prompt_tokens = 0;
};

struct ChatCallbacks {
  // A failed attempt that will be retried: why, and after how long.
  std::function<void(const std::string& reason)> on_retry;
  // A piece of the reply as it streams in (stream requests only).
  std::function<void(absl::string_view piece)> on_delta;
};

// Called exactly once with the outcome of CompleteAsync.
using CompleteCallback = std::function<void(absl::StatusOr<ChatResponse>)>;

// Thread-safe.
class ChatClient {
 public:
  virtual ~ChatClient() = default;
  // Statuses: kUnavailable (the server could not be reached or kept
  // failing; the message names the cause), kPermissionDenied (the key was
  // refused), kInvalidArgument (the server refused the request itself),
  // kDeadlineExceeded, kCancelled, kInternal (a reply that is not a
  // well-formed completion).
  virtual absl::StatusOr<ChatResponse> Complete(const ChatRequest& request,
                                                const ChatCallbacks& callbacks,
                                                CancellationToken& cancel) = 0;

  // Complete without holding the calling thread while the server answers:
  // returns at once; `done` is called exactly once, inline or on the
  // client's I/O thread, which also runs the callbacks. `callbacks` and
  // `cancel` must stay alive until `done` has been called. The default runs
  // Complete inline.
  virtual void CompleteAsync(const ChatRequest& request, const ChatCallbacks& callbacks,
                             CancellationToken& cancel, CompleteCallback done) {
    // `done` is the caller's to give away: overrides keep it past the call.
    CompleteCallback callback = std::move(done);
    callback(Complete(request, callbacks, cancel));
  }
};

}  // namespace vet::codegen

#endif  // VET_CORE_CODEGEN_MODEL_CHAT_CLIENT_H_
