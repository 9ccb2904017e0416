// What vetctl does with the events of one Ask stream: JsonAskPrinter writes
// each as one JSON line; HumanAskPrinter shows them for people, with a
// progress line on a terminal and artifacts saved to files.
#ifndef VET_CLIENTS_ASK_PRINTER_H_
#define VET_CLIENTS_ASK_PRINTER_H_

#include <map>
#include <ostream>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "clients/args.h"
#include "clients/format.h"
#include "vetanalytics/v1/analytics.pb.h"

namespace vet::cli {

// Receives one stream's events in order, on one thread: Start(), OnEvent()
// per event, then Finish() once the stream has ended (before any error is
// reported).
class AskPrinter {
 public:
  virtual ~AskPrinter() = default;
  virtual void Start() {}
  virtual void OnEvent(const vetanalytics::v1::AskEvent& event) = 0;
  virtual void Finish() {}
};

// Each event as one line of proto3 JSON on `out`, flushed; nothing else.
// Artifacts stay in the JSON (base64), no file is written.
class JsonAskPrinter : public AskPrinter {
 public:
  explicit JsonAskPrinter(std::ostream& out) : out_(out) {}
  void OnEvent(const vetanalytics::v1::AskEvent& event) override;

 private:
  std::ostream& out_;
};

// A one-line spinner on a terminal's stderr: "⠹ generating code… 4s". Draws
// only when enabled; redraws from its own thread every `frame` while shown.
// Call Show(), Hide() and Stop() from one thread; drawing is serialized with
// them. Hide() before writing anything else to the terminal, Show() after:
// the line is erased in between.
class ProgressLine {
 public:
  ProgressLine(std::ostream& err, bool enabled,
               absl::Duration frame = absl::Milliseconds(100));
  ~ProgressLine();  // Stop()s.
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // Shows `label` (replacing the previous one) and starts the thread.
  void Show(absl::string_view label);
  // Erases the line; it stays hidden until the next Show().
  void Hide();
  // Erases the line and joins the thread; later calls do nothing.
  void Stop();

 private:
  void Loop();
  void DrawLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EraseLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::ostream& err_;
  const bool enabled_;
  const absl::Duration frame_;
  absl::Mutex mu_;
  std::string label_ ABSL_GUARDED_BY(mu_);
  bool visible_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  int tick_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time started_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::thread thread_;
};

// Saves `artifact` as <out_dir>/<session_id>/<name>, creating directories,
// and returns the path written. Both name parts are reduced to a safe file
// name (no directories, no leading dots; [A-Za-z0-9._-] only); a name without
// an extension gets one from the MIME type. Returns kInternal if the file
// cannot be written.
absl::StatusOr<std::string> SaveArtifact(
    const std::string& out_dir, const std::string& session_id,
    const vetanalytics::v1::Artifact& artifact);

// `name` made into a safe file name, as SaveArtifact does.
std::string SafeFileName(absl::string_view name);

// Puts an artifact sent in parts back together (Artifact.offset and
// total_bytes: consecutive events with the same name, each continuing the
// bytes of the one before). One artifact is assembled at a time, as the
// server sends them. Not thread-safe.
class ArtifactAssembler {
 public:
  struct Added {
    // The whole artifact (offset 0, total_bytes its size), when `part`
    // completed one or was one whole (also one from a server older than
    // parts, which leaves total_bytes 0).
    absl::optional<vetanalytics::v1::Artifact> artifact;
    // The name of an artifact that can no longer be completed: a part did
    // not continue it (another artifact began, bytes are missing) or came
    // without its beginning. What was gathered of it is dropped.
    std::string incomplete;
  };
  Added Add(const vetanalytics::v1::Artifact& part);
  // The artifact being assembled, if any (its data so far, its total_bytes):
  // at the end of a stream, one that never completed.
  const vetanalytics::v1::Artifact* pending() const {
    return pending_.has_value() ? &*pending_ : nullptr;
  }

 private:
  absl::optional<vetanalytics::v1::Artifact> pending_;
};

struct HumanAskOptions {
  FormatOptions format;
  // Show a ProgressLine on `err`.
  bool progress = false;
  // Artifacts go to <out_dir>/<session id>/; empty means the current
  // directory.
  std::string out_dir;
  // After the answer, how to ask a follow-up with `vetctl ask --session`;
  // chat, where the next line is the follow-up, leaves it out.
  bool follow_up_hint = true;
  // How much of the generated code to print (--code).
  CodeView code = CodeView::kSummary;
};

// The events for people: session, budget, generated code, output as it
// streams (stderr lines marked "! "), saved artifacts (parts put together),
// retries, and the answer with its result (where the whole table was saved,
// when the answer holds only part of it) and cost. Writes to `out`; warnings
// and the progress line go to `err`. Both must outlive the printer.
class HumanAskPrinter : public AskPrinter {
 public:
  HumanAskPrinter(HumanAskOptions options, std::ostream& out,
                  std::ostream& err);

  void Start() override;
  void OnEvent(const vetanalytics::v1::AskEvent& event) override;
  void Finish() override;

 private:
  void Print(const vetanalytics::v1::SessionStarted& event);
  void Print(const vetanalytics::v1::BudgetCheck& event);
  void Print(const vetanalytics::v1::CodeGenerated& event);
  void Print(const vetanalytics::v1::ExecutionOutput& event);
  void Print(const vetanalytics::v1::Artifact& part);
  void Print(const vetanalytics::v1::Retry& event);
  void Print(const vetanalytics::v1::FinalAnswer& event);
  // "showing 104 of 1,000 rows; the whole table: <path>" under a table
  // that is not whole.
  void PrintTruncation(const vetanalytics::v1::Table& table);
  void PrintExplanation(const vetanalytics::v1::Explanation& explanation);
  // Ends an unterminated line of program output.
  void EndOutputLine();
  std::string Label(absl::string_view label, Style style) const;

  const HumanAskOptions options_;
  std::ostream& out_;
  std::ostream& err_;
  ProgressLine progress_;
  std::string progress_label_;
  // Bytes of code a model has streamed so far (CodeDelta events).
  size_t streamed_code_bytes_ = 0;
  std::string session_id_;
  ArtifactAssembler artifacts_;
  // Artifact name -> where it was saved, for the answer to point at.
  std::map<std::string, std::string> saved_;
  // Program output of the current attempt: shown yet, last chunk from
  // stderr, and whether the last line is complete.
  bool output_started_ = false;
  bool last_was_stderr_ = false;
  bool at_line_start_ = true;
};

}  // namespace vet::cli

#endif  // VET_CLIENTS_ASK_PRINTER_H_
