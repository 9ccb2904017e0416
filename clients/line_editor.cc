// libedit's readline API in its callback form: poll() waits on the terminal
// and on the wake pipe at once, so that Ctrl-C (which main's signal thread
// receives, SIGINT being blocked everywhere else) can clear the line without
// a signal handler racing libedit.
#include "clients/line_editor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "core/common/unique_fd.h"

// After the C++ headers: it defines macros such as CTRL.
#include <editline/readline.h>

namespace vet::cli {
namespace {

// The line the callback handed over. libedit's callback takes a plain
// function, and its state is global anyway.
struct PendingLine {
  bool done = false;
  bool eof = false;
  std::string line;
};
PendingLine* pending = nullptr;

void OnLine(char* line) {
  if (pending == nullptr) return;
  pending->done = true;
  if (line == nullptr) {
    pending->eof = true;
  } else {
    pending->line = line;
    free(line);  // strdup'ed by libedit
  }
}

// libedit keeps this many lines; the file holds the same.
constexpr int kHistoryLines = 1000;

}  // namespace

std::string DefaultChatHistoryFile() {
  std::filesystem::path dir;
  if (const char* state = getenv("XDG_STATE_HOME");
      state != nullptr && state[0] == '/') {
    dir = state;
  } else if (const char* home = getenv("HOME");
             home != nullptr && home[0] != '\0') {
    dir = std::filesystem::path(home) / ".local" / "state";
  } else {
    return "";
  }
  return (dir / "vet-analytics" / "chat_history").string();
}

EditLineReader::EditLineReader(WakePipe& wake, std::string history_file)
    : wake_(wake), history_file_(std::move(history_file)) {
  rl_readline_name = "vetctl";
  rl_instream = stdin;
  // Prompt and editing on stderr, like a shell: stdout holds only answers.
  rl_outstream = stderr;
  rl_initialize();
  using_history();
  stifle_history(kHistoryLines);
  if (!history_file_.empty()) read_history(history_file_.c_str());
}

EditLineReader::~EditLineReader() {
  if (history_file_.empty()) return;
  const std::filesystem::path path(history_file_);
  std::error_code error;
  if (!std::filesystem::exists(path.parent_path(), error)) {
    std::filesystem::create_directories(path.parent_path(), error);
    if (error) return;
    chmod(path.parent_path().c_str(), 0700);
  }
  // The questions may name clients: only the user may read them. Made
  // before write_history, which keeps an existing file's mode.
  const UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return;
  fchmod(fd.get(), 0600);
  write_history(path.c_str());
}

LineReader::Result EditLineReader::ReadLine(const std::string& prompt) {
  PendingLine line;
  pending = &line;
  rl_callback_handler_install(prompt.c_str(), &OnLine);
  Result result;
  while (!line.done) {
    pollfd fds[2] = {{fileno(rl_instream), POLLIN, 0},
                     {wake_.read_fd(), POLLIN, 0}};
    if (poll(fds, 2, /*timeout=*/-1) < 0) {
      if (errno == EINTR) continue;
      line.done = line.eof = true;
      break;
    }
    if ((fds[1].revents & POLLIN) != 0 && wake_.Drain()) {
      // Leaving callback mode restores the terminal; installing the handler
      // again starts an empty line.
      rl_callback_handler_remove();
      fputs("^C\n", rl_outstream);
      fflush(rl_outstream);
      pending = nullptr;
      result.status = Status::kInterrupted;
      return result;
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      rl_callback_read_char();
    }
  }
  rl_callback_handler_remove();
  pending = nullptr;
  if (line.eof) {
    // Ctrl-D leaves the cursor after the prompt.
    fputs("\n", rl_outstream);
    fflush(rl_outstream);
    return result;  // kEof
  }
  result.status = Status::kLine;
  result.line = std::move(line.line);
  return result;
}

void EditLineReader::AddHistory(const std::string& line) {
  add_history(line.c_str());
}

}  // namespace vet::cli
