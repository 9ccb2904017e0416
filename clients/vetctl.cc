// vetctl's calls: one ClientContext per invocation (per call in chat), a
// blocking stub, and the translation of a gRPC status into a message and an
// exit code; plus demo-data, the one subcommand that makes no call, and chat,
// which makes one call per line typed.
#include "clients/vetctl.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <ostream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "clients/ask_printer.h"
#include "clients/channel.h"
#include "clients/chat.h"
#include "clients/exit_codes.h"
#include "clients/format.h"
#include "clients/import_preset.h"
#include "clients/load_generator.h"
#include "core/common/random.h"
#include "core/common/sha256.h"
#include "core/data/demo_generator.h"
#include "vetanalytics/v1/analytics.grpc.pb.h"
#include "vetanalytics/v1/analytics.pb.h"

namespace vet::cli {
namespace {

namespace v1 = ::vetanalytics::v1;

// True when UNAVAILABLE came from the channel (nothing listening, name not
// resolved) rather than from a server that answered "busy" or "model down".
bool IsUnreachable(const grpc::Status& status, grpc::Channel& channel) {
  const std::string message = absl::AsciiStrToLower(status.error_message());
  return absl::StrContains(message, "failed to connect") ||
         absl::StrContains(message, "connection refused") ||
         absl::StrContains(message, "dns resolution failed") ||
         channel.GetState(/*try_to_connect=*/false) ==
             GRPC_CHANNEL_TRANSIENT_FAILURE;
}

// The message to show for a failed call: the server's, except where the
// client knows better what happened.
std::string ErrorMessage(const grpc::Status& status, const Invocation& inv,
                         grpc::Channel& channel, bool user_cancelled) {
  switch (status.error_code()) {
    case grpc::StatusCode::CANCELLED:
      if (user_cancelled) return "interrupted";
      break;
    case grpc::StatusCode::UNAVAILABLE:
      if (std::string tls =
              TlsFailureMessage(status.error_message(), inv.addr, inv.tls);
          !tls.empty()) {
        return tls;
      }
      if (IsUnreachable(status, channel)) {
        return absl::StrCat("cannot reach the server at ", inv.addr,
                            ": is vet-analytics-server running?");
      }
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      // gRPC's own message for the client-side deadline.
      if (status.error_message() == "Deadline Exceeded") {
        return absl::StrFormat("no answer within --timeout=%gs",
                               absl::ToDoubleSeconds(inv.timeout));
      }
      break;
    case grpc::StatusCode::UNIMPLEMENTED:
      if (status.error_message().empty()) {
        return "the server does not offer this call (is it older than vetctl?)";
      }
      break;
    default:
      break;
  }
  if (status.error_message().empty()) return "no details from the server";
  return status.error_message();
}

// Prints `status` as bad usage (a file named on the command line that cannot
// be read) and returns kExitUsage.
int UsageFailure(const absl::Status& status, const Invocation& inv,
                 const Console& console) {
  console.err << FormatUsageError(status.message(), inv.json,
                                  inv.color_allowed && console.err_is_terminal);
  console.err.flush();
  return kExitUsage;
}

// A conversion with --preset that failed: bad usage (an unknown preset, a
// DIR that is not a folder) exits 2; exports the preset cannot convert are
// INVALID_ARGUMENT (3), like the server's refusal of bad exports.
int ConversionFailure(const absl::Status& status, const Invocation& inv,
                      const Console& console) {
  if (status.code() == absl::StatusCode::kFailedPrecondition) {
    return UsageFailure(status, inv, console);
  }
  // absl and gRPC share the numeric codes.
  const auto code = static_cast<grpc::StatusCode>(status.code());
  console.err << FormatError(StatusCodeName(code), status.message(), inv.json,
                             inv.color_allowed && console.err_is_terminal);
  console.err.flush();
  return ExitCodeFor(code);
}

// Sets the deadline, the API key and the practice of one call. The server
// reads the practice from the request; x-practice-id is for a load balancer
// in front of replicas, which sends a practice's calls to one replica (its
// warm sandbox worker) by hashing it (deploy/envoy/envoy.yaml).
void PrepareContext(grpc::ClientContext& context, const Invocation& inv) {
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(inv.timeout));
  if (!inv.api_key.empty()) context.AddMetadata("x-api-key", inv.api_key);
  if (!inv.practice.empty()) context.AddMetadata("x-practice-id", inv.practice);
}

// Asks inv.question on inv.session_id and prints the events. If `started`
// is not null, it receives the stream's SessionStarted (if any).
grpc::Status Ask(v1::AnalyticsService::Stub& stub, grpc::ClientContext& context,
                 const Invocation& inv, const Console& console,
                 v1::SessionStarted* started = nullptr) {
  v1::AskRequest request;
  request.set_practice_id(inv.practice);
  request.set_question(inv.question);
  request.set_session_id(inv.session_id);
  request.set_as_of_date(inv.as_of);

  std::unique_ptr<AskPrinter> printer;
  if (inv.json) {
    printer = std::make_unique<JsonAskPrinter>(console.out);
  } else {
    HumanAskOptions options;
    options.format.color = inv.color_allowed && console.out_is_terminal;
    options.format.time_zone = console.time_zone;
    options.progress = console.out_is_terminal && console.err_is_terminal;
    options.out_dir = inv.out_dir;
    options.follow_up_hint = inv.command != Command::kChat;
    options.code = inv.code;
    printer =
        std::make_unique<HumanAskPrinter>(options, console.out, console.err);
  }
  printer->Start();
  std::unique_ptr<grpc::ClientReader<v1::AskEvent>> reader =
      stub.Ask(&context, request);
  v1::AskEvent event;
  while (reader->Read(&event)) {
    if (started != nullptr && event.has_session_started()) {
      *started = event.session_started();
    }
    printer->OnEvent(event);
  }
  grpc::Status status = reader->Finish();
  printer->Finish();
  return status;
}

// One unary call; on success `*output` is the response as a JSON line, or as
// `human` formats it.
template <typename Request, typename Response, typename Human>
grpc::Status CallUnary(grpc::Status (v1::AnalyticsService::Stub::*method)(
                           grpc::ClientContext*, const Request&, Response*),
                       v1::AnalyticsService::Stub& stub,
                       grpc::ClientContext& context, const Request& request,
                       bool json, Human human, std::string* output) {
  Response response;
  grpc::Status status = (stub.*method)(&context, request, &response);
  if (status.ok()) *output = json ? JsonLine(response) : human(response);
  return status;
}

// What import uploads, opened before the call so that a missing or
// unreadable file is a usage error rather than half an upload.
struct ImportFiles {
  std::string mapping_json;
  // Parallel to kImportTables.
  std::vector<std::string> paths;
  std::vector<std::ifstream> streams;
};

absl::StatusOr<ImportFiles> OpenImportFiles(const Invocation& inv) {
  ImportFiles files;
  std::error_code error;
  if (!std::filesystem::is_directory(inv.dir, error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("import: ", inv.dir, " is not a directory"));
  }
  for (const char* table : kImportTables) {
    const std::string path =
        (std::filesystem::path(inv.dir) / absl::StrCat(table, ".csv")).string();
    std::ifstream stream(path, std::ios::binary);
    if (!std::filesystem::is_regular_file(path, error) || !stream) {
      return absl::InvalidArgumentError(absl::StrCat(
          "import: ", path, ": missing or unreadable (the directory needs ",
          "clients.csv, patients.csv, staff.csv, appointments.csv and ",
          "invoice_lines.csv)"));
    }
    files.paths.push_back(path);
    files.streams.push_back(std::move(stream));
  }
  if (!inv.mapping_file.empty()) {
    std::ifstream mapping(inv.mapping_file, std::ios::binary);
    if (!mapping || std::filesystem::is_directory(inv.mapping_file, error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--mapping: cannot read ", inv.mapping_file));
    }
    files.mapping_json.assign(std::istreambuf_iterator<char>(mapping),
                              std::istreambuf_iterator<char>());
  }
  return files;
}

// Streams the header and then every table, chunk by chunk. Stops writing as
// soon as the server has ended the call (its status says why).
grpc::Status Import(v1::AnalyticsService::Stub& stub,
                    grpc::ClientContext& context, const Invocation& inv,
                    ImportFiles& files, v1::ImportReport* report) {
  std::unique_ptr<grpc::ClientWriter<v1::ImportChunk>> writer =
      stub.ImportDataset(&context, report);
  v1::ImportChunk header;
  header.mutable_header()->set_practice_id(inv.practice);
  header.mutable_header()->set_mapping_json(files.mapping_json);
  header.mutable_header()->set_as_of_date(inv.as_of);
  bool open = writer->Write(header);
  std::string failed_path;
  int64_t total_bytes = 0;
  v1::ImportChunk chunk;
  for (size_t i = 0; open && i < files.streams.size(); ++i) {
    chunk.mutable_table()->set_table(kImportTables[i]);
    std::string* data = chunk.mutable_table()->mutable_data();
    std::ifstream& stream = files.streams[i];
    // An empty file is still sent, as one empty chunk: the table is there.
    for (bool first = true; open; first = false) {
      data->resize(kImportChunkBytes);
      stream.read(data->data(), static_cast<std::streamsize>(data->size()));
      data->resize(static_cast<size_t>(stream.gcount()));
      if (stream.bad()) {
        failed_path = files.paths[i];
        break;
      }
      if (data->empty() && !first) break;
      total_bytes += static_cast<int64_t>(data->size());
      open = writer->Write(chunk);
      if (data->size() < kImportChunkBytes) break;
    }
    if (!failed_path.empty()) break;
  }
  if (!failed_path.empty()) {
    // A cancelled call imports nothing: no partial upload becomes the data.
    context.TryCancel();
    writer->Finish().IgnoreError();
    return grpc::Status(
        grpc::StatusCode::UNKNOWN,
        absl::StrCat("reading ", failed_path, " failed; nothing was imported"));
  }
  if (open) {
    // Without it the server imports nothing: the upload is complete.
    v1::ImportChunk end;
    end.mutable_end()->set_total_bytes(total_bytes);
    if (writer->Write(end)) writer->WritesDone();
  }
  return writer->Finish();
}

int WriteDemoData(const Invocation& inv, const Console& console) {
  vet::data::DemoOptions options;
  // The last day of data: --as_of, else today here.
  options.end_day = absl::ToCivilDay(absl::Now(), console.time_zone);
  if (!inv.as_of.empty())
    absl::ParseCivilTime(inv.as_of, &options.end_day);  // validated
  options.invoice_lines = inv.invoice_lines;
  if (absl::Status written = vet::data::WriteDemoDataset(options, inv.dir);
      !written.ok()) {
    // The options were checked, so what fails is DIR: it cannot be made or
    // written. No server said so: the codes of the exit code table (an
    // internal error to report, a refused key) would mislead.
    return UsageFailure(written, inv, console);
  }
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> json_files;
  for (const char* table : kImportTables) {
    const std::string name = absl::StrCat(table, ".csv");
    std::error_code error;
    const uintmax_t size = std::filesystem::file_size(
        std::filesystem::path(inv.dir) / name, error);
    const uint64_t bytes = error ? 0 : static_cast<uint64_t>(size);
    rows.push_back({name, FormatBytes(bytes)});
    json_files.push_back(absl::StrCat("{\"name\":", JsonQuote(name),
                                      ",\"bytes\":\"", bytes, "\"}"));
  }
  const std::string day = absl::FormatCivilTime(options.end_day);
  if (inv.json) {
    console.out << "{\"dir\":" << JsonQuote(inv.dir) << ",\"endDay\":\"" << day
                << "\",\"files\":[" << absl::StrJoin(json_files, ",") << "]}\n";
  } else {
    console.out << "wrote the demo practice's exports (to " << day << ", about "
                << FormatInteger(inv.invoice_lines) << " invoice lines) to "
                << SanitizeForTerminal(inv.dir, /*keep_newlines=*/false) << "\n"
                << LayoutColumns(rows, {false, true}, "  ");
  }
  console.out.flush();
  return kExitOk;
}

// One `vetctl chat`: one channel, the session the questions continue, and
// the turn the next question will be.
class Chat {
 public:
  Chat(const Invocation& inv, const Console& console, LineReader& input,
       ChatInterrupter& interrupter, std::shared_ptr<grpc::Channel> channel)
      : inv_(inv),
        console_(console),
        input_(input),
        interrupter_(interrupter),
        // Chat's own messages: with --json, stdout carries JSON lines only.
        info_(inv.json ? console.err : console.out),
        channel_(std::move(channel)),
        stub_(v1::AnalyticsService::NewStub(channel_)),
        session_id_(inv.session_id),
        // A continued session's turn is known from its first answer.
        next_turn_(inv.session_id.empty() ? 1 : 0) {
    format_.color = inv.color_allowed && console.out_is_terminal;
    format_.time_zone = console.time_zone;
  }

  int Run() {
    if (input_.interactive()) {
      info_ << "vetctl chat with practice " << Line(inv_.practice) << " at "
            << Line(inv_.addr);
      if (!session_id_.empty()) info_ << ", session " << Line(session_id_);
      info_ << ". /help lists the commands; Ctrl-D leaves.\n";
      info_.flush();
    }
    for (;;) {
      const LineReader::Result read =
          input_.ReadLine(ChatPrompt(inv_.practice, next_turn_));
      switch (read.status) {
        case LineReader::Status::kEof:
          return kExitOk;
        case LineReader::Status::kInterrupted:
          if (interrupter_.terminated() || !input_.interactive()) {
            return kExitCancelled;
          }
          continue;  // The line is cleared; prompt again.
        case LineReader::Status::kLine:
          break;
      }
      const ChatLine line = ParseChatLine(read.line);
      if (line.command == ChatCommand::kEmpty) continue;
      input_.AddHistory(read.line);
      if (line.command == ChatCommand::kQuit) return kExitOk;
      Do(line);
      console_.out.flush();
      console_.err.flush();
      if (interrupter_.terminated()) return kExitCancelled;
    }
  }

 private:
  static std::string Line(absl::string_view text) {
    return SanitizeForTerminal(text, /*keep_newlines=*/false);
  }

  void Do(const ChatLine& line) {
    switch (line.command) {
      case ChatCommand::kQuestion:
        AskQuestion(line.text);
        break;
      case ChatCommand::kHelp:
        info_ << kChatHelp;
        break;
      case ChatCommand::kSession:
        if (inv_.json) {
          console_.out << (session_id_.empty()
                               ? std::string("{}")
                               : absl::StrCat("{\"sessionId\":",
                                              JsonQuote(session_id_), "}"))
                       << "\n";
        } else if (session_id_.empty()) {
          info_ << "no session yet: the next question starts one\n";
        } else {
          info_ << "session " << Line(session_id_) << "\n";
        }
        break;
      case ChatCommand::kNew:
        StartFresh();
        info_ << "the next question starts a new session\n";
        break;
      case ChatCommand::kHistory:
        History();
        break;
      case ChatCommand::kBudget: {
        v1::GetBudgetRequest request;
        request.set_practice_id(inv_.practice);
        v1::Budget budget;
        if (Call(&v1::AnalyticsService::Stub::GetBudget, request, &budget)) {
          console_.out << (inv_.json ? JsonLine(budget)
                                     : FormatBudget(budget, format_));
        }
        break;
      }
      case ChatCommand::kEnd:
        End();
        break;
      case ChatCommand::kUnknown:
        console_.err << FormatError(
            "USAGE",
            absl::StrCat("unknown command \"", line.text,
                         "\"; /help lists the commands"),
            inv_.json, inv_.color_allowed && console_.err_is_terminal);
        if (!inv_.json) console_.err << kChatHelp;
        break;
      case ChatCommand::kEmpty:
      case ChatCommand::kQuit:
        break;
    }
  }

  void StartFresh() {
    session_id_.clear();
    next_turn_ = 1;
  }

  void AskQuestion(const std::string& question) {
    Invocation inv = inv_;
    inv.question = question;
    inv.session_id = session_id_;
    grpc::ClientContext context;
    PrepareContext(context, inv);
    v1::SessionStarted started;
    interrupter_.Attach(&context);
    const grpc::Status status = Ask(*stub_, context, inv, console_, &started);
    const bool cancelled = interrupter_.Detach();
    if (!started.session_id().empty()) {
      session_id_ = started.session_id();
      next_turn_ = started.turn() > 0 ? started.turn() + 1 : 0;
    }
    if (status.ok()) return;
    PrintError(status, cancelled);
    if (status.error_code() == grpc::StatusCode::NOT_FOUND &&
        !session_id_.empty() && !inv_.json) {
      console_.err << "(/new starts a new session)\n";
    }
  }

  void History() {
    if (session_id_.empty()) {
      info_ << "no session yet: the next question starts one\n";
      return;
    }
    v1::GetSessionRequest request;
    request.set_practice_id(inv_.practice);
    request.set_session_id(session_id_);
    v1::Session session;
    if (Call(&v1::AnalyticsService::Stub::GetSession, request, &session)) {
      console_.out << (inv_.json ? JsonLine(session)
                                 : FormatSession(session, format_));
    }
  }

  void End() {
    if (session_id_.empty()) {
      info_ << "no session to end: the next question starts one\n";
      return;
    }
    v1::EndSessionRequest request;
    request.set_practice_id(inv_.practice);
    request.set_session_id(session_id_);
    v1::EndSessionResponse response;
    grpc::StatusCode code = grpc::StatusCode::OK;
    if (Call(&v1::AnalyticsService::Stub::EndSession, request, &response,
             &code)) {
      if (inv_.json) {
        console_.out << "{}\n";
      } else {
        info_ << "session " << Line(session_id_)
              << " ended; the next question starts a new one\n";
      }
      StartFresh();
    } else if (code == grpc::StatusCode::NOT_FOUND) {
      // Already ended or expired: nothing left to continue.
      StartFresh();
    }
  }

  // Makes one unary call with its own deadline, cancellable by Ctrl-C.
  // Prints the error line and returns false if it fails.
  template <typename Request, typename Response>
  bool Call(grpc::Status (v1::AnalyticsService::Stub::*method)(
                grpc::ClientContext*, const Request&, Response*),
            const Request& request, Response* response,
            grpc::StatusCode* code = nullptr) {
    grpc::ClientContext context;
    PrepareContext(context, inv_);
    interrupter_.Attach(&context);
    const grpc::Status status = ((*stub_).*method)(&context, request, response);
    const bool cancelled = interrupter_.Detach();
    if (code != nullptr) *code = status.error_code();
    if (status.ok()) return true;
    PrintError(status, cancelled);
    return false;
  }

  void PrintError(const grpc::Status& status, bool cancelled) {
    console_.out.flush();
    console_.err << FormatError(
        StatusCodeName(status.error_code()),
        ErrorMessage(status, inv_, *channel_, cancelled), inv_.json,
        inv_.color_allowed && console_.err_is_terminal);
    console_.err.flush();
  }

  const Invocation& inv_;
  const Console& console_;
  LineReader& input_;
  ChatInterrupter& interrupter_;
  std::ostream& info_;
  FormatOptions format_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AnalyticsService::Stub> stub_;
  std::string session_id_;
  // 0 while unknown.
  int next_turn_;
};

}  // namespace

void ChatInterrupter::Interrupt() {
  absl::MutexLock lock(&mu_);
  if (context_ != nullptr) {
    cancelled_ = true;
    context_->TryCancel();
  } else {
    prompt_.Notify();
  }
}

void ChatInterrupter::Terminate() {
  absl::MutexLock lock(&mu_);
  terminated_ = true;
  if (context_ != nullptr) {
    cancelled_ = true;
    context_->TryCancel();
  }
  prompt_.Notify();
}

bool ChatInterrupter::terminated() const {
  absl::MutexLock lock(&mu_);
  return terminated_;
}

void ChatInterrupter::Attach(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  context_ = context;
  cancelled_ = false;
  if (terminated_) {
    cancelled_ = true;
    context_->TryCancel();
  }
}

bool ChatInterrupter::Detach() {
  absl::MutexLock lock(&mu_);
  context_ = nullptr;
  return cancelled_;
}

int RunChat(const Invocation& inv, const Console& console, LineReader& input,
            ChatInterrupter& interrupter) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      MakeChannel(inv.addr, inv.tls);
  if (!channel.ok()) return UsageFailure(channel.status(), inv, console);
  return Chat(inv, console, input, interrupter, *std::move(channel)).Run();
}

