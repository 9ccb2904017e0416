// vetctl: the command-line client of vet-analytics. Only wiring lives here:
// flags, signals, terminal detection; the rest is in vet::cli and tested.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "clients/args.h"
#include "clients/channel.h"
#include "clients/chat.h"
#include "clients/exit_codes.h"
#include "clients/format.h"
#include "clients/line_editor.h"
#include "clients/vetctl.h"
#include "core/common/log.h"
#include "core/common/posix.h"
#include "core/common/version.h"

ABSL_FLAG(std::string, addr, "",
          "server address HOST:PORT (default $VET_ADDR, else 127.0.0.1:50051)");
ABSL_FLAG(bool, tls, false,
          "TLS, trusting the system's CA certificates (default $VET_TLS=1)");
ABSL_FLAG(std::string, ca_cert, "",
          "TLS, trusting the CA certificates in this PEM file (default "
          "$VET_CA_CERT)");
ABSL_FLAG(std::string, client_cert, "",
          "client certificate (PEM) for mutual TLS; needs --client_key");
ABSL_FLAG(std::string, client_key, "", "private key (PEM) of --client_cert");
ABSL_FLAG(std::string, practice, "",
          "practice id (default $VET_PRACTICE, else demo)");
ABSL_FLAG(std::string, api_key, "",
          "API key sent as x-api-key (default $VET_API_KEY; for practice "
          "demo, demo-key)");
ABSL_FLAG(std::string, session, "", "ask, chat: continue this session");
ABSL_FLAG(
    std::string, as_of, "",
    "ask, chat: YYYY-MM-DD that relative periods resolve against; import: "
    "later dates are refused");
ABSL_FLAG(std::string, out_dir, "",
          "ask, chat: directory for artifacts, saved as DIR/SESSION/NAME "
          "(default vetctl-artifacts)");
ABSL_FLAG(bool, json, false,
          "print one proto3 JSON object per line; errors as JSON on stderr");
// Optional so that import can tell "not given" (600 s) from --timeout=120.
ABSL_FLAG(std::optional<std::string>, timeout, std::nullopt,
          "deadline of the call: seconds (90, 2.5) or a duration (1500ms, 2m); "
          "default 120, "
          "import 600");
ABSL_FLAG(std::string, code, "summary",
          "ask, chat: the generated code to print: hide, summary (one line), "
          "show (its first "
          "lines) or full");
ABSL_FLAG(bool, no_color, false, "never use colors");
ABSL_FLAG(int, page_size, 0,
          "sessions, audit: at most this many (0: the server's 20; audit 100)");
ABSL_FLAG(std::string, page_token, "", "sessions, audit: the page to show");
ABSL_FLAG(std::string, since, "",
          "audit: only calls since this date (2026-12-01, local time), time "
          "(RFC 3339) or duration ago (24h, 7d)");
ABSL_FLAG(std::string, mapping, "",
          "import: column mapping file (JSON, see docs/SCHEMA.md)");
ABSL_FLAG(std::string, preset, "",
          "import: convert DIR from this practice system's exports (ezyvet, "
          "covetrus, or a preset .json file; see docs/PRESETS.md)");
ABSL_FLAG(std::optional<int64_t>, lines, std::nullopt,
          "demo-data: about this many invoice lines (default 200000)");
// Repeatable: every occurrence is collected with vet::cli::FlagOccurrences.
ABSL_FLAG(std::string, question, "",
          "bench: a question of the mix; repeat the flag for more");
ABSL_FLAG(std::string, questions_file, "",
          "bench: questions, one per line (# starts a comment line)");
ABSL_FLAG(std::string, practices, "",
          "bench: practices to spread the streams over, ID or ID:KEY, "
          "comma-separated (default --practice)");
ABSL_FLAG(std::string, practices_file, "",
          "bench: the practices (id, api_key) of a practices file as the "
          "server reads it");
ABSL_FLAG(std::optional<int>, streams, std::nullopt,
          "bench: concurrent Ask streams (default 8)");
ABSL_FLAG(std::optional<double>, duration, std::nullopt,
          "bench: measured seconds (default 10)");
ABSL_FLAG(std::optional<double>, warmup, std::nullopt,
          "bench: seconds of load before the measurement (default 2)");
ABSL_FLAG(std::optional<int64_t>, max_questions, std::nullopt,
          "bench: stop once this many questions started after the warm-up "
          "have ended");

