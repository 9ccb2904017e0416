// Printing an Ask stream: one JSON line per event, or a readable report that
// follows the pipeline as it runs (session, budget, code, output, artifacts,
// retries, answer).
#include "clients/ask_printer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace vet::cli {
namespace {

namespace v1 = ::vetanalytics::v1;

// Labels ("artifact" is the longest) are padded to this many columns.
constexpr size_t kLabelWidth = 9;
constexpr char kDot[] = " · ";
constexpr const char* kSpinner[] = {"⠋", "⠙", "⠹", "⠸", "⠼",
                                    "⠴", "⠦", "⠧", "⠇", "⠏"};
constexpr char kEraseLine[] = "\r\033[2K";

std::string ExtensionFor(absl::string_view mime_type) {
  const std::string mime = absl::AsciiStrToLower(mime_type);
  if (mime == "image/png") return ".png";
  if (mime == "image/jpeg") return ".jpg";
  if (mime == "image/svg+xml") return ".svg";
  if (mime == "text/csv") return ".csv";
  if (mime == "application/json") return ".json";
  if (mime == "text/html") return ".html";
  if (mime == "application/pdf") return ".pdf";
  if (mime == "text/plain") return ".txt";
  return "";
}

std::string Line(absl::string_view text) {
  return SanitizeForTerminal(text, /*keep_newlines=*/false);
}

}  // namespace

void JsonAskPrinter::OnEvent(const v1::AskEvent& event) {
  out_ << JsonLine(event);
  out_.flush();
}

ProgressLine::ProgressLine(std::ostream& err, bool enabled,
                           absl::Duration frame)
    : err_(err), enabled_(enabled), frame_(frame) {}

ProgressLine::~ProgressLine() { Stop(); }

void ProgressLine::Show(absl::string_view label) {
  if (!enabled_) return;
  absl::MutexLock lock(&mu_);
  if (stopped_) return;
  label_ = std::string(label);
  if (started_ == absl::InfinitePast()) started_ = absl::Now();
  visible_ = true;
  DrawLocked();
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
}

void ProgressLine::Hide() {
  if (!enabled_) return;
  absl::MutexLock lock(&mu_);
  EraseLocked();
}

void ProgressLine::Stop() {
  if (!enabled_) return;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    EraseLocked();
  }
  if (thread_.joinable()) thread_.join();
}

void ProgressLine::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stopped_) {
    // Wakes at once on Stop(); otherwise once a frame.
    mu_.AwaitWithTimeout(absl::Condition(&stopped_), frame_);
    if (stopped_) break;
    if (visible_) {
      ++tick_;
      DrawLocked();
    }
  }
}

void ProgressLine::DrawLocked() {
  const int64_t seconds = absl::ToInt64Seconds(absl::Now() - started_);
  err_ << kEraseLine << kSpinner[tick_ % 10] << " " << label_;
  if (seconds > 0) err_ << " " << seconds << "s";
  err_.flush();
}

void ProgressLine::EraseLocked() {
  if (!visible_) return;
  err_ << kEraseLine;
  err_.flush();
  visible_ = false;
}

std::string SafeFileName(absl::string_view name) {
  const size_t slash = name.find_last_of("/\\");
  if (slash != absl::string_view::npos) name.remove_prefix(slash + 1);
  std::string out;
  for (const char c : name) {
    const bool safe = absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                      c == '.' || c == '_' || c == '-';
    out += safe ? c : '_';
  }
  // No "..", no hidden files.
  out.erase(0, out.find_first_not_of('.'));
  // Well under any file system's NAME_MAX.
  if (out.size() > 100) out.resize(100);
  return out.empty() ? "artifact" : out;
}

