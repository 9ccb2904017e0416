// OpenAiClient: one curl multi handle per pooled connection, driven by
// curl_multi_poll so that a cancellation (curl_multi_wakeup) stops a call at
// once; the retry loop around it; the JSON and server-sent-event parsing.
#include "core/codegen/model/openai_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>
#include <random>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "core/common/log.h"
#include "core/common/status_macros.h"
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
  w.String(request.model.c_str(),
           static_cast<rapidjson::SizeType>(request.model.size()));
  w.Key("messages");
  w.StartArray();
  for (const ChatMessage& m : request.messages) {
    w.StartObject();
    w.Key("role");
    w.String(m.role.c_str(), static_cast<rapidjson::SizeType>(m.role.size()));
    w.Key("content");
    w.String(m.content.c_str(),
             static_cast<rapidjson::SizeType>(m.content.size()));
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
  if (prompt == u.MemberEnd() || !prompt->value.IsInt64() ||
      completion == u.MemberEnd() || !completion->value.IsInt64()) {
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
  if (choices == doc.MemberEnd() || !choices->value.IsArray() ||
      choices->value.Empty() || !choices->value[0].IsObject()) {
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

absl::optional<absl::Duration> ParseRetryAfter(absl::string_view value,
                                               absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  double seconds;
  if (absl::SimpleAtod(value, &seconds) && seconds >= 0 && seconds < 1e7) {
    return absl::Seconds(seconds);
  }
  absl::Time when;
  std::string error;
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S", std::string(absl::StripSuffix(value, " GMT")),
                      &when, &error)) {
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
    return absl::InternalError(
        "the model server's stream has an event that is not JSON");
  }
  auto error = doc.FindMember("error");
  if (error != doc.MemberEnd()) {
    return absl::UnavailableError(absl::StrCat(
        "the model server reported an error mid-stream: ",
        Quote(StringMember(error->value, "message"))));
  }
  if (response_.model.empty()) response_.model = StringMember(doc, "model");
  auto choices = doc.FindMember("choices");
  if (choices != doc.MemberEnd() && choices->value.IsArray() &&
      !choices->value.Empty() && choices->value[0].IsObject()) {
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

// A pooled transfer: an easy handle in its own multi handle, whose
// connection cache keeps the connection to the server alive between calls.
struct OpenAiClient::Handle {
  Handle() : easy(curl_easy_init()), multi(curl_multi_init()) {}
  ~Handle() {
    if (multi != nullptr) curl_multi_cleanup(multi);
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
  CURL* easy;
  CURLM* multi;
};

// The outcome of one HTTP attempt.
struct OpenAiClient::Attempt {
  CURLcode curl = CURLE_OK;
  std::string curl_error;
  long status = 0;
  std::string body;  // non-stream replies and error bodies
  absl::optional<absl::Duration> retry_after;
  bool cancelled = false;
  bool too_large = false;
  absl::Status stream_error;
  internal::SseParser sse;
};

namespace {

struct TransferState {
  bool stream = false;
  int64_t max_bytes = 0;
  const ChatCallbacks* callbacks = nullptr;
  // Set by the header callback from the status line.
  long status = 0;
  std::string* body = nullptr;
  internal::SseParser* sse = nullptr;
  absl::Status* stream_error = nullptr;
  absl::optional<absl::Duration>* retry_after = nullptr;
  bool* too_large = nullptr;
  int64_t received = 0;
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  absl::string_view line(data, size * count);
  if (absl::StartsWith(line, "HTTP/")) {
    // A new response (after a 100 Continue, or a redirect): start afresh.
    size_t space = line.find(' ');
    long status = 0;
    if (space != absl::string_view::npos &&
        absl::SimpleAtoi(line.substr(space + 1, 3), &status)) {
      state->status = status;
    }
    state->body->clear();
    state->received = 0;
  } else if (absl::StartsWithIgnoreCase(line, "retry-after:")) {
    *state->retry_after = internal::ParseRetryAfter(
        line.substr(12), absl::Now());
  }
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  const size_t n = size * count;
  state->received += static_cast<int64_t>(n);
  if (state->received > state->max_bytes) {
    *state->too_large = true;
    return 0;  // stops the transfer
  }
  if (state->stream && state->status == 200) {
    absl::Status fed = state->sse->Feed(absl::string_view(data, n));
    if (!fed.ok()) {
      *state->stream_error = fed;
      return 0;
    }
    std::string delta = state->sse->TakeDelta();
    if (!delta.empty() && state->callbacks->on_delta) {
      state->callbacks->on_delta(delta);
    }
    return n;
  }
  state->body->append(data, n);
  return n;
}

}  // namespace

absl::StatusOr<std::unique_ptr<OpenAiClient>> OpenAiClient::Create(
    Options options) {
  absl::string_view url = options.base_url;
  if (!(absl::StartsWith(url, "http://") || absl::StartsWith(url, "https://")) ||
      url.find(' ') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "OPENAI_BASE_URL '", options.base_url,
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
      endpoint_(absl::StrCat(absl::StripSuffix(options_.base_url, "/"),
                             "/chat/completions")) {}

OpenAiClient::~OpenAiClient() = default;

std::unique_ptr<OpenAiClient::Handle> OpenAiClient::Borrow() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      auto handle = std::move(idle_.back());
      idle_.pop_back();
      return handle;
    }
  }
  return std::make_unique<Handle>();
}

void OpenAiClient::Return(std::unique_ptr<Handle> handle) {
  absl::MutexLock lock(&mu_);
  if (idle_.size() < 8) idle_.push_back(std::move(handle));
}

OpenAiClient::Attempt OpenAiClient::Perform(Handle& handle,
                                            const std::string& body,
                                            bool stream,
                                            const ChatCallbacks& callbacks,
                                            CancellationToken& cancel) {
  Attempt attempt;
  TransferState state;
  state.stream = stream;
  state.max_bytes = options_.max_response_bytes;
  state.callbacks = &callbacks;
  state.body = &attempt.body;
  state.sse = &attempt.sse;
  state.stream_error = &attempt.stream_error;
  state.retry_after = &attempt.retry_after;
  state.too_large = &attempt.too_large;

  CURL* easy = handle.easy;
  curl_easy_reset(easy);
  struct curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(
      headers, stream ? "Accept: text/event-stream" : "Accept: application/json");
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  std::string auth;
  std::string azure;
  if (!options_.api_key.empty()) {
    auth = absl::StrCat("Authorization: Bearer ", options_.api_key);
    azure = absl::StrCat("api-key: ", options_.api_key);
    headers = curl_slist_append(headers, auth.c_str());
    headers = curl_slist_append(headers, azure.c_str());
  }
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(easy, CURLOPT_URL, endpoint_.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.request_timeout)));
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &state);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "vet-analytics");

  curl_multi_add_handle(handle.multi, easy);
  {
    // Wakes the poll below from the cancelling thread.
    ScopedCancellationCallback on_cancel(
        cancel, [&handle] { curl_multi_wakeup(handle.multi); });
    int running = 1;
    while (running > 0) {
      if (cancel.IsCancelled()) {
        attempt.cancelled = true;
        break;
      }
      CURLMcode mc = curl_multi_perform(handle.multi, &running);
      if (mc != CURLM_OK) break;
      if (running == 0) break;
      curl_multi_poll(handle.multi, nullptr, 0, 1000, nullptr);
    }
  }
  int queued;
  while (CURLMsg* msg = curl_multi_info_read(handle.multi, &queued)) {
    if (msg->msg == CURLMSG_DONE) attempt.curl = msg->data.result;
  }
  curl_multi_remove_handle(handle.multi, easy);
  curl_slist_free_all(headers);
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &attempt.status);
  if (attempt.status == 0) attempt.status = state.status;
  attempt.curl_error = error_buffer[0] != '\0' ? error_buffer
                                               : curl_easy_strerror(attempt.curl);
  return attempt;
}

