// vetctl's calls: one ClientContext per invocation, a blocking stub, and the
// translation of a gRPC status into a message and an exit code.
#include "clients/vetctl.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "clients/ask_printer.h"
#include "clients/exit_codes.h"
#include "clients/format.h"
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

grpc::Status Ask(v1::AnalyticsService::Stub& stub, grpc::ClientContext& context,
                 const Invocation& inv, const Console& console) {
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
    printer =
        std::make_unique<HumanAskPrinter>(options, console.out, console.err);
  }
  printer->Start();
  std::unique_ptr<grpc::ClientReader<v1::AskEvent>> reader =
      stub.Ask(&context, request);
  v1::AskEvent event;
  while (reader->Read(&event)) printer->OnEvent(event);
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

}  // namespace

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

int Run(const Invocation& inv, const Console& console,
        CallCanceller& canceller) {
  FormatOptions format;
  format.color = inv.color_allowed && console.out_is_terminal;
  format.time_zone = console.time_zone;

  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(inv.addr, grpc::InsecureChannelCredentials());
  std::unique_ptr<v1::AnalyticsService::Stub> stub =
      v1::AnalyticsService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(inv.timeout));
  if (!inv.api_key.empty()) context.AddMetadata("x-api-key", inv.api_key);

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
    case Command::kHelp:
      status = grpc::Status(grpc::StatusCode::INTERNAL, "help is not a call");
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