absl::StatusOr<std::string> SaveArtifact(const std::string& out_dir,
                                         const std::string& session_id,
                                         const v1::Artifact& artifact) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(out_dir) / SafeFileName(session_id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  }
  std::string file = SafeFileName(artifact.name());
  if (file.find('.') == std::string::npos) {
    file += ExtensionFor(artifact.mime_type());
  }
  const fs::path path = dir / file;
  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  if (!stream) {
    return absl::InternalError(absl::StrCat("cannot open ", path.string(), ": ",
                                            std::strerror(errno)));
  }
  stream.write(artifact.data().data(),
               static_cast<std::streamsize>(artifact.data().size()));
  stream.close();
  if (!stream) {
    return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  }
  return path.string();
}

ArtifactAssembler::Added ArtifactAssembler::Add(const v1::Artifact& part) {
  Added added;
  if (pending_.has_value() &&
      (part.name() != pending_->name() ||
       part.total_bytes() != pending_->total_bytes() ||
       part.offset() != static_cast<int64_t>(pending_->data().size()))) {
    added.incomplete = pending_->name();
    pending_.reset();
  }
  if (pending_.has_value()) {
    pending_->mutable_data()->append(part.data());
  } else if (part.offset() == 0) {
    pending_ = part;
  } else {
    if (added.incomplete.empty()) added.incomplete = part.name();
    return added;
  }
  const int64_t received = static_cast<int64_t>(pending_->data().size());
  if (pending_->total_bytes() > received) return added;
  if (pending_->total_bytes() != 0 && pending_->total_bytes() != received) {
    // More bytes than announced: not the artifact the server meant.
    added.incomplete = pending_->name();
  } else {
    added.artifact = std::move(*pending_);
    added.artifact->set_total_bytes(received);
  }
  pending_.reset();
  return added;
}

HumanAskPrinter::HumanAskPrinter(HumanAskOptions options, std::ostream& out,
                                 std::ostream& err)
    : options_(std::move(options)),
      out_(out),
      err_(err),
      progress_(err_, options_.progress) {}

std::string HumanAskPrinter::Label(absl::string_view label, Style style) const {
  return absl::StrCat(Paint(options_.format.color, style, label),
                      std::string(kLabelWidth - label.size(), ' '));
}

void HumanAskPrinter::Start() {
  progress_label_ = "connecting…";
  progress_.Show(progress_label_);
}

void HumanAskPrinter::OnEvent(const v1::AskEvent& event) {
  progress_.Hide();
  switch (event.event_case()) {
    case v1::AskEvent::kSessionStarted:
      Print(event.session_started());
      progress_label_ = "checking budget…";
      break;
    case v1::AskEvent::kBudgetCheck:
      Print(event.budget_check());
      progress_label_ =
          event.budget_check().allowed() ? "generating code…" : "finishing…";
      break;
    case v1::AskEvent::kCodeGenerated:
      Print(event.code_generated());
      progress_label_ = "running…";
      break;
    case v1::AskEvent::kExecutionOutput:
      Print(event.execution_output());
      break;
    case v1::AskEvent::kArtifact:
      Print(event.artifact());
      break;
    case v1::AskEvent::kCodeDelta:
      // The whole code follows in CodeGenerated; meanwhile the spinner says
      // how much has been written.
      streamed_code_bytes_ += event.code_delta().text().size();
      progress_label_ = absl::StrCat("the model is writing the code (",
                                     streamed_code_bytes_, " bytes)…");
      break;
    case v1::AskEvent::kRetry:
      Print(event.retry());
      progress_label_ = absl::StrCat("generating code (attempt ",
                                     event.retry().attempt(), ")…");
      break;
    case v1::AskEvent::kFinalAnswer:
      Print(event.final_answer());
      progress_label_.clear();
      break;
    case v1::AskEvent::EVENT_NOT_SET:
      // An event kind newer than this client: nothing to show.
      break;
  }
  out_.flush();
  // The spinner's carriage return would wipe an unfinished line of output.
  if (!progress_label_.empty() && at_line_start_) {
    progress_.Show(progress_label_);
  }
}

