#include "tests/testing/fake_openai_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace vet::testing {
namespace {

// Far above anything the client sends; only there so garbage input cannot
// make the fake buffer without bound.
constexpr size_t kMaxHeaderBytes = size_t{64} * 1024;
constexpr size_t kMaxBodyBytes = size_t{64} * 1024 * 1024;
// Fixed so scripted bodies are byte-for-byte reproducible between runs.
constexpr int64_t kCreated = 1700000000;

absl::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

// poll() takes whole milliseconds; round up so a short delay is not zero.
int PollTimeoutMs(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return -1;
  if (d <= absl::ZeroDuration()) return 0;
  int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1)));
  return static_cast<int>(std::min<int64_t>(ms, std::numeric_limits<int>::max()));
}

// What one connection needs to wait on `fd` while staying stoppable.
class Conn {
 public:
  Conn(int fd, int wake_fd, std::function<void(absl::string_view)> on_received)
      : fd_(fd), wake_fd_(wake_fd), on_received_(std::move(on_received)) {}

  // Waits `d` or until the server stops; false means stop.
  bool Sleep(absl::Duration d) const {
    absl::Time deadline = absl::Now() + d;
    for (;;) {
      absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return true;
      pollfd p{wake_fd_, POLLIN, 0};
      int n = poll(&p, 1, PollTimeoutMs(left));
      if (n > 0) return false;
      if (n < 0 && errno != EINTR) return false;
    }
  }

  // Appends what the peer sent next; false on EOF, error or stop.
  bool ReadMore(std::string& buf) const {
    for (;;) {
      pollfd p[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      int n = poll(p, 2, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      if (p[1].revents != 0) return false;
      char chunk[16 * 1024];
      ssize_t got = recv(fd_, chunk, sizeof(chunk), MSG_DONTWAIT);
      if (got > 0) {
        buf.append(chunk, static_cast<size_t>(got));
        on_received_(absl::string_view(chunk, static_cast<size_t>(got)));
        return true;
      }
      if (got < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      return false;
    }
  }

  // Writes all of `data`; false if the peer went away or the server stops.
  bool WriteAll(absl::string_view data) const {
    while (!data.empty()) {
      pollfd p[2] = {{fd_, POLLOUT, 0}, {wake_fd_, POLLIN, 0}};
      int n = poll(p, 2, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      if (p[1].revents != 0) return false;
      ssize_t sent = send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent > 0) {
        data.remove_prefix(static_cast<size_t>(sent));
        continue;
      }
      if (sent < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      return false;
    }
    return true;
  }

  // For `hang`: keeps the connection open, discarding input, until the peer
  // closes it or the server stops.
  void WaitForCloseOrStop() const {
    std::string discard;
    while (ReadMore(discard)) discard.clear();
  }

 private:
  const int fd_;
  const int wake_fd_;
  const std::function<void(absl::string_view)> on_received_;
};

struct ParsedHead {
  std::string method;
  std::string target;
  std::string version;
  std::map<std::string, std::string> headers;
};

// Parses the request line and header fields (without the blank line).
// Repeated header names are joined with ", " as RFC 9110 allows.
bool ParseHead(absl::string_view head, ParsedHead& out) {
  std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
  if (lines.empty()) return false;
  std::vector<absl::string_view> parts = absl::StrSplit(lines[0], ' ', absl::SkipEmpty());
  if (parts.size() != 3 || !absl::StartsWith(parts[2], "HTTP/1.")) return false;
  out.method = std::string(parts[0]);
  out.target = std::string(parts[1]);
  out.version = std::string(parts[2]);
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos || colon == 0) return false;
    std::string name = absl::AsciiStrToLower(lines[i].substr(0, colon));
    std::string value = std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    auto [it, inserted] = out.headers.emplace(name, value);
    if (!inserted) absl::StrAppend(&it->second, ", ", value);
  }
  return true;
}

bool HeaderHasToken(const std::map<std::string, std::string>& headers, const std::string& name,
                    absl::string_view token) {
  auto it = headers.find(name);
  if (it == headers.end()) return false;
  for (absl::string_view t : absl::StrSplit(it->second, ',')) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(t), token)) return true;
  }
  return false;
}

std::string StatusLine(int status) {
  return absl::StrCat("HTTP/1.1 ", status, " ", ReasonPhrase(status), "\r\n");
}

