// The parts of `vetctl chat` that do not speak gRPC: what a typed line means
// (a question or a /command), the prompt, the help text, and where lines come
// from. A LineReader is either FdLineReader (plain lines from a pipe or file:
// scriptable, no escape codes) or EditLineReader (line_editor.h: libedit on a
// terminal). Both wait on a WakePipe too, so that Ctrl-C, which main's signal
// thread receives, can interrupt a prompt.
#ifndef VET_CLIENTS_CHAT_H_
#define VET_CLIENTS_CHAT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/common/unique_fd.h"

namespace vet::cli {

// The commands typed inside chat, for /help and for `vetctl help`.
extern const char kChatHelp[];

enum class ChatCommand {
  kEmpty,     // nothing but white space: ignored
  kQuestion,  // anything not starting with '/'
  kHelp,      // /help (also /?)
  kSession,   // /session: print the session id
  kNew,       // /new: the next question starts a new session
  kHistory,   // /history: GetSession, the turns so far
  kBudget,    // /budget: GetBudget
  kEnd,       // /end: EndSession, then start fresh
  kQuit,      // /quit or /exit
  kUnknown,   // any other /word
};

struct ChatLine {
  ChatCommand command = ChatCommand::kEmpty;
  // kQuestion: the question, trimmed; kUnknown: the command as typed.
  std::string text;
};

// What `line` asks for. Commands are case-sensitive, surrounding white space
// is ignored, and a command takes no arguments (one with arguments is
// kUnknown, so that a typo never becomes a question).
ChatLine ParseChatLine(absl::string_view line);

// "demo #3> " when the next question is turn 3 of its session; "demo> " when
// the turn is not known yet (a --session given, no question asked so far).
std::string ChatPrompt(absl::string_view practice, int next_turn);

// A self-pipe: Notify() wakes a LineReader waiting for input. Notify() is
// async-signal-safe and thread-safe; the other methods are for the reading
// thread.
class WakePipe {
 public:
  // kInternal if the pipe cannot be made.
  static absl::StatusOr<std::unique_ptr<WakePipe>> Create();
  WakePipe(const WakePipe&) = delete;
  WakePipe& operator=(const WakePipe&) = delete;

  void Notify();
  // Consumes every pending notification; true if there was one.
  bool Drain();
  int read_fd() const { return read_fd_.get(); }

 private:
  WakePipe(int read_fd, int write_fd)
      : read_fd_(read_fd), write_fd_(write_fd) {}
  const UniqueFd read_fd_;
  const UniqueFd write_fd_;
};

// Where chat's lines come from. Used from one thread.
class LineReader {
 public:
  enum class Status { kLine, kEof, kInterrupted };
  struct Result {
    Status status = Status::kEof;
    // kLine: the line, without its newline.
    std::string line;
  };

  virtual ~LineReader() = default;
  // Waits for the next line, showing `prompt` if the reader shows prompts.
  // kInterrupted when the wake pipe was notified first (a line being edited
  // is dropped); kEof at the end of the input (Ctrl-D on a terminal).
  virtual Result ReadLine(const std::string& prompt) = 0;
  // Adds `line` to the history that up-arrow recalls (and that is saved).
  virtual void AddHistory(const std::string& line) {}
  // True for a terminal with line editing: Ctrl-C at the prompt clears the
  // line rather than ending the chat, and chat prints a greeting.
  virtual bool interactive() const { return false; }
};

// Plain lines from `fd` (not owned; stdin in vetctl), with no prompt and no
// escape codes. Reads with poll() on `fd` and `wake`, so it can be
// interrupted. A last line without a newline is still a line. A trailing
// '\r' is removed.
class FdLineReader : public LineReader {
 public:
  FdLineReader(int fd, WakePipe& wake) : fd_(fd), wake_(wake) {}
  Result ReadLine(const std::string& prompt) override;

 private:
  const int fd_;
  WakePipe& wake_;
  std::string buffer_;
  bool eof_ = false;
};

}  // namespace vet::cli

#endif  // VET_CLIENTS_CHAT_H_