void CallCanceller::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  if (context_ != nullptr) context_->TryCancel();
}

bool CallCanceller::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

void CallCanceller::Attach(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  context_ = context;
  // gRPC remembers a cancel that comes before the call starts.
  if (cancelled_) context_->TryCancel();
}

void CallCanceller::Detach() {
  absl::MutexLock lock(&mu_);
  context_ = nullptr;
}

std::string FormatNewKey(absl::string_view key, absl::string_view practice) {
  const std::string field =
      absl::StrCat(R"("api_key_sha256": ")", Sha256Hex(Sha256(key)), R"(")");
  return absl::StrCat(key, "\n",
                      practice.empty() ? field
                                       : absl::StrCat(R"({"id": ")", practice,
                                                      R"(", )", field, "}"),
                      "\n");
}

int Run(const Invocation& inv, const Console& console,
        CallCanceller& canceller) {
  if (inv.command == Command::kDemoData) return WriteDemoData(inv, console);
  if (inv.command == Command::kBench) return RunBench(inv, console, canceller);
  if (inv.command == Command::kNewKey) {
    console.out << FormatNewKey(RandomHex(/*bytes=*/32), inv.new_key_practice);
    console.out.flush();
    if (!inv.json) {
      console.err << "The first line is the key: give it to the practice (it "
                     "is not shown again).\n"
                     "Put the second in the practices file and send the server "
                     "SIGHUP.\n";
    }
    return kExitOk;
  }
  ImportFiles import_files;
  // With --preset, what is uploaded is the converted folder, which lives
  // until the call is over.
  std::unique_ptr<ConvertedExports> converted;
  if (inv.command == Command::kImport) {
    Invocation upload = inv;
    if (!inv.preset.empty()) {
      absl::StatusOr<std::unique_ptr<ConvertedExports>> made =
          ConvertExports(inv.preset, inv.dir);
      if (!made.ok()) return ConversionFailure(made.status(), inv, console);
      converted = *std::move(made);
      console.out << (inv.json
                          ? PresetReportJson(converted->report())
                          : FormatPresetReport(
                                converted->report(),
                                inv.color_allowed && console.out_is_terminal));
      console.out.flush();
      upload.dir = converted->dir();
    }
    absl::StatusOr<ImportFiles> opened = OpenImportFiles(upload);
    if (!opened.ok()) return UsageFailure(opened.status(), inv, console);
    import_files = *std::move(opened);
  }

  absl::StatusOr<std::shared_ptr<grpc::Channel>> made =
      MakeChannel(inv.addr, inv.tls);
  if (!made.ok()) return UsageFailure(made.status(), inv, console);
  std::shared_ptr<grpc::Channel> channel = *std::move(made);

  FormatOptions format;
  format.color = inv.color_allowed && console.out_is_terminal;
  format.time_zone = console.time_zone;

  std::unique_ptr<v1::AnalyticsService::Stub> stub =
      v1::AnalyticsService::NewStub(channel);
  grpc::ClientContext context;
  PrepareContext(context, inv);

  canceller.Attach(&context);
  grpc::Status status;
  std::string output;
  using Stub = v1::AnalyticsService::Stub;
  switch (inv.command) {
    case Command::kAsk:
      status = Ask(*stub, context, inv, console);
      break;
    case Command::kBudget: {
      v1::GetBudgetRequest request;
      request.set_practice_id(inv.practice);
      status = CallUnary(
          &Stub::GetBudget, *stub, context, request, inv.json,
          [&](const v1::Budget& budget) {
            return FormatBudget(budget, format);
          },
          &output);
      break;
    }
    case Command::kDescribe: {
      v1::DescribeDatasetRequest request;
      request.set_practice_id(inv.practice);
      status = CallUnary(
          &Stub::DescribeDataset, *stub, context, request, inv.json,
          [&](const v1::DatasetDescription& dataset) {
            return FormatDataset(dataset, format);
          },
          &output);
      break;
    }
    case Command::kSession: {
      v1::GetSessionRequest request;
      request.set_practice_id(inv.practice);
      request.set_session_id(inv.session_id);
      status = CallUnary(
          &Stub::GetSession, *stub, context, request, inv.json,
          [&](const v1::Session& session) {
            return FormatSession(session, format);
          },
          &output);
      break;
    }
    case Command::kSessions: {
      v1::ListSessionsRequest request;
      request.set_practice_id(inv.practice);
      request.set_page_size(inv.page_size);
      request.set_page_token(inv.page_token);
      status = CallUnary(
          &Stub::ListSessions, *stub, context, request, inv.json,
          [&](const v1::ListSessionsResponse& sessions) {
            return FormatSessionList(sessions, format);
          },
          &output);
      break;
    }
    case Command::kEndSession: {
      v1::EndSessionRequest request;
      request.set_practice_id(inv.practice);
      request.set_session_id(inv.session_id);
      status = CallUnary(
          &Stub::EndSession, *stub, context, request, inv.json,
          [&](const v1::EndSessionResponse&) {
            return absl::StrCat("session ",
                                SanitizeForTerminal(inv.session_id,
                                                    /*keep_newlines=*/false),
                                " ended\n");
          },
          &output);
      break;
    }
    case Command::kAudit: {
      v1::ListAuditRequest request;
      request.set_practice_id(inv.practice);
      request.set_page_size(inv.page_size);
      request.set_page_token(inv.page_token);
      if (!inv.since.empty()) {
        // Checked by ParseInvocation; resolved now, in the console's zone.
        absl::StatusOr<absl::Time> since =
            ResolveSince(inv.since, absl::Now(), console.time_zone);
        if (!since.ok()) return UsageFailure(since.status(), inv, console);
        const absl::Duration after_epoch = *since - absl::UnixEpoch();
        const int64_t seconds = absl::ToInt64Seconds(after_epoch);
        request.mutable_since()->set_seconds(seconds);
        request.mutable_since()->set_nanos(static_cast<int32_t>(
            absl::ToInt64Nanoseconds(after_epoch - absl::Seconds(seconds))));
      }
      status = CallUnary(
          &Stub::ListAudit, *stub, context, request, inv.json,
          [&](const v1::ListAuditResponse& trail) {
            return FormatAuditList(trail, format, inv.since);
          },
          &output);
      break;
    }
    case Command::kImport: {
      v1::ImportReport report;
      status = Import(*stub, context, inv, import_files, &report);
      if (status.ok()) {
        output =
            inv.json ? JsonLine(report) : FormatImportReport(report, format);
      }
      break;
    }
    case Command::kHelp:
    case Command::kDemoData:
    case Command::kNewKey:
    case Command::kChat:
    case Command::kBench:
      status = grpc::Status(
          grpc::StatusCode::INTERNAL,
          "help, demo-data, new-key, chat and bench are not one call");
      break;
  }
  canceller.Detach();

  if (!status.ok()) {
    const std::string message =
        ErrorMessage(status, inv, *channel, canceller.cancelled());
    console.err << FormatError(StatusCodeName(status.error_code()), message,
                               inv.json,
                               inv.color_allowed && console.err_is_terminal);
    console.err.flush();
    return ExitCodeFor(status.error_code());
  }
  console.out << output;
  console.out.flush();
  return kExitOk;
}

}  // namespace vet::cli
