// OpenAiClient: one curl multi handle driven by one I/O thread
// (curl_multi_poll, woken by curl_multi_wakeup for new calls and
// cancellations), every call a state machine of attempts and waits before
// retrying; the JSON and server-sent-event parsing.
#include "core/codegen/model/openai_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/common/await.h"
#include "core/common/error_details.h"
#include "core/common/log.h"
#include "core/common/status_macros.h"
#include "core/common/trace_context.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace vet::codegen {
namespace {

// Longest piece of a server's error message quoted in a status.
constexpr size_t kMaxQuotedChars = 300;

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Quote(absl::string_view text) {
  std::string out(text.substr(0, kMaxQuotedChars));
  if (text.size() > kMaxQuotedChars) out += "...";
  return out;
}

std::string RequestBody(const ChatRequest& request) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("model");
  w.String(request.model.c_str(), static_cast<rapidjson::SizeType>(request.model.size()));
  w.Key("messages");
  w.StartArray();
  for (const ChatMessage& m : request.messages) {
    w.StartObject();
    w.Key("role");
    w.String(m.role.c_str(), static_cast<rapidjson::SizeType>(m.role.size()));
    w.Key("content");
    w.String(m.content.c_str(), static_cast<rapidjson::SizeType>(m.content.size()));
    w.EndObject();
  }
  w.EndArray();
  w.Key("max_completion_tokens");
  w.Int(request.max_completion_tokens);
  if (request.stream) {
    w.Key("stream");
    w.Bool(true);
    w.Key("stream_options");
    w.StartObject();
    w.Key("include_usage");
    w.Bool(true);
    w.EndObject();
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Reads usage, when present, into `out`.
void ReadUsage(const rapidjson::Value& doc, ChatResponse& out) {
  auto usage = doc.FindMember("usage");
  if (usage == doc.MemberEnd() || !usage->value.IsObject()) return;
  const rapidjson::Value& u = usage->value;
  auto prompt = u.FindMember("prompt_tokens");
  auto completion = u.FindMember("completion_tokens");
  if (prompt == u.MemberEnd() || !prompt->value.IsInt64() || completion == u.MemberEnd() ||
      !completion->value.IsInt64()) {
    return;
  }
  out.has_usage = true;
  out.prompt_tokens = prompt->value.GetInt64();
  out.completion_tokens = completion->value.GetInt64();
  auto details = u.FindMember("prompt_tokens_details");
  if (details != u.MemberEnd() && details->value.IsObject()) {
    auto cached = details->value.FindMember("cached_tokens");
    if (cached != details->value.MemberEnd() && cached->value.IsInt64())
      out.cached_prompt_tokens = cached->value.GetInt64();
  }
}

std::string StringMember(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return "";
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

bool IsRetryableCurlError(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

}  // namespace

namespace internal {

absl::StatusOr<ChatResponse> ParseCompletion(absl::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::InternalError(
        "the model server's reply is not JSON (a compatible server must "
        "answer /chat/completions with a chat.completion object)");
  }
  auto choices = doc.FindMember("choices");
  if (choices == doc.MemberEnd() || !choices->value.IsArray() || choices->value.Empty() ||
      !choices->value[0].IsObject()) {
    return absl::InternalError("the model server's reply has no choices");
  }
  const rapidjson::Value& choice = choices->value[0];
  auto message = choice.FindMember("message");
  if (message == choice.MemberEnd() || !message->value.IsObject()) {
    return absl::InternalError("the model server's reply has no message");
  }
  ChatResponse out;
  out.content = StringMember(message->value, "content");
  out.finish_reason = StringMember(choice, "finish_reason");
  out.model = StringMember(doc, "model");
  ReadUsage(doc, out);
  return out;
}

std::string ErrorMessage(absl::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return "";
  auto error = doc.FindMember("error");
  if (error == doc.MemberEnd()) return "";
  if (error->value.IsString()) return Quote(error->value.GetString());
  return Quote(StringMember(error->value, "message"));
}

absl::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  double seconds;
  if (absl::SimpleAtod(value, &seconds) && seconds >= 0 && seconds < 1e7) {
    return absl::Seconds(seconds);
  }
  absl::Time when;
  std::string error;
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S", std::string(absl::StripSuffix(value, " GMT")), &when,
                      &error)) {
    return std::max(absl::ZeroDuration(), when - now);
  }
  return absl::nullopt;
}