// A response the fake itself produces for input it will not handle; the
// connection is closed after it because framing can no longer be trusted.
std::string ProtocolError(int status, absl::string_view message) {
  std::string body = absl::StrCat(R"({"error":{"message":")", message, R"("}})");
  return absl::StrCat(StatusLine(status),
                      "Content-Type: application/json\r\nConnection: close\r\n"
                      "Content-Length: ",
                      body.size(), "\r\n\r\n", body);
}

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void WriteString(JsonWriter& w, absl::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void WriteUsage(JsonWriter& w, int prompt_tokens, int completion_tokens) {
  w.Key("usage");
  w.StartObject();
  w.Key("prompt_tokens");
  w.Int(prompt_tokens);
  w.Key("completion_tokens");
  w.Int(completion_tokens);
  w.Key("total_tokens");
  w.Int(prompt_tokens + completion_tokens);
  w.EndObject();
}

void WriteChunkPrologue(JsonWriter& w, absl::string_view model) {
  w.Key("id");
  w.String("chatcmpl-fake");
  w.Key("object");
  w.String("chat.completion.chunk");
  w.Key("created");
  w.Int64(kCreated);
  w.Key("model");
  WriteString(w, model);
}

std::string SseEvent(const rapidjson::StringBuffer& json) {
  return absl::StrCat("data: ", absl::string_view(json.GetString(), json.GetSize()), "\n\n");
}

}  // namespace

absl::StatusOr<std::unique_ptr<FakeOpenAiServer>> FakeOpenAiServer::Start() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    absl::Status s = absl::ErrnoToStatus(errno, "binding 127.0.0.1:0");
    close(fd);
    return s;
  }
  int wake[2];
  if (pipe2(wake, O_CLOEXEC) != 0) {
    absl::Status s = absl::ErrnoToStatus(errno, "pipe2");
    close(fd);
    return s;
  }
  std::unique_ptr<FakeOpenAiServer> server(
      new FakeOpenAiServer(fd, wake[0], wake[1], ntohs(addr.sin_port)));
  server->accept_thread_ = std::thread([s = server.get()] { s->AcceptLoop(); });
  return server;
}

FakeOpenAiServer::FakeOpenAiServer(int listen_fd, int wake_read_fd, int wake_write_fd, int port)
    : listen_fd_(listen_fd),
      wake_read_fd_(wake_read_fd),
      wake_write_fd_(wake_write_fd),
      port_(port) {}

FakeOpenAiServer::~FakeOpenAiServer() {
  stopping_.store(true);
  char byte = 0;
  while (write(wake_write_fd_, &byte, 1) < 0 && errno == EINTR) {
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  // The accept thread has exited, so the list no longer grows.
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    threads.swap(connection_threads_);
  }
  for (std::thread& t : threads) t.join();
  close(listen_fd_);
  close(wake_read_fd_);
  close(wake_write_fd_);
}

std::string FakeOpenAiServer::base_url() const {
  return absl::StrCat("http://127.0.0.1:", port_, "/v1");
}

void FakeOpenAiServer::Enqueue(Response r) {
  absl::MutexLock lock(&mu_);
  scripted_.push_back(std::move(r));
}

std::vector<FakeOpenAiServer::Request> FakeOpenAiServer::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

std::string FakeOpenAiServer::received_bytes() const {
  absl::MutexLock lock(&mu_);
  return received_;
}

int FakeOpenAiServer::connections() const {
  absl::MutexLock lock(&mu_);
  return connections_;
}

void FakeOpenAiServer::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_read_fd_, POLLIN, 0}};
    int n = poll(p, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents != 0) return;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;  // e.g. the peer reset before accept; keep serving
    absl::MutexLock lock(&mu_);
    int connection = ++connections_;
    connection_threads_.emplace_back([this, fd, connection] { ServeConnection(fd, connection); });
  }
}

FakeOpenAiServer::Response FakeOpenAiServer::TakeResponse(Request request) {
  absl::MutexLock lock(&mu_);
  Response r;
  if (!scripted_.empty()) {
    r = std::move(scripted_.front());
    scripted_.pop_front();
  } else if (responder_) {
    r = responder_(request);
  } else {
    r = Error(500, "no scripted response", "server_error");
  }
  if (record_requests_) requests_.push_back(std::move(request));
  return r;
}