namespace {

// Returns true if --json appears in `argv`, for reporting a usage error
// before the flags are parsed.
bool WantsJson(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (arg == "--json" || arg == "-json" || arg == "--json=true") return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using vet::cli::kExitCancelled;
  using vet::cli::kExitUsage;

  // Before any thread exists (gRPC starts its own), so that every thread
  // inherits the mask and only the signal thread below receives these.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  vet::cli::SilenceGrpcLogUnlessAsked();
  // core's info lines are the server's log (demo-data's generator reports
  // its line count in one); vetctl tells the user itself. Warnings stay.
  vet::SetLogQuiet(true);
  const bool err_color = isatty(STDERR_FILENO) == 1;
  absl::SetProgramUsageMessage(vet::cli::kUsage);
  vet::ConfigureHelpAndVersion("vetctl", "clients/main.cc");
  if (absl::Status valid =
          vet::cli::CheckFlagArgs(absl::MakeConstSpan(argv, argc));
      !valid.ok()) {
    std::cerr << vet::cli::FormatUsageError(valid.message(),
                                            WantsJson(argc, argv), err_color);
    return kExitUsage;
  }
  const std::vector<char*> positional = absl::ParseCommandLine(argc, argv);

  vet::cli::FlagValues flags;
  flags.addr = absl::GetFlag(FLAGS_addr);
  flags.tls = absl::GetFlag(FLAGS_tls);
  flags.ca_cert = absl::GetFlag(FLAGS_ca_cert);
  flags.client_cert = absl::GetFlag(FLAGS_client_cert);
  flags.client_key = absl::GetFlag(FLAGS_client_key);
  flags.practice = absl::GetFlag(FLAGS_practice);
  flags.api_key = absl::GetFlag(FLAGS_api_key);
  flags.session = absl::GetFlag(FLAGS_session);
  flags.as_of = absl::GetFlag(FLAGS_as_of);
  flags.out_dir = absl::GetFlag(FLAGS_out_dir);
  flags.json = absl::GetFlag(FLAGS_json);
  flags.no_color = absl::GetFlag(FLAGS_no_color);
  flags.timeout = absl::GetFlag(FLAGS_timeout);
  flags.code = absl::GetFlag(FLAGS_code);
  flags.page_size = absl::GetFlag(FLAGS_page_size);
  flags.page_token = absl::GetFlag(FLAGS_page_token);
  flags.since = absl::GetFlag(FLAGS_since);
  flags.mapping = absl::GetFlag(FLAGS_mapping);
  flags.preset = absl::GetFlag(FLAGS_preset);
  flags.lines = absl::GetFlag(FLAGS_lines);
  flags.questions =
      vet::cli::FlagOccurrences(absl::MakeConstSpan(argv, argc), "question");
  flags.questions_file = absl::GetFlag(FLAGS_questions_file);
  flags.practices = absl::GetFlag(FLAGS_practices);
  flags.practices_file = absl::GetFlag(FLAGS_practices_file);
  flags.streams = absl::GetFlag(FLAGS_streams);
  flags.duration_seconds = absl::GetFlag(FLAGS_duration);
  flags.warmup_seconds = absl::GetFlag(FLAGS_warmup);
  flags.max_questions = absl::GetFlag(FLAGS_max_questions);
  const vet::cli::Environment env = vet::cli::Environment::FromProcess();

  if (positional.size() <= 1) {
    // A bare `vetctl`: the whole usage, as a usage error.
    std::cerr << "vetctl: " << vet::cli::kUsage;
    return kExitUsage;
  }
  const absl::StatusOr<vet::cli::Invocation> invocation =
      vet::cli::ParseInvocation(
          std::vector<std::string>(positional.begin() + 1, positional.end()),
          flags, env);
  if (!invocation.ok()) {
    std::cerr << vet::cli::FormatUsageError(
        invocation.status().message(), flags.json,
        err_color && !flags.no_color && !env.no_color);
    return kExitUsage;
  }
  if (invocation->command == vet::cli::Command::kHelp) {
    std::cout << "vetctl: " << vet::cli::kUsage;
    return vet::cli::kExitOk;
  }

  const vet::cli::Console console{
      std::cout, std::cerr, isatty(STDOUT_FILENO) == 1,
      isatty(STDERR_FILENO) == 1, absl::LocalTimeZone()};

  if (invocation->command == vet::cli::Command::kChat) {
    absl::StatusOr<std::unique_ptr<vet::cli::WakePipe>> wake =
        vet::cli::WakePipe::Create();
    if (!wake.ok()) {
      std::cerr << "vetctl: " << wake.status().message() << "\n";
      return vet::cli::kExitError;
    }
    // Leaked, as is the pipe: the signal thread may use them until the end.
    vet::cli::WakePipe& prompt_wake = *wake->release();
    auto* interrupter = new vet::cli::ChatInterrupter(prompt_wake);
    std::thread([signals, interrupter] {
      // Every Ctrl-C goes to the chat: it cancels the question running or
      // clears the prompt's line. SIGTERM ends the chat; a second one does
      // not wait for it.
      for (bool terminating = false;;) {
        int signal = 0;
        sigwait(&signals, &signal);
        if (signal == SIGTERM) {
          if (terminating) vet::ExitWithoutCleanup(kExitCancelled);
          terminating = true;
          interrupter->Terminate();
        } else {
          interrupter->Interrupt();
        }
      }
    }).detach();
    // Line editing where both the keyboard and the screen (stderr, where
    // the prompt goes) are a terminal; plain lines, scriptable, otherwise.
    std::unique_ptr<vet::cli::LineReader> input;
    if (isatty(STDIN_FILENO) == 1 && isatty(STDERR_FILENO) == 1) {
      input = std::make_unique<vet::cli::EditLineReader>(
          prompt_wake, vet::cli::DefaultChatHistoryFile());
    } else {
      input =
          std::make_unique<vet::cli::FdLineReader>(STDIN_FILENO, prompt_wake);
    }
    return vet::cli::RunChat(*invocation, console, *input, *interrupter);
  }

  // Leaked: the signal thread may use it until the process is gone.
  auto* canceller = new vet::cli::CallCanceller;
  std::thread([signals, canceller] {
    int signal = 0;
    sigwait(&signals, &signal);
    canceller->Cancel();
    // A second Ctrl-C does not wait for the server to acknowledge.
    sigwait(&signals, &signal);
    vet::ExitWithoutCleanup(kExitCancelled);
  }).detach();

  return vet::cli::Run(*invocation, console, *canceller);
}