absl::Status SseParser::Feed(absl::string_view bytes) {
  buffer_.append(bytes.data(), bytes.size());
  // Events end with a blank line; lines end with \n (or \r\n).
  size_t start = 0;
  while (!done_) {
    size_t end = buffer_.find('\n', start);
    if (end == std::string::npos) break;
    absl::string_view line(buffer_.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    start = end + 1;
    if (absl::ConsumePrefix(&line, "data:")) {
      VET_RETURN_IF_ERROR(OnData(absl::StripLeadingAsciiWhitespace(line)));
    }
    // Other fields (event:, id:, comments) and blank lines carry nothing
    // for chat completions.
  }
  buffer_.erase(0, start);
  return absl::OkStatus();
}

std::string SseParser::TakeDelta() {
  std::string out;
  out.swap(delta_);
  return out;
}

absl::Status SseParser::OnData(absl::string_view data) {
  if (data == "[DONE]") {
    done_ = true;
    return absl::OkStatus();
  }
  rapidjson::Document doc;
  doc.Parse(data.data(), data.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::InternalError("the model server's stream has an event that is not JSON");
  }
  auto error = doc.FindMember("error");
  if (error != doc.MemberEnd()) {
    return absl::UnavailableError(absl::StrCat("the model server reported an error mid-stream: ",
                                               Quote(StringMember(error->value, "message"))));
  }
  if (response_.model.empty()) response_.model = StringMember(doc, "model");
  auto choices = doc.FindMember("choices");
  if (choices != doc.MemberEnd() && choices->value.IsArray() && !choices->value.Empty() &&
      choices->value[0].IsObject()) {
    const rapidjson::Value& choice = choices->value[0];
    auto delta = choice.FindMember("delta");
    if (delta != choice.MemberEnd()) {
      std::string piece = StringMember(delta->value, "content");
      response_.content += piece;
      delta_ += piece;
    }
    std::string finish = StringMember(choice, "finish_reason");
    if (!finish.empty()) response_.finish_reason = finish;
  }
  ReadUsage(doc, response_);
  return absl::OkStatus();
}

}  // namespace internal

namespace {

// The outcome of one HTTP attempt.
struct Attempt {
  CURLcode curl = CURLE_OK;
  std::string curl_error;
  long status = 0;
  std::string body;  // non-stream replies and error bodies
  absl::optional<absl::Duration> retry_after;
  bool too_large = false;
  absl::Status stream_error;
  internal::SseParser sse;
};

struct TransferState {
  bool stream = false;
  int64_t max_bytes = 0;
  const ChatCallbacks* callbacks = nullptr;
  // Set by the header callback from the status line.
  long status = 0;
  Attempt* attempt = nullptr;
  int64_t received = 0;
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  absl::string_view line(data, size * count);
  if (absl::StartsWith(line, "HTTP/")) {
    // A new response (after a 100 Continue, or a redirect): start afresh.
    size_t space = line.find(' ');
    long status = 0;
    if (space != absl::string_view::npos && absl::SimpleAtoi(line.substr(space + 1, 3), &status)) {
      state->status = status;
    }
    state->attempt->body.clear();
    state->received = 0;
  } else if (absl::StartsWithIgnoreCase(line, "retry-after:")) {
    state->attempt->retry_after = internal::ParseRetryAfter(line.substr(12), absl::Now());
  }
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  const size_t n = size * count;
  state->received += static_cast<int64_t>(n);
  if (state->received > state->max_bytes) {
    state->attempt->too_large = true;
    return 0;  // stops the transfer
  }
  if (state->stream && state->status == 200) {
    absl::Status fed = state->attempt->sse.Feed(absl::string_view(data, n));
    if (!fed.ok()) {
      state->attempt->stream_error = fed;
      return 0;
    }
    std::string delta = state->attempt->sse.TakeDelta();
    if (!delta.empty() && state->callbacks->on_delta) {
      state->callbacks->on_delta(delta);
    }
    return n;
  }
  state->attempt->body.append(data, n);
  return n;
}

// Timers are kept on the monotonic clock.
absl::Time MonotonicNow() {
  return absl::UnixEpoch() + absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}

}  // namespace

// One Complete: its request, its attempts, and who to tell.
struct OpenAiClient::Call {
  uint64_t id = 0;
  std::string body;
  // "traceparent: ..." or empty.
  std::string trace_header;
  bool stream = false;
  const ChatCallbacks* callbacks = nullptr;
  CancellationToken* cancel = nullptr;
  CancellationToken::CallbackId cancel_id = -1;
  CompleteCallback done;
  // 1-based number of the attempt in progress (or about to start).
  int number = 0;
  absl::Status last;
  // The transfer in progress; null while waiting to retry.
  CURL* easy = nullptr;
  struct curl_slist* headers = nullptr;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  Attempt attempt;
  TransferState state;
  // Set while waiting before a retry.
  absl::optional<absl::Time> retry_at;
};

