// vetctl chat without gRPC: the line grammar, the prompt, and reading plain
// lines that Ctrl-C can interrupt.
#include "clients/chat.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace vet::cli {

const char kChatHelp[] =
    R"(Type a question and press Enter; each question continues the session.
  /help       this text
  /session    the current session id
  /new        start a new session with the next question
  /history    the session's turns so far
  /budget     the practice's budget
  /end        end the session on the server and start fresh
  /quit       leave (also /exit, or Ctrl-D)
Ctrl-C cancels the question that is running; at the prompt it clears the line.
)";

ChatLine ParseChatLine(absl::string_view line) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(line);
  ChatLine parsed;
  if (trimmed.empty()) return parsed;
  if (trimmed[0] != '/') {
    parsed.command = ChatCommand::kQuestion;
    parsed.text = std::string(trimmed);
    return parsed;
  }
  static constexpr struct {
    const char* name;
    ChatCommand command;
  } kCommands[] = {
      {"/help", ChatCommand::kHelp},       {"/?", ChatCommand::kHelp},
      {"/session", ChatCommand::kSession}, {"/new", ChatCommand::kNew},
      {"/history", ChatCommand::kHistory}, {"/budget", ChatCommand::kBudget},
      {"/end", ChatCommand::kEnd},         {"/quit", ChatCommand::kQuit},
      {"/exit", ChatCommand::kQuit},
  };
  for (const auto& entry : kCommands) {
    if (trimmed == entry.name) {
      parsed.command = entry.command;
      return parsed;
    }
  }
  parsed.command = ChatCommand::kUnknown;
  parsed.text = std::string(trimmed);
  return parsed;
}

std::string ChatPrompt(absl::string_view practice, int next_turn) {
  if (next_turn <= 0) return absl::StrCat(practice, "> ");
  return absl::StrCat(practice, " #", next_turn, "> ");
}

absl::StatusOr<std::unique_ptr<WakePipe>> WakePipe::Create() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return absl::InternalError(absl::StrCat("pipe: errno ", errno));
  }
  return std::unique_ptr<WakePipe>(new WakePipe(fds[0], fds[1]));
}

void WakePipe::Notify() {
  const char byte = 1;
  // Non-blocking: a full pipe already holds a notification.
  [[maybe_unused]] const ssize_t written = write(write_fd_.get(), &byte, 1);
}

bool WakePipe::Drain() {
  bool any = false;
  char bytes[64];
  ssize_t n;
  while ((n = read(read_fd_.get(), bytes, sizeof(bytes))) > 0 ||
         (n < 0 && errno == EINTR)) {
    if (n > 0) any = true;
  }
  return any;
}

LineReader::Result FdLineReader::ReadLine(const std::string& /*prompt*/) {
  Result result;
  for (;;) {
    if (const size_t newline = buffer_.find('\n');
        newline != std::string::npos) {
      result.status = Status::kLine;
      result.line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      if (!result.line.empty() && result.line.back() == '\r') {
        result.line.pop_back();
      }
      return result;
    }
    if (eof_) {
      if (buffer_.empty()) return result;  // kEof
      result.status = Status::kLine;
      result.line.swap(buffer_);
      return result;
    }
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_.read_fd(), POLLIN, 0}};
    if (poll(fds, 2, /*timeout=*/-1) < 0) {
      if (errno == EINTR) continue;
      eof_ = true;
      continue;
    }
    // An interrupt wins over input that is already there.
    if ((fds[1].revents & POLLIN) != 0 && wake_.Drain()) {
      result.status = Status::kInterrupted;
      return result;
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    char chunk[4096];
    const ssize_t n = read(fd_, chunk, sizeof(chunk));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      eof_ = true;
      continue;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace vet::cli