void HumanAskPrinter::Finish() {
  progress_.Stop();
  EndOutputLine();
  if (const v1::Artifact* pending = artifacts_.pending(); pending != nullptr) {
    err_ << "vetctl: warning: the artifact " << Line(pending->name())
         << " is incomplete (" << FormatBytes(pending->data().size()) << " of "
         << FormatBytes(static_cast<uint64_t>(pending->total_bytes()))
         << " received) and was not saved\n";
  }
  out_.flush();
}

void HumanAskPrinter::EndOutputLine() {
  if (!at_line_start_) out_ << "\n";
  at_line_start_ = true;
}

void HumanAskPrinter::Print(const v1::SessionStarted& event) {
  const bool color = options_.format.color;
  session_id_ = event.session_id();
  std::string details =
      event.resumed() ? absl::StrCat("resumed, turn ", event.turn()) : "new";
  if (!event.as_of_date().empty()) {
    absl::StrAppend(&details, kDot, "as of ", Line(event.as_of_date()));
  }
  out_ << Label("session", Style::kCyan) << Line(event.session_id())
       << Paint(color, Style::kDim, absl::StrCat(kDot, details)) << "\n";
}

void HumanAskPrinter::Print(const v1::BudgetCheck& event) {
  const bool color = options_.format.color;
  const std::string pad(kLabelWidth, ' ');
  std::string line =
      absl::StrCat(FormatMoney(event.spent_micros()), " spent of ",
                   FormatMoney(event.limit_micros()), kDot,
                   FormatMoney(event.remaining_micros()), " left");
  if (!event.model().empty()) {
    absl::StrAppend(&line, kDot, "model ", Line(event.model()));
    if (!event.downgraded_from().empty()) {
      absl::StrAppend(&line, " (instead of ", Line(event.downgraded_from()),
                      ")");
    }
  }
  if (!event.allowed()) {
    out_ << Label("budget", Style::kRed) << Paint(color, Style::kRed, "refused")
         << kDot << line << "\n";
    if (!event.message().empty()) {
      out_ << pad << Paint(color, Style::kRed, Line(event.message())) << "\n";
    }
    return;
  }
  out_ << Label("budget", Style::kCyan) << line << "\n";
  if (event.soft_cap_reached()) {
    std::string warning = "⚠ soft cap reached";
    if (!event.message().empty()) {
      absl::StrAppend(&warning, ": ", Line(event.message()));
    }
    out_ << pad << Paint(color, Style::kYellow, warning) << "\n";
  } else if (!event.message().empty()) {
    out_ << pad << Paint(color, Style::kDim, Line(event.message())) << "\n";
  }
}

void HumanAskPrinter::Print(const v1::CodeGenerated& event) {
  const bool color = options_.format.color;
  EndOutputLine();
  output_started_ = false;
  std::vector<std::string> parts = {absl::StrCat("attempt ", event.attempt())};
  std::string who = Line(event.generator());
  if (!event.model().empty()) {
    who = who.empty() ? Line(event.model())
                      : absl::StrCat(who, " ", Line(event.model()));
  }
  if (!who.empty()) parts.push_back(who);
  if (event.prompt_tokens() > 0 || event.completion_tokens() > 0) {
    parts.push_back(absl::StrCat(FormatInteger(event.prompt_tokens()), " + ",
                                 FormatInteger(event.completion_tokens()),
                                 " tokens"));
  }
  parts.push_back(FormatMoney(event.cost_micros()));
  out_ << "\n"
       << Label("code", Style::kCyan) << absl::StrJoin(parts, kDot) << "\n";
  if (options_.code == CodeView::kHide) return;
  if (!event.summary().empty()) {
    out_ << std::string(kLabelWidth, ' ')
         << Paint(color, Style::kDim, Line(event.summary())) << "\n";
  }
  std::string code = SanitizeForTerminal(event.code(), /*keep_newlines=*/true);
  if (!code.empty() && code.back() != '\n') code += '\n';
  const int lines =
      static_cast<int>(std::count(code.begin(), code.end(), '\n'));
  if (options_.code == CodeView::kSummary) {
    out_ << std::string(kLabelWidth, ' ')
         << Paint(color, Style::kDim,
                  absl::StrCat(FormatInteger(lines),
                               lines == 1 ? " line" : " lines",
                               " of Python (--code=full prints them)"))
         << "\n";
    return;
  }
  constexpr int kShownLines = 12;
  if (options_.code == CodeView::kShow && lines > kShownLines) {
    size_t cut = 0;
    for (int i = 0; i < kShownLines; ++i) cut = code.find('\n', cut) + 1;
    out_ << Indent(code.substr(0, cut), "    ") << "    "
         << Paint(color, Style::kDim,
                  absl::StrCat("... ", FormatInteger(lines - kShownLines),
                               " more lines (--code=full)"))
         << "\n";
    return;
  }
  out_ << Indent(code, "    ");
}