// The I/O thread: owns the multi handle and every call in flight. Other
// threads only hand it new calls and cancellations (under mu_) and wake it.
class OpenAiClient::Loop {
 public:
  explicit Loop(OpenAiClient& client) : client_(client), multi_(curl_multi_init()) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Loop() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    Wake();
    thread_.join();
    curl_multi_cleanup(multi_);
  }

  void Add(std::unique_ptr<Call> call) {
    {
      absl::MutexLock lock(&mu_);
      call->id = next_id_++;
    }
    // Registered before the loop sees the call; a token already cancelled
    // runs this at once, and StartAttempt checks the token too, so a
    // cancellation is never missed whichever comes first.
    const uint64_t id = call->id;
    call->cancel_id = call->cancel->Register([this, id] {
      {
        absl::MutexLock lock(&mu_);
        cancelled_.push_back(id);
      }
      Wake();
    });
    std::unique_ptr<Call> refused;
    {
      absl::MutexLock lock(&mu_);
      if (!stopping_ && multi_ != nullptr) {
        ++in_flight_;
        incoming_.push_back(std::move(call));
      } else {
        refused = std::move(call);
      }
    }
    if (refused != nullptr) {
      if (refused->cancel_id >= 0) refused->cancel->Unregister(refused->cancel_id);
      refused->done(absl::UnavailableError("the model client is shutting down"));
      return;
    }
    Wake();
  }

  int in_flight() const {
    absl::MutexLock lock(&mu_);
    return in_flight_;
  }

 private:
  void Wake() {
    if (multi_ != nullptr) curl_multi_wakeup(multi_);
  }

  void Run();
  void StartAttempt(Call& call);
  // After a transfer ended: the final outcome, or a wait before a retry.
  void Judge(Call& call);
  // Ends the call: unregisters its cancellation, forgets it, calls done.
  void Finish(uint64_t id, absl::StatusOr<ChatResponse> result);
  void StopTransfer(Call& call);

  OpenAiClient& client_;
  CURLM* const multi_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::unique_ptr<Call>> incoming_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> cancelled_ ABSL_GUARDED_BY(mu_);

  // The loop thread's own. One generator for the jitter of every retry,
  // seeded once (not a random_device per call).
  std::mt19937_64 random_{std::random_device{}()};
  std::map<uint64_t, std::unique_ptr<Call>> calls_;
  std::map<CURL*, uint64_t> by_handle_;
};

void OpenAiClient::Loop::Run() {
  while (true) {
    std::vector<std::unique_ptr<Call>> incoming;
    std::vector<uint64_t> cancelled;
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      incoming.swap(incoming_);
      cancelled.swap(cancelled_);
      stopping = stopping_;
    }
    for (auto& call : incoming) {
      Call& c = *call;
      calls_[c.id] = std::move(call);
      c.number = 1;
      StartAttempt(c);
    }
    for (uint64_t id : cancelled) {
      auto it = calls_.find(id);
      if (it == calls_.end()) continue;
      // The transfer is cut: its connection is not reused.
      Finish(id, absl::CancelledError(it->second->retry_at.has_value()
                                          ? "the question was cancelled while waiting to "
                                            "retry the model"
                                          : "the question was cancelled during the model call"));
    }
    if (stopping) {
      while (!calls_.empty()) {
        Finish(calls_.begin()->first, absl::CancelledError("the model client is shutting down"));
      }
      return;
    }

    int running = 0;
    curl_multi_perform(multi_, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      auto found = by_handle_.find(msg->easy_handle);
      if (found == by_handle_.end()) continue;
      Call& call = *calls_.at(found->second);
      call.attempt.curl = msg->data.result;
      Judge(call);
    }

    // Retries that are due; the poll below waits no longer than the next.
    const absl::Time now = MonotonicNow();
    absl::Duration next = absl::Seconds(1);
    for (auto& [id, call] : calls_) {
      if (!call->retry_at.has_value()) continue;
      if (*call->retry_at <= now) {
        call->retry_at.reset();
        ++call->number;
        StartAttempt(*call);
        next = absl::ZeroDuration();
      } else {
        next = std::min(next, *call->retry_at - now);
      }
    }
    const int wait_ms = static_cast<int>(
        std::max<int64_t>(0, absl::ToInt64Milliseconds(absl::Ceil(next, absl::Milliseconds(1)))));
    curl_multi_poll(multi_, nullptr, 0, wait_ms, nullptr);
  }
}

