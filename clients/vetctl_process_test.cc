// The vetctl binary as a user runs it, against the scripted service on a
// loopback port: main's own work (usage errors before and after the flags
// are parsed, the environment, Ctrl-C and SIGTERM reaching the call through
// the signal thread) and `vetctl chat` at a terminal, where libedit edits the
// line on a pseudo-terminal the test types into (editing keys, up-arrow
// history, Ctrl-C at the prompt and during a question, Ctrl-D, the history
// file).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/args.h"
#include "clients/testing/fake_analytics_service.h"
#include "clients/vetctl.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace vet::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::vet::testing::CommandResult;
using ::vet::testing::EnvList;
using ::vet::testing::TerminalProcess;

// Generous: the machine running the suite may be busy with other builds.
constexpr absl::Duration kWait = absl::Seconds(30);

// Keys as a terminal sends them.
constexpr char kEnter[] = "\r";
constexpr char kBackspace[] = "\x7f";
constexpr char kCtrlA[] = "\x01";
constexpr char kCtrlC[] = "\x03";
constexpr char kCtrlD[] = "\x04";
constexpr char kCtrlE[] = "\x05";
constexpr char kUp[] = "\x1b[A";
constexpr char kLeft[] = "\x1b[D";

class VetctlProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LoopbackServer started = StartOnLoopback(service_);
    ASSERT_NE(started.server, nullptr);
    server_ = std::move(started.server);
    addr_ = started.addr;
    dir_ = absl::StrCat(
        ::testing::TempDir(), "/vetctl-process-", getpid(), "-",
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ + "/home");
  }

  void TearDown() override {
    server_->Shutdown(absl::ToChronoTime(absl::Now()));
    std::filesystem::remove_all(dir_);
  }

  // vetctl's environment: none of the developer's settings, a home of its
  // own (no ~/.editrc) and the history under dir_/state; `extra` wins.
  EnvList Env(const EnvList& extra = {}) const {
    EnvList env = {"VET_ADDR=",
                   "VET_PRACTICE=",
                   "VET_API_KEY=",
                   "VET_TLS=",
                   "VET_CA_CERT=",
                   "NO_COLOR=",
                   "TERM=xterm",
                   "EDITRC=/dev/null",
                   "HOME=" + dir_ + "/home",
                   "XDG_STATE_HOME=" + dir_ + "/state"};
    for (const std::string& setting : extra) {
      const std::string name = setting.substr(0, setting.find('=') + 1);
      env.erase(std::remove_if(env.begin(), env.end(),
                               [&](const std::string& e) {
                                 return e.rfind(name, 0) == 0;
                               }),
                env.end());
      env.push_back(setting);
    }
    return env;
  }

  // Runs vetctl with `args` to the end, stdin empty.
  CommandResult Vetctl(std::vector<std::string> args, const EnvList& env = {}) {
    args.insert(args.begin(), VETCTL_BIN);
    absl::StatusOr<CommandResult> result =
        testing::RunCommand(args, kWait, Env(env));
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok()) return CommandResult{};
    // A coverage build whose binary was rebuilt says so on its first run;
    // that is not vetctl's output.
    std::vector<absl::string_view> lines =
        absl::StrSplit(result->err, absl::ByChar('\n'));
    lines.erase(std::remove_if(lines.begin(), lines.end(),
                               [](absl::string_view line) {
                                 return absl::StartsWith(
                                     line, "libgcov profiling error:");
                               }),
                lines.end());
    result->err = absl::StrJoin(lines, "\n");
    return *std::move(result);
  }

  // `vetctl chat` on a terminal of its own, at the fake service.
  std::unique_ptr<TerminalProcess> ChatOnATerminal(const EnvList& env = {}) {
    absl::StatusOr<std::unique_ptr<TerminalProcess>> chat =
        TerminalProcess::Start(
            {VETCTL_BIN, "chat", "--addr=" + addr_, "--no_color"}, Env(env));
    EXPECT_TRUE(chat.ok()) << chat.status();
    return chat.ok() ? *std::move(chat) : nullptr;
  }

  std::vector<std::string> Questions() {
    std::vector<std::string> questions;
    for (const v1::AskRequest& request : service_.ask_requests()) {
      questions.push_back(request.question());
    }
    return questions;
  }

  std::string HistoryFile() const {
    return dir_ + "/state/vet-analytics/chat_history";
  }

  FakeAnalyticsService service_;
  ChatServer chat_server_{service_};
  std::unique_ptr<grpc::Server> server_;
  std::string addr_;
  std::string dir_;
};