void HumanAskPrinter::Print(const v1::ExecutionOutput& event) {
  const bool color = options_.format.color;
  const bool is_stderr = event.stream() == v1::ExecutionOutput::STDERR;
  if (!output_started_) {
    out_ << "\n"
         << Paint(options_.format.color, Style::kCyan, "output") << "\n";
    output_started_ = true;
    at_line_start_ = true;
  } else if (is_stderr != last_was_stderr_) {
    // A line of one stream does not continue on the other.
    EndOutputLine();
  }
  last_was_stderr_ = is_stderr;
  const std::string text =
      SanitizeForTerminal(event.text(), /*keep_newlines=*/true);
  size_t pos = 0;
  while (pos < text.size()) {
    if (at_line_start_ && is_stderr) out_ << Paint(color, Style::kRed, "! ");
    const size_t newline = text.find('\n', pos);
    const size_t end = newline == std::string::npos ? text.size() : newline + 1;
    out_ << absl::string_view(text).substr(pos, end - pos);
    at_line_start_ = newline != std::string::npos;
    pos = end;
  }
}

void HumanAskPrinter::Print(const v1::Artifact& part) {
  ArtifactAssembler::Added added = artifacts_.Add(part);
  if (!added.incomplete.empty()) {
    err_ << "vetctl: warning: the artifact " << Line(added.incomplete)
         << " arrived incomplete and was not saved\n";
  }
  if (!added.artifact.has_value()) {
    if (const v1::Artifact* pending = artifacts_.pending();
        pending != nullptr) {
      progress_label_ = absl::StrCat(
          "receiving ", Line(pending->name()), " (",
          FormatBytes(pending->data().size()), " of ",
          FormatBytes(static_cast<uint64_t>(pending->total_bytes())), ")…");
    }
    return;
  }
  const v1::Artifact& event = *added.artifact;
  progress_label_ = "running…";
  EndOutputLine();
  const std::string what =
      absl::StrCat(Line(event.name()), " (", Line(event.mime_type()), ", ",
                   FormatBytes(event.data().size()), ")");
  absl::StatusOr<std::string> path =
      SaveArtifact(options_.out_dir,
                   session_id_.empty() ? "no-session" : session_id_, event);
  if (path.ok()) {
    saved_[event.name()] = *path;
    out_ << Label("artifact", Style::kCyan) << what << " saved to "
         << Line(*path) << "\n";
  } else {
    out_ << Label("artifact", Style::kYellow) << what << " not saved\n";
    err_ << "vetctl: warning: " << Line(path.status().message()) << "\n";
  }
}

void HumanAskPrinter::PrintTruncation(const v1::Table& table) {
  if (!table.truncated()) return;
  const int64_t total =
      std::max<int64_t>(table.total_rows(), table.rows_size());
  std::string line =
      table.rows_size() < total
          ? absl::StrCat("showing ", FormatInteger(table.rows_size()), " of ",
                         FormatInteger(total), " rows")
          : "long cells are cut";
  if (table.rows_size() < total && table.cut_cells() > 0) {
    absl::StrAppend(&line, ", long cells cut");
  }
  auto saved = saved_.find(table.csv_artifact());
  if (!table.csv_artifact().empty() && saved != saved_.end()) {
    absl::StrAppend(&line, "; the whole table: ", Line(saved->second));
    if (table.csv_rows() < total) {
      absl::StrAppend(&line, " (its first ", FormatInteger(table.csv_rows()),
                      " rows: the most a CSV holds)");
    }
  }
  out_ << "  " << Paint(options_.format.color, Style::kYellow, line) << "\n";
}