void OpenAiClient::Loop::StartAttempt(Call& call) {
  const Options& options = client_.options_;
  call.attempt = Attempt();
  call.state = TransferState();
  call.state.stream = call.stream;
  call.state.max_bytes = options.max_response_bytes;
  call.state.callbacks = call.callbacks;
  call.state.attempt = &call.attempt;
  call.error_buffer[0] = '\0';
  if (call.cancel->IsCancelled()) {
    return Finish(call.id,
                  absl::CancelledError("the question was cancelled before calling the model"));
  }
  CURL* easy = curl_easy_init();
  if (easy == nullptr) {
    return Finish(call.id, absl::InternalError("the model client could not create a curl handle"));
  }
  call.easy = easy;
  struct curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(
      headers, call.stream ? "Accept: text/event-stream" : "Accept: application/json");
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  if (!call.trace_header.empty()) headers = curl_slist_append(headers, call.trace_header.c_str());
  if (!options.api_key.empty()) {
    headers =
        curl_slist_append(headers, absl::StrCat("Authorization: Bearer ", options.api_key).c_str());
    headers = curl_slist_append(headers, absl::StrCat("api-key: ", options.api_key).c_str());
  }
  call.headers = headers;
  curl_easy_setopt(easy, CURLOPT_URL, client_.endpoint_.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, call.body.data());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options.connect_timeout)));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options.request_timeout)));
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &call.state);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &call.state);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, call.error_buffer);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "vet-analytics");
  by_handle_[easy] = call.id;
  curl_multi_add_handle(multi_, easy);
}

void OpenAiClient::Loop::StopTransfer(Call& call) {
  if (call.easy == nullptr) return;
  curl_multi_remove_handle(multi_, call.easy);
  by_handle_.erase(call.easy);
  curl_easy_cleanup(call.easy);
  call.easy = nullptr;
  curl_slist_free_all(call.headers);
  call.headers = nullptr;
}

void OpenAiClient::Loop::Judge(Call& call) {
  const Options& options = client_.options_;
  Attempt& attempt = call.attempt;
  curl_easy_getinfo(call.easy, CURLINFO_RESPONSE_CODE, &attempt.status);
  if (attempt.status == 0) attempt.status = call.state.status;
  attempt.curl_error =
      call.error_buffer[0] != '\0' ? call.error_buffer : curl_easy_strerror(attempt.curl);
  StopTransfer(call);

  absl::Status& last = call.last;
  if (attempt.too_large) {
    return Finish(call.id, absl::InternalError(absl::StrCat("the model's reply was larger than ",
                                                            options.max_response_bytes, " bytes")));
  } else if (!attempt.stream_error.ok()) {
    last = attempt.stream_error;
    if (attempt.stream_error.code() != absl::StatusCode::kUnavailable) {
      return Finish(call.id, last);
    }
  } else if (attempt.curl != CURLE_OK) {
    last = absl::UnavailableError(absl::StrCat("the model server at ", options.base_url,
                                               " could not be reached: ", attempt.curl_error));
    if (attempt.curl == CURLE_OPERATION_TIMEDOUT) {
      last = absl::UnavailableError(absl::StrCat(
          "the model server at ", options.base_url, " did not answer within ",
          absl::FormatDuration(options.request_timeout), " (", attempt.curl_error, ")"));
    }
    if (!IsRetryableCurlError(attempt.curl)) return Finish(call.id, last);
  } else if (attempt.status == 200) {
    if (!call.stream) return Finish(call.id, internal::ParseCompletion(attempt.body));
    // A stream that stops without [DONE] or a finish reason was cut short:
    // its code is incomplete, never taken as the reply.
    if (attempt.sse.done() || !attempt.sse.response().finish_reason.empty()) {
      return Finish(call.id, attempt.sse.response());
    }
    last = absl::UnavailableError(
        absl::StrCat("the model server's stream ended before the reply was complete (",
                     attempt.sse.response().content.size(), " bytes of content)"));
  } else {
    const std::string message = internal::ErrorMessage(attempt.body);
    const std::string said = message.empty() ? "" : absl::StrCat(": ", message);
    if (attempt.status == 401 || attempt.status == 403) {
      return Finish(call.id, WithReason(absl::PermissionDeniedError(absl::StrCat(
                                            "the model server refused the API key (HTTP ",
                                            attempt.status, ")", said, "; check OPENAI_API_KEY")),
                                        reason::kModelRefused,
                                        {{"http_status", absl::StrCat(attempt.status)}}));
    }
    if (attempt.status != 429 && attempt.status < 500) {
      return Finish(
          call.id,
          WithReason(absl::InvalidArgumentError(absl::StrCat(
                         "the model server refused the request (HTTP ", attempt.status, ")", said)),
                     reason::kModelRefused, {{"http_status", absl::StrCat(attempt.status)}}));
    }
    last =
        absl::UnavailableError(absl::StrCat("the model server answered HTTP ", attempt.status,
                                            attempt.status == 429 ? " (rate limited)" : "", said));
  }
  // Retryable from here on.
  if (call.number >= options.max_attempts) {
    return Finish(call.id, absl::UnavailableError(absl::StrCat(
                               last.message(), " (after ", options.max_attempts, " attempts)")));
  }
  // Full jitter over a capped exponential; Retry-After when the server gives
  // one (and it is not unreasonably long).
  absl::Duration ceiling =
      std::min(options.max_backoff, options.initial_backoff * (int64_t{1} << (call.number - 1)));
  std::uniform_real_distribution<double> fraction(0.0, 1.0);
  absl::Duration wait = ceiling * fraction(random_);
  if (attempt.retry_after.has_value()) {
    if (*attempt.retry_after > options.max_retry_after) {
      return Finish(call.id, absl::UnavailableError(absl::StrCat(
                                 last.message(), "; it asked to retry after ",
                                 absl::FormatDuration(*attempt.retry_after), ", longer than ",
                                 absl::FormatDuration(options.max_retry_after))));
    }
    wait = *attempt.retry_after;
  }
  if (call.callbacks->on_retry) {
    call.callbacks->on_retry(
        absl::StrCat(last.message(), "; retrying in ",
                     absl::FormatDuration(absl::Trunc(wait, absl::Milliseconds(1))), " (attempt ",
                     call.number + 1, " of ", options.max_attempts, ")"));
  }
  call.retry_at = MonotonicNow() + wait;
}