void FakeOpenAiServer::SetResponder(std::function<Response(const Request&)> responder) {
  absl::MutexLock lock(&mu_);
  responder_ = std::move(responder);
}

void FakeOpenAiServer::set_record_requests(bool record) {
  absl::MutexLock lock(&mu_);
  record_requests_ = record;
}

void FakeOpenAiServer::ServeConnection(int fd, int connection) {
  const Conn conn(fd, wake_read_fd_, [this](absl::string_view bytes) {
    absl::MutexLock lock(&mu_);
    if (record_requests_) received_.append(bytes.data(), bytes.size());
  });
  std::string buf;
  bool keep_alive = true;
  while (keep_alive && !stopping_.load()) {
    size_t head_end = buf.find("\r\n\r\n");
    if (head_end == std::string::npos) {
      if (buf.size() > kMaxHeaderBytes) {
        conn.WriteAll(ProtocolError(431, "request head too large"));
        break;
      }
      if (!conn.ReadMore(buf)) break;
      continue;
    }
    ParsedHead head;
    if (!ParseHead(absl::string_view(buf).substr(0, head_end), head)) {
      conn.WriteAll(ProtocolError(400, "malformed request head"));
      break;
    }
    // The client under test never sends chunked bodies; refusing keeps the
    // framing logic to Content-Length only.
    if (head.headers.count("transfer-encoding") != 0) {
      conn.WriteAll(ProtocolError(501, "chunked request bodies are not supported"));
      break;
    }
    size_t content_length = 0;
    if (auto it = head.headers.find("content-length"); it != head.headers.end()) {
      uint64_t parsed = 0;
      if (!absl::SimpleAtoi(it->second, &parsed)) {
        conn.WriteAll(ProtocolError(400, "bad Content-Length"));
        break;
      }
      if (parsed > kMaxBodyBytes) {
        conn.WriteAll(ProtocolError(413, "body too large"));
        break;
      }
      content_length = static_cast<size_t>(parsed);
    }
    const size_t body_start = head_end + 4;
    const size_t request_end = body_start + content_length;
    // libcurl holds back a large POST body until it sees 100 Continue (or
    // gives up after a second), so answering it keeps tests fast.
    if (buf.size() < request_end && HeaderHasToken(head.headers, "expect", "100-continue")) {
      if (!conn.WriteAll("HTTP/1.1 100 Continue\r\n\r\n")) break;
    }
    bool complete = true;
    while (buf.size() < request_end) {
      if (!conn.ReadMore(buf)) {
        complete = false;
        break;
      }
    }
    if (!complete) break;

    Request request;
    request.method = std::move(head.method);
    request.path = std::move(head.target);
    request.body = buf.substr(body_start, content_length);
    request.connection = connection;
    const bool client_wants_close =
        HeaderHasToken(head.headers, "connection", "close") ||
        (head.version == "HTTP/1.0" && !HeaderHasToken(head.headers, "connection", "keep-alive"));
    request.headers = std::move(head.headers);
    buf.erase(0, request_end);

    Response r = TakeResponse(std::move(request));
    if (r.hang) {
      conn.WaitForCloseOrStop();
      break;
    }
    if (r.close_without_response) break;
    if (!conn.Sleep(r.delay)) break;

    keep_alive = !r.close_after && !client_wants_close;
    std::string out = StatusLine(r.status);
    bool has_content_type = false;
    for (const auto& [name, value] : r.headers) {
      if (absl::EqualsIgnoreCase(name, "content-type")) has_content_type = true;
      absl::StrAppend(&out, name, ": ", value, "\r\n");
    }
    if (!has_content_type) absl::StrAppend(&out, "Content-Type: application/json\r\n");
    if (!keep_alive) absl::StrAppend(&out, "Connection: close\r\n");
    if (r.chunks.empty()) {
      absl::StrAppend(&out, "Content-Length: ", r.body.size(), "\r\n\r\n", r.body);
      if (!conn.WriteAll(out)) break;
      continue;
    }
    absl::StrAppend(&out, "Transfer-Encoding: chunked\r\n\r\n");
    bool ok = conn.WriteAll(out);
    bool first = true;
    for (const std::string& piece : r.chunks) {
      if (!ok) break;
      if (piece.empty()) continue;
      if (!first && !(ok = conn.Sleep(r.chunk_delay))) break;
      first = false;
      ok = conn.WriteAll(absl::StrCat(absl::Hex(piece.size()), "\r\n", piece, "\r\n"));
    }
    if (!ok || !conn.WriteAll("0\r\n\r\n")) break;
  }
  // Half-close first so a reply just written is not cut off by a reset when
  // unread input is still queued.
  shutdown(fd, SHUT_WR);
  close(fd);
}

