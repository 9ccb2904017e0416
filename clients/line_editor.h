// Line editing for `vetctl chat` on a terminal: libedit's readline API with
// in-session history (up-arrow) and a history file. vetctl_process_test runs
// it in the vetctl binary on a pseudo-terminal; chat's logic is tested
// through FdLineReader.
#ifndef VET_CLIENTS_LINE_EDITOR_H_
#define VET_CLIENTS_LINE_EDITOR_H_

#include <memory>
#include <string>

#include "clients/chat.h"

namespace vet::cli {

// The default history file: $XDG_STATE_HOME/vet-analytics/chat_history, with
// XDG_STATE_HOME defaulting to $HOME/.local/state; "" if neither is set.
std::string DefaultChatHistoryFile();

// Edits lines on the terminal of stdin, drawing the prompt and the line on
// stderr (stdout keeps the answers alone). libedit's readline state is
// global: make at most one at a time, and use it from one thread. Ctrl-C
// reaches it as a notification of `wake` (main's signal thread), which drops
// the line being edited and returns kInterrupted.
class EditLineReader : public LineReader {
 public:
  // `history_file` ("" for none) is read now and rewritten, mode 0600 in a
  // directory made 0700, by the destructor; failing to read or write it is
  // not an error.
  EditLineReader(WakePipe& wake, std::string history_file);
  ~EditLineReader() override;
  EditLineReader(const EditLineReader&) = delete;
  EditLineReader& operator=(const EditLineReader&) = delete;

  Result ReadLine(const std::string& prompt) override;
  void AddHistory(const std::string& line) override;
  bool interactive() const override { return true; }

 private:
  WakePipe& wake_;
  const std::string history_file_;
};

}  // namespace vet::cli

#endif  // VET_CLIENTS_LINE_EDITOR_H_