void OpenAiClient::Loop::Finish(uint64_t id, absl::StatusOr<ChatResponse> result) {
  auto it = calls_.find(id);
  if (it == calls_.end()) return;
  std::unique_ptr<Call> call = std::move(it->second);
  calls_.erase(it);
  StopTransfer(*call);
  {
    absl::MutexLock lock(&mu_);
    --in_flight_;
  }
  // Outside mu_: Unregister waits for a cancellation callback that may be
  // running on another thread, and that callback takes mu_.
  if (call->cancel_id >= 0) call->cancel->Unregister(call->cancel_id);
  CompleteCallback done = std::move(call->done);
  call.reset();
  done(std::move(result));
}

absl::StatusOr<std::unique_ptr<OpenAiClient>> OpenAiClient::Create(Options options) {
  absl::string_view url = options.base_url;
  if (!(absl::StartsWith(url, "http://") || absl::StartsWith(url, "https://")) ||
      url.find(' ') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("OPENAI_BASE_URL '", options.base_url,
                     "' must be an http:// or https:// URL up to the API version, e.g. "
                     "https://api.openai.com/v1 or http://127.0.0.1:11434/v1"));
  }
  if (options.max_attempts < 1) {
    return absl::InvalidArgumentError("the model client needs at least 1 attempt");
  }
  InitCurlOnce();
  return std::unique_ptr<OpenAiClient>(new OpenAiClient(std::move(options)));
}

OpenAiClient::OpenAiClient(Options options)
    : options_(std::move(options)),
      endpoint_(absl::StrCat(absl::StripSuffix(options_.base_url, "/"), "/chat/completions")),
      loop_(std::make_unique<Loop>(*this)) {}

OpenAiClient::~OpenAiClient() = default;

int OpenAiClient::in_flight() const { return loop_->in_flight(); }

void OpenAiClient::CompleteAsync(const ChatRequest& request, const ChatCallbacks& callbacks,
                                 CancellationToken& cancel, CompleteCallback done) {
  auto call = std::make_unique<Call>();
  call->body = RequestBody(request);
  // Parsed first, so that nothing but a well-formed value (no CR or LF)
  // becomes a header.
  if (ParseTraceparent(request.traceparent).has_value()) {
    call->trace_header = absl::StrCat("traceparent: ", request.traceparent);
  }
  call->stream = request.stream;
  call->callbacks = &callbacks;
  call->cancel = &cancel;
  call->done = std::move(done);
  loop_->Add(std::move(call));
}

absl::StatusOr<ChatResponse> OpenAiClient::Complete(const ChatRequest& request,
                                                    const ChatCallbacks& callbacks,
                                                    CancellationToken& cancel) {
  return AwaitCallback<absl::StatusOr<ChatResponse>>(
      [&](CompleteCallback done) { CompleteAsync(request, callbacks, cancel, std::move(done)); });
}

}  // namespace vet::codegen