FakeOpenAiServer::Response FakeOpenAiServer::Completion(const std::string& content, bool with_usage,
                                                        int prompt_tokens, int completion_tokens,
                                                        const std::string& model) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("id");
  w.String("chatcmpl-fake");
  w.Key("object");
  w.String("chat.completion");
  w.Key("created");
  w.Int64(kCreated);
  w.Key("model");
  WriteString(w, model);
  w.Key("choices");
  w.StartArray();
  w.StartObject();
  w.Key("index");
  w.Int(0);
  w.Key("message");
  w.StartObject();
  w.Key("role");
  w.String("assistant");
  w.Key("content");
  WriteString(w, content);
  w.EndObject();
  w.Key("finish_reason");
  w.String("stop");
  w.EndObject();
  w.EndArray();
  if (with_usage) WriteUsage(w, prompt_tokens, completion_tokens);
  w.EndObject();
  Response r;
  r.body.assign(sb.GetString(), sb.GetSize());
  return r;
}

FakeOpenAiServer::Response FakeOpenAiServer::Error(int status, const std::string& message,
                                                   const std::string& type) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("error");
  w.StartObject();
  w.Key("message");
  WriteString(w, message);
  w.Key("type");
  WriteString(w, type);
  w.Key("code");
  w.Null();
  w.EndObject();
  w.EndObject();
  Response r;
  r.status = status;
  r.body.assign(sb.GetString(), sb.GetSize());
  return r;
}

FakeOpenAiServer::Response FakeOpenAiServer::Stream(std::vector<std::string> pieces,
                                                    bool with_usage,
                                                    std::vector<size_t> split_points,
                                                    int prompt_tokens, int completion_tokens) {
  const std::string model = "gpt-5.2-mini";
  std::vector<std::string> events;
  for (size_t i = 0; i < pieces.size(); ++i) {
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    WriteChunkPrologue(w, model);
    w.Key("choices");
    w.StartArray();
    w.StartObject();
    w.Key("index");
    w.Int(0);
    w.Key("delta");
    w.StartObject();
    // Real streams name the role once, in the first chunk.
    if (i == 0) {
      w.Key("role");
      w.String("assistant");
    }
    w.Key("content");
    WriteString(w, pieces[i]);
    w.EndObject();
    w.Key("finish_reason");
    w.Null();
    w.EndObject();
    w.EndArray();
    w.EndObject();
    events.push_back(SseEvent(sb));
  }
  {
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    WriteChunkPrologue(w, model);
    w.Key("choices");
    w.StartArray();
    w.StartObject();
    w.Key("index");
    w.Int(0);
    w.Key("delta");
    w.StartObject();
    w.EndObject();
    w.Key("finish_reason");
    w.String("stop");
    w.EndObject();
    w.EndArray();
    w.EndObject();
    events.push_back(SseEvent(sb));
  }
  if (with_usage) {
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    WriteChunkPrologue(w, model);
    w.Key("choices");
    w.StartArray();
    w.EndArray();
    WriteUsage(w, prompt_tokens, completion_tokens);
    w.EndObject();
    events.push_back(SseEvent(sb));
  }
  events.push_back("data: [DONE]\n\n");

  Response r;
  r.headers = {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}};
  if (split_points.empty()) {
    r.chunks = std::move(events);
    return r;
  }
  std::string sse;
  for (const std::string& e : events) sse += e;
  std::sort(split_points.begin(), split_points.end());
  size_t start = 0;
  for (size_t at : split_points) {
    if (at <= start || at >= sse.size()) continue;
    r.chunks.push_back(sse.substr(start, at - start));
    start = at;
  }
  r.chunks.push_back(sse.substr(start));
  return r;
}

}  // namespace vet::testing