void HumanAskPrinter::Print(const v1::Retry& event) {
  EndOutputLine();
  output_started_ = false;
  out_ << "\n"
       << Label("retry", Style::kYellow) << "attempt " << event.attempt();
  if (!event.reason().empty()) out_ << ": " << Line(event.reason());
  out_ << "\n";
}

// Under the answer: what it counted and how, one fact a line; warnings
// first and in yellow, since they bear on whether to trust it.
void HumanAskPrinter::PrintExplanation(const v1::Explanation& e) {
  const std::string pad(kLabelWidth, ' ');
  bool first = true;
  auto line = [&](const std::string& text, Style style = Style::kDim) {
    out_ << (first ? "\n" + Label("how", Style::kCyan) : pad)
         << Paint(options_.format.color, style, Line(text)) << "\n";
    first = false;
  };
  for (const std::string& w : e.warnings())
    line(absl::StrCat("warning: ", w), Style::kYellow);
  if (!e.metric().empty()) {
    line(e.definition().empty()
             ? e.metric()
             : absl::StrCat(e.metric(), ": ", e.definition()));
  }
  auto period = [](const v1::ExplainedPeriod& p) {
    if (!p.text().empty()) return p.text();
    return absl::StrCat(p.start_date(), " to ", p.end_date());
  };
  if (e.has_period()) line(absl::StrCat("period: ", period(e.period())));
  if (e.has_compared())
    line(absl::StrCat("compared with: ", period(e.compared())));
  if (!e.filters().empty())
    line(absl::StrCat("only: ", absl::StrJoin(e.filters(), "; ")));
  if (!e.counted().empty()) line(absl::StrCat("counted: ", e.counted()));
  for (const std::string& x : e.excluded()) line(absl::StrCat("left out: ", x));
  for (const std::string& n : e.notes()) line(n);
}

void HumanAskPrinter::Print(const v1::FinalAnswer& event) {
  const bool color = options_.format.color;
  const std::string pad(kLabelWidth, ' ');
  EndOutputLine();
  out_ << "\n" << Label("answer", Style::kGreen);
  const std::string text =
      SanitizeForTerminal(event.text(), /*keep_newlines=*/true);
  out_ << Paint(color, Style::kBold, text.empty() ? "(no text)" : text) << "\n";

  const v1::Result& result = event.result();
  switch (result.value_case()) {
    case v1::Result::kNumber:
      out_ << pad << FormatResult(result, options_.format);
      break;
    case v1::Result::kText:
      // Often the answer sentence itself.
      if (result.text() != event.text()) {
        out_ << Indent(FormatResult(result, options_.format), pad);
      }
      break;
    case v1::Result::kTable:
      out_ << "\n" << Indent(FormatResult(result, options_.format), "  ");
      PrintTruncation(result.table());
      break;
    case v1::Result::VALUE_NOT_SET:
      break;
  }

  PrintExplanation(event.explanation());

  out_ << "\n"
       << Label("cost", Style::kCyan) << FormatMoney(event.total_cost_micros());
  if (event.attempts() > 0) {
    out_ << kDot << event.attempts()
         << (event.attempts() == 1 ? " attempt" : " attempts");
  }
  out_ << "\n";
  if (options_.follow_up_hint && !session_id_.empty()) {
    out_ << Paint(color, Style::kDim,
                  absl::StrCat("follow up: vetctl ask --session=",
                               Line(session_id_), " \"...\""))
         << "\n";
  }
}

}  // namespace vet::cli