// Whether the screen shows `text` (within kWait) after what was matched
// before.
::testing::AssertionResult Shows(TerminalProcess& chat,
                                 absl::string_view text) {
  const absl::StatusOr<std::string> shown = chat.WaitForScreen(text, kWait);
  if (!shown.ok()) return ::testing::AssertionFailure() << shown.status();
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Typed(TerminalProcess& chat,
                                 absl::string_view keys) {
  const absl::Status typed = chat.Type(keys);
  if (!typed.ok()) return ::testing::AssertionFailure() << typed;
  return ::testing::AssertionSuccess();
}

// The exit code, or -2 (and a failure) if it does not exit within kWait.
template <typename Process>
int ExitCode(Process& process) {
  const absl::StatusOr<int> code = process.Wait(kWait);
  EXPECT_TRUE(code.ok()) << code.status();
  return code.ok() ? *code : -2;
}

int Mode(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return -1;
  return static_cast<int>(info.st_mode & 07777);
}

// --- main: usage ------------------------------------------------------------

TEST_F(VetctlProcessTest, ABareVetctlPrintsTheUsageAsAnErrorWithTwo) {
  const CommandResult r = Vetctl({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, absl::StrCat("vetctl: ", kUsage));
  EXPECT_EQ(r.out, "");
}

TEST_F(VetctlProcessTest, HelpPrintsTheUsageOnStdoutWithZero) {
  const CommandResult r = Vetctl({"help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, absl::StrCat("vetctl: ", kUsage));
  EXPECT_EQ(r.err, "");
}

TEST_F(VetctlProcessTest, AnUnknownFlagOrBadValueExitsWithTwoBeforeAnyCall) {
  const std::string addr = "--addr=" + addr_;
  CommandResult r = Vetctl({addr, "--bogus", "budget"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "vetctl: unknown flag --bogus\nRun 'vetctl help' for usage.\n");

  // With --json anywhere before `--`, the error is a JSON line.
  r = Vetctl({addr, "--bogus", "budget", "--json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "{\"code\":\"USAGE\",\"message\":\"unknown flag --bogus\"}\n");
  r = Vetctl({addr, "--bogus", "ask", "--", "--json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("vetctl: unknown flag --bogus\n"));

  r = Vetctl({addr, "--page_size=ten", "sessions"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("vetctl: --page_size: invalid value \"ten\""));
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(service_.budget_calls(), 0);
}

TEST_F(VetctlProcessTest,
       UsageErrorsFoundAfterParsingExitWithTwoBeforeAnyCall) {
  const std::string addr = "--addr=" + addr_;
  CommandResult r = Vetctl({addr, "ask"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("vetctl: ask needs a question"));

  r = Vetctl({addr, "--json", "frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "{\"code\":\"USAGE\",\"message\":\"unknown subcommand "
            "\\\"frobnicate\\\"\"}\n");

  // TLS: a client certificate needs its key; an unreadable CA file is named.
  r = Vetctl({addr, "--client_cert=" + dir_ + "/me.pem", "budget"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--client_cert needs --client_key"));
  r = Vetctl({addr, "budget"}, {"VET_CA_CERT=" + dir_ + "/missing.pem"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("vetctl: --ca_cert '", dir_,
                                            "/missing.pem' cannot be read")));
  EXPECT_EQ(service_.budget_calls(), 0);
  EXPECT_THAT(service_.ask_requests(), ::testing::IsEmpty());
}

// --- main: the environment --------------------------------------------------

TEST_F(VetctlProcessTest, TheEnvironmentGivesTheAddressAndKey) {
  CommandResult r =
      Vetctl({"budget"}, {"VET_ADDR=" + addr_, "VET_API_KEY=not-the-key"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.err,
            "vetctl: PERMISSION_DENIED: the key belongs to another practice\n");

  r = Vetctl({"budget"}, {"VET_ADDR=" + addr_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("budget"));
  EXPECT_EQ(service_.budget_calls(), 1);
}

// gRPC logs a failed handshake itself; vetctl says what it means, and
// stderr holds only that: one line, a JSON one with --json.
TEST_F(VetctlProcessTest, TlsAtAPlaintextServerExitsWithEightAndOneErrorLine) {
  const std::string failed = absl::StrCat(
      "TLS with the server at ", addr_,
      " failed: the server does not speak TLS (drop --tls and --ca_cert)");
  CommandResult r = Vetctl({"budget"}, {"VET_ADDR=" + addr_, "VET_TLS=1"});
  EXPECT_EQ(r.exit_code, 8);
  EXPECT_EQ(r.err, absl::StrCat("vetctl: UNAVAILABLE: ", failed, "\n"));

  r = Vetctl({"--addr=" + addr_, "--tls", "--json", "budget"});
  EXPECT_EQ(r.exit_code, 8);
  EXPECT_EQ(r.err, absl::StrCat("{\"code\":\"UNAVAILABLE\",\"message\":\"",
                                failed, "\"}\n"));
  EXPECT_EQ(r.out, "");

  // Asked for, gRPC's own lines are there, for debugging.
  r = Vetctl({"--addr=" + addr_, "--tls", "budget"}, {"GRPC_VERBOSITY=error"});
  EXPECT_EQ(r.exit_code, 8);
  EXPECT_THAT(r.err, HasSubstr("Handshake failed"));
  EXPECT_EQ(service_.budget_calls(), 0);
}

// --- main: signals ----------------------------------------------------------

// Runs `vetctl ask slow`, which the service holds until it is cancelled,
// and sends it `signal` once the question has reached the service.
void SignalDuringAsk(int signal, const std::string& addr,
                     FakeAnalyticsService& service, const EnvList& env) {
  absl::StatusOr<std::unique_ptr<testing::ChildProcess>> ask =
      testing::ChildProcess::Start(
          {VETCTL_BIN, "--addr=" + addr, "--no_color", "ask", "slow"}, env);
  ASSERT_TRUE(ask.ok()) << ask.status();
  ASSERT_TRUE(service.events_written.WaitForNotificationWithTimeout(kWait));
  ASSERT_EQ(kill((*ask)->pid(), signal), 0);
  EXPECT_EQ(ExitCode(**ask), 9);
  // Read by a thread of its own: waited for, not taken as it is.
  EXPECT_TRUE(
      (*ask)->WaitForStderr("vetctl: CANCELLED: interrupted\n", kWait).ok())
      << (*ask)->stderr_text();
}

TEST_F(VetctlProcessTest, CtrlCDuringAnAskCancelsItWithNine) {
  SignalDuringAsk(SIGINT, addr_, service_, Env());
}

TEST_F(VetctlProcessTest, SigtermDuringAnAskCancelsItWithNine) {
  SignalDuringAsk(SIGTERM, addr_, service_, Env());
}

// --- demo-data --------------------------------------------------------------

// With --json, stdout is the one JSON line and stderr is empty: nothing but
// vetctl's own words reach the user.
TEST_F(VetctlProcessTest, DemoDataJsonListsTheFilesAndNothingElse) {
  const std::string dir = dir_ + "/exports";
  const CommandResult r =
      Vetctl({"demo-data", dir, "--lines=200", "--as_of=2026-09-30", "--json"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  std::string files;
  for (const char* table : kImportTables) {
    const std::string name = absl::StrCat(table, ".csv");
    absl::StrAppend(
        &files, files.empty() ? "" : ",", "{\"name\":\"", name,
        "\",\"bytes\":\"",
        std::filesystem::file_size(std::filesystem::path(dir) / name), "\"}");
  }
  EXPECT_EQ(r.out, absl::StrCat("{\"dir\":\"", dir,
                                "\",\"endDay\":\"2026-09-30\",\"files\":[",
                                files, "]}\n"));
}

// Nothing the server says: a folder that cannot be made is the command
// line's to fix.
TEST_F(VetctlProcessTest, DemoDataIntoAFolderThatCannotBeMadeExitsWithTwo) {
  std::ofstream(dir_ + "/a-file") << "x";
  const std::string dir = dir_ + "/a-file/exports";
  CommandResult r = Vetctl({"demo-data", dir, "--lines=200"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, absl::StrCat("vetctl: demo data: cannot create ", dir,
                                ": Not a directory\n"
                                "Run 'vetctl help' for usage.\n"));
  EXPECT_EQ(r.out, "");

  r = Vetctl({"demo-data", dir, "--lines=200", "--json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, absl::StrCat("{\"code\":\"USAGE\",\"message\":\"demo "
                                "data: cannot create ",
                                dir, ": Not a directory\"}\n"));
}

// --- chat on a pipe ---------------------------------------------------------

TEST_F(VetctlProcessTest, ChatOnAPipeReadsPlainLinesWithoutPrompts) {
  absl::StatusOr<CommandResult> r = testing::RunCommand(
      {"/bin/sh", "-c",
       "printf 'how many dogs?\\n/session\\n' | \"$0\" chat --addr=\"$1\"",
       VETCTL_BIN, addr_},
      kWait, Env());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_THAT(Questions(), ElementsAre("how many dogs?"));
  EXPECT_THAT(r->out, HasSubstr("answer to how many dogs?"));
  EXPECT_THAT(r->out, HasSubstr("session s-1\n"));
  EXPECT_THAT(r->out, Not(HasSubstr("demo #")));
  EXPECT_THAT(r->out, Not(HasSubstr("Ctrl-D leaves")));
  EXPECT_EQ(r->err, "");
}

// --- chat on a terminal -----------------------------------------------------

TEST_F(VetctlProcessTest, ChatDrawsThePromptOnTheTerminalAndAnswersOnStdout) {
  std::unique_ptr<TerminalProcess> chat = ChatOnATerminal();
  ASSERT_NE(chat, nullptr);
  ASSERT_TRUE(Shows(*chat, "demo #1> "));
  ASSERT_TRUE(Typed(*chat, absl::StrCat("how many dogs?", kEnter)));
  ASSERT_TRUE(chat->WaitForStdout("answer to how many dogs?\n", kWait).ok());
  ASSERT_TRUE(Shows(*chat, "demo #2> "));
  ASSERT_TRUE(Typed(*chat, kCtrlD));
  EXPECT_EQ(ExitCode(*chat), 0);
  EXPECT_THAT(Questions(), ElementsAre("how many dogs?"));
  EXPECT_THAT(chat->stdout_text(),
              HasSubstr("vetctl chat with practice demo at " + addr_));
  // The answer is printed, not drawn: the screen has the line typed only.
  EXPECT_THAT(chat->screen(), Not(HasSubstr("answer to")));
  EXPECT_THAT(chat->stdout_text(), Not(HasSubstr("demo #")));
}

TEST_F(VetctlProcessTest, ChatEditingKeysChangeTheLineBeforeItIsAsked) {
  std::unique_ptr<TerminalProcess> chat = ChatOnATerminal();
  ASSERT_NE(chat, nullptr);
  ASSERT_TRUE(Shows(*chat, "demo #1> "));
  // "dogz", backspace, "s", to the start, "how many ", to the end, "?", one
  // to the left, " today".
  ASSERT_TRUE(
      Typed(*chat, absl::StrCat("dogz", kBackspace, "s", kCtrlA, "how many ",
                                kCtrlE, "?", kLeft, " today", kEnter)));
  ASSERT_TRUE(Shows(*chat, "demo #2> "));
  ASSERT_TRUE(Typed(*chat, absl::StrCat("/quit", kEnter)));
  EXPECT_EQ(ExitCode(*chat), 0);
  EXPECT_THAT(Questions(), ElementsAre("how many dogs today?"));
}

TEST_F(VetctlProcessTest, ChatUpArrowRecallsEarlierLines) {
  std::unique_ptr<TerminalProcess> chat = ChatOnATerminal();
  ASSERT_NE(chat, nullptr);
  ASSERT_TRUE(Shows(*chat, "demo #1> "));
  ASSERT_TRUE(Typed(*chat, absl::StrCat("first", kEnter)));
  ASSERT_TRUE(Shows(*chat, "demo #2> "));
  ASSERT_TRUE(Typed(*chat, absl::StrCat("second", kEnter)));
  ASSERT_TRUE(Shows(*chat, "demo #3> "));
  ASSERT_TRUE(Typed(*chat, absl::StrCat(kUp, kUp, kEnter)));
  ASSERT_TRUE(Shows(*chat, "demo #4> "));
  ASSERT_TRUE(Typed(*chat, absl::StrCat(kUp, " again", kEnter)));
  ASSERT_TRUE(Shows(*chat, "demo #5> "));
  ASSERT_TRUE(Typed(*chat, kCtrlD));
  EXPECT_EQ(ExitCode(*chat), 0);
  EXPECT_THAT(Questions(),
              ElementsAre("first", "second", "first", "first again"));
}

TEST_F(VetctlProcessTest, ChatCtrlCAtThePromptClearsTheLineAndTheChatGoesOn) {
  std::unique_ptr<TerminalProcess> chat = ChatOnATerminal();
  ASSERT_NE(chat, nullptr);
  ASSERT_TRUE(Shows(*chat, "demo #1> "));
  ASSERT_TRUE(Typed(*chat, "never mind"));
  // Drawn by libedit: read, so Ctrl-C cannot overtake it.
  ASSERT_TRUE(Shows(*chat, "never mind"));
  ASSERT_TRUE(Typed(*chat, kCtrlC));
  ASSERT_TRUE(Shows(*chat, "^C"));
  ASSERT_TRUE(Shows(*chat, "demo #1> "));
  ASSERT_TRUE(Typed(*chat, absl::StrCat("how many cats?", kEnter)));
  ASSERT_TRUE(Shows(*chat, "demo #2> "));
  // The line dropped is not in the history either.
  ASSERT_TRUE(Typed(*chat, absl::StrCat(kUp, kUp, kEnter)));
  ASSERT_TRUE(Shows(*chat, "demo #3> "));
  ASSERT_TRUE(Typed(*chat, kCtrlD));
  EXPECT_EQ(ExitCode(*chat), 0);
  EXPECT_THAT(Questions(), ElementsAre("how many cats?", "how many cats?"));
}

TEST_F(VetctlProcessTest, ChatCtrlCDuringAQuestionCancelsItAndPromptsAgain) {
  std::unique_ptr<TerminalProcess> chat = ChatOnATerminal();
  ASSERT_NE(chat, nullptr);
  ASSERT_TRUE(Shows(*chat, "demo #1> "));
  ASSERT_TRUE(Typed(*chat, absl::StrCat("slow", kEnter)));
  // vetctl has the session the question started (and the service holds the
  // question until it is cancelled).
  ASSERT_TRUE(chat->WaitForStdout("s-1", kWait).ok()) << chat->stdout_text();
  ASSERT_TRUE(Typed(*chat, kCtrlC));
  ASSERT_TRUE(Shows(*chat, "vetctl: CANCELLED: interrupted"));
  // The session had started: the question counts as turn 1.
  ASSERT_TRUE(Shows(*chat, "demo #2> "));
  ASSERT_TRUE(Typed(*chat, absl::StrCat("and now?", kEnter)));
  ASSERT_TRUE(Shows(*chat, "demo #3> "));
  ASSERT_TRUE(Typed(*chat, kCtrlD));
  EXPECT_EQ(ExitCode(*chat), 0);
  EXPECT_THAT(Questions(), ElementsAre("slow", "and now?"));
  EXPECT_EQ(service_.ask_requests().back().session_id(), "s-1");
}

TEST_F(VetctlProcessTest, ChatSigtermAtThePromptEndsItWithNine) {
  std::unique_ptr<TerminalProcess> chat = ChatOnATerminal();
  ASSERT_NE(chat, nullptr);
  ASSERT_TRUE(Shows(*chat, "demo #1> "));
  ASSERT_EQ(kill(chat->pid(), SIGTERM), 0);
  EXPECT_EQ(ExitCode(*chat), 9);
}

TEST_F(VetctlProcessTest, ChatSavesItsHistoryPrivatelyForTheNextChat) {
  {
    std::unique_ptr<TerminalProcess> chat = ChatOnATerminal();
    ASSERT_NE(chat, nullptr);
    ASSERT_TRUE(Shows(*chat, "demo #1> "));
    ASSERT_TRUE(Typed(*chat, absl::StrCat("how many dogs?", kEnter)));
    ASSERT_TRUE(Shows(*chat, "demo #2> "));
    ASSERT_TRUE(Typed(*chat, kCtrlD));
    EXPECT_EQ(ExitCode(*chat), 0);
  }
  // The questions may name clients: only the user may read them.
  EXPECT_EQ(Mode(dir_ + "/state/vet-analytics"), 0700);
  EXPECT_EQ(Mode(HistoryFile()), 0600);
  // A file another program made readable is made private again.
  ASSERT_EQ(chmod(HistoryFile().c_str(), 0644), 0);

  std::unique_ptr<TerminalProcess> chat = ChatOnATerminal();
  ASSERT_NE(chat, nullptr);
  ASSERT_TRUE(Shows(*chat, "demo #1> "));
  ASSERT_TRUE(Typed(*chat, absl::StrCat(kUp, kEnter)));
  ASSERT_TRUE(Shows(*chat, "demo #2> "));
  ASSERT_TRUE(Typed(*chat, kCtrlD));
  EXPECT_EQ(ExitCode(*chat), 0);
  EXPECT_THAT(Questions(), ElementsAre("how many dogs?", "how many dogs?"));
  EXPECT_EQ(Mode(HistoryFile()), 0600);
}

TEST_F(VetctlProcessTest,
       ChatHistoryFallsBackToHomeAndAnUnwritableOneIsNoError) {
  // XDG_STATE_HOME must be absolute to count.
  std::unique_ptr<TerminalProcess> chat =
      ChatOnATerminal({"XDG_STATE_HOME=relative/state"});
  ASSERT_NE(chat, nullptr);
  ASSERT_TRUE(Shows(*chat, "demo #1> "));
  ASSERT_TRUE(Typed(*chat, absl::StrCat("q1", kEnter)));
  ASSERT_TRUE(Shows(*chat, "demo #2> "));
  ASSERT_TRUE(Typed(*chat, kCtrlD));
  EXPECT_EQ(ExitCode(*chat), 0);
  EXPECT_EQ(Mode(dir_ + "/home/.local/state/vet-analytics/chat_history"), 0600);

  // A state directory that is a file: the chat works and says nothing.
  std::ofstream(dir_ + "/not-a-dir") << "x";
  chat = ChatOnATerminal({"XDG_STATE_HOME=" + dir_ + "/not-a-dir"});
  ASSERT_NE(chat, nullptr);
  ASSERT_TRUE(Shows(*chat, "demo #1> "));
  ASSERT_TRUE(Typed(*chat, absl::StrCat("q2", kEnter)));
  ASSERT_TRUE(Shows(*chat, "demo #2> "));
  ASSERT_TRUE(Typed(*chat, kCtrlD));
  EXPECT_EQ(ExitCode(*chat), 0);
  EXPECT_THAT(chat->screen(), Not(HasSubstr("vetctl:")));
  EXPECT_THAT(Questions(), ElementsAre("q1", "q2"));
}

}  // namespace
}  // namespace vet::cli