absl::StatusOr<ChatResponse> OpenAiClient::Complete(
    const ChatRequest& request, const ChatCallbacks& callbacks,
    CancellationToken& cancel) {
  const std::string body = RequestBody(request);
  std::mt19937_64 random(std::random_device{}());
  absl::Status last;
  for (int number = 1; number <= options_.max_attempts; ++number) {
    VET_RETURN_IF_ERROR(cancel.Check("before calling the model"));
    std::unique_ptr<Handle> handle = Borrow();
    if (handle->easy == nullptr || handle->multi == nullptr) {
      return absl::InternalError("the model client could not create a curl handle");
    }
    Attempt attempt = Perform(*handle, body, request.stream, callbacks, cancel);
    if (attempt.cancelled) {
      // The transfer was cut: its connection is not reusable.
      return absl::CancelledError("the question was cancelled during the model call");
    }
    Return(std::move(handle));

    bool retryable = false;
    if (attempt.too_large) {
      return absl::InternalError(absl::StrCat(
          "the model's reply was larger than ", options_.max_response_bytes,
          " bytes"));
    } else if (!attempt.stream_error.ok()) {
      last = attempt.stream_error;
      retryable = attempt.stream_error.code() == absl::StatusCode::kUnavailable;
      if (!retryable) return last;
    } else if (attempt.curl != CURLE_OK) {
      last = absl::UnavailableError(absl::StrCat(
          "the model server at ", options_.base_url, " could not be reached: ",
          attempt.curl_error));
      if (attempt.curl == CURLE_OPERATION_TIMEDOUT) {
        last = absl::UnavailableError(absl::StrCat(
            "the model server at ", options_.base_url, " did not answer within ",
            absl::FormatDuration(options_.request_timeout), " (", attempt.curl_error, ")"));
      }
      retryable = IsRetryableCurlError(attempt.curl);
      if (!retryable) return last;
    } else if (attempt.status == 200) {
      if (request.stream) {
        // A stream that stops without [DONE] or a finish reason was cut
        // short: its code is incomplete, never taken as the reply.
        if (attempt.sse.done() || !attempt.sse.response().finish_reason.empty()) {
          return attempt.sse.response();
        }
        last = absl::UnavailableError(absl::StrCat(
            "the model server's stream ended before the reply was complete (",
            attempt.sse.response().content.size(), " bytes of content)"));
        retryable = true;
      } else {
        return internal::ParseCompletion(attempt.body);
      }
    } else {
      const std::string message = internal::ErrorMessage(attempt.body);
      const std::string said =
          message.empty() ? "" : absl::StrCat(": ", message);
      if (attempt.status == 401 || attempt.status == 403) {
        return absl::PermissionDeniedError(absl::StrCat(
            "the model server refused the API key (HTTP ", attempt.status,
            ")", said, "; check OPENAI_API_KEY"));
      }
      if (attempt.status == 429 || attempt.status >= 500) {
        last = absl::UnavailableError(absl::StrCat(
            "the model server answered HTTP ", attempt.status,
            attempt.status == 429 ? " (rate limited)" : "", said));
        retryable = true;
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            "the model server refused the request (HTTP ", attempt.status,
            ")", said));
      }
    }
    if (!retryable || number == options_.max_attempts) break;

    // Full jitter over a capped exponential; Retry-After when the server
    // gives one (and it is not unreasonably long).
    absl::Duration ceiling = std::min(
        options_.max_backoff, options_.initial_backoff * (int64_t{1} << (number - 1)));
    std::uniform_real_distribution<double> fraction(0.0, 1.0);
    absl::Duration wait = ceiling * fraction(random);
    if (attempt.retry_after.has_value()) {
      if (*attempt.retry_after > options_.max_retry_after) {
        return absl::UnavailableError(absl::StrCat(
            last.message(), "; it asked to retry after ",
            absl::FormatDuration(*attempt.retry_after), ", longer than ",
            absl::FormatDuration(options_.max_retry_after)));
      }
      wait = *attempt.retry_after;
    }
    if (callbacks.on_retry) {
      callbacks.on_retry(absl::StrCat(
          last.message(), "; retrying in ",
          absl::FormatDuration(absl::Trunc(wait, absl::Milliseconds(1))),
          " (attempt ", number + 1, " of ", options_.max_attempts, ")"));
    }
    if (cancel.WaitFor(wait)) {
      return absl::CancelledError("the question was cancelled while waiting to retry the model");
    }
  }
  return absl::UnavailableError(absl::StrCat(
      last.message(), " (after ", options_.max_attempts, " attempts)"));
}

}  // namespace vet::codegen
