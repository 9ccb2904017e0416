// Command-line parsing for vetctl, apart from absl's flag registry so that it
// can be tested: main.cc defines the flags and hands their values here as a
// FlagValues, with the positional arguments absl::ParseCommandLine returned.
#ifndef VET_CLIENTS_ARGS_H_
#define VET_CLIENTS_ARGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace vet::cli {

// The usage text: subcommands, common flags, environment, exit codes.
extern const char kUsage[];

inline constexpr char kDefaultAddr[] = "127.0.0.1:50051";
inline constexpr char kDefaultPractice[] = "demo";
// The API key of the demo server's "demo" practice.
inline constexpr char kDemoApiKey[] = "demo-key";
inline constexpr char kDefaultOutDir[] = "vetctl-artifacts";
inline constexpr int kDefaultTimeoutSeconds = 120;
// import uploads a whole practice's exports: a longer default deadline.
inline constexpr int kDefaultImportTimeoutSeconds = 600;
// demo-data: about 0.35 s of generation and 25 MB of CSV.
inline constexpr int64_t kDefaultDemoLines = 200000;
// The bounds vet::data::WriteDemoDataset accepts.
inline constexpr int64_t kMaxDemoLines = 20000000;
// bench: concurrent Ask streams, measured seconds and warm-up seconds.
inline constexpr int kDefaultBenchStreams = 8;
inline constexpr int kMaxBenchStreams = 10000;
inline constexpr double kDefaultBenchSeconds = 10;
inline constexpr double kDefaultBenchWarmupSeconds = 2;
// A day: longer is a mistake, not a benchmark.
inline constexpr double kMaxBenchSeconds = 86400;

// How much of a question's generated code vetctl prints.
enum class CodeView {
  kHide,     // nothing but the line saying who wrote it and what it cost
  kSummary,  // and one line saying what it computes
  kShow,     // and its first lines
  kFull,     // and all of it
};

enum class Command {
  kHelp,
  kAsk,
  kBudget,
  kDescribe,
  kSession,
  kSessions,
  kEndSession,
  kAudit,
  kImport,
  kDemoData,
  kNewKey,
  kChat,
  kBench
};

// How vetctl's channel is secured.
struct TlsSettings {
  // False: plaintext, as before TLS; every field below is then empty.
  bool enabled = false;
  // PEM CA certificates the server's certificate must chain to; empty: the
  // system's roots.
  std::string ca_cert;
  // A client certificate and its key (PEM) for servers that require one
  // (mutual TLS); both or neither.
  std::string client_cert;
  std::string client_key;
};

// Flag values as absl parsed them. Empty strings mean "not given": the
// environment and then the built-in defaults fill them in.
struct FlagValues {
  std::string addr;
  // TLS: --tls (system roots), --ca_cert (implies --tls), --client_cert and
  // --client_key.
  bool tls = false;
  std::string ca_cert;
  std::string client_cert;
  std::string client_key;
  std::string practice;
  std::string api_key;
  std::string session;
  std::string as_of;
  std::string out_dir;
  bool json = false;
  bool no_color = false;
  // Not given: kDefaultTimeoutSeconds, or kDefaultImportTimeoutSeconds for
  // import. Seconds ("90", "2.5") or a duration with its unit ("1500ms",
  // "2m", "1m30s").
  std::optional<std::string> timeout;
  // ask, chat: how much of the generated code to print: "hide", "summary"
  // (the default: one line saying what it computes), "show" (the first
  // lines) or "full".
  std::string code = "summary";
  int page_size = 0;
  std::string page_token;
  // audit: "YYYY-MM-DD", an RFC 3339 time or a duration ago ("24h", "7d").
  std::string since;
  std::string mapping;
  // import: a preset name or the path of a preset .json file.
  std::string preset;
  // Not given: kDefaultDemoLines.
  std::optional<int64_t> lines;
  // bench. `questions` holds every --question given, in order (absl keeps
  // only the last; main.cc collects them with FlagOccurrences).
  std::vector<std::string> questions;
  std::string questions_file;
  std::string practices;
  std::string practices_file;
  std::optional<int> streams;
  std::optional<double> duration_seconds;
  std::optional<double> warmup_seconds;
  std::optional<int64_t> max_questions;
};

// The environment variables vetctl reads.
struct Environment {
  std::string vet_addr;      // VET_ADDR
  std::string vet_practice;  // VET_PRACTICE
  std::string vet_api_key;   // VET_API_KEY
  bool vet_tls = false;      // VET_TLS is 1 or true
  std::string vet_ca_cert;   // VET_CA_CERT
  bool no_color = false;     // NO_COLOR set and non-empty (no-color.org)

  static Environment FromProcess();
};

// A practice a bench stream asks for, with the key it presents.
struct BenchTarget {
  std::string practice;
  // Empty: no x-api-key header is sent.
  std::string api_key;

  bool operator==(const BenchTarget& other) const {
    return practice == other.practice && api_key == other.api_key;
  }
};

// `vetctl bench`: what to ask, for whom, how hard and for how long.
struct BenchSettings {
  int streams = kDefaultBenchStreams;
  absl::Duration duration = absl::Seconds(kDefaultBenchSeconds);
  absl::Duration warmup = absl::Seconds(kDefaultBenchWarmupSeconds);
  // Stop once this many questions, started after the warm-up, have ended;
  // 0 for no limit (the run lasts `duration`).
  int64_t max_questions = 0;
  // The operand (if any) and then every --question, in order.
  std::vector<std::string> questions;
  // --questions_file, read by LoadBenchPlan (bench.h).
  std::string questions_file;
  // From --practices ("a:KEY,b"; an entry without a key gets the key
  // resolved as --api_key is), else the one of --practice; empty when
  // --practices_file names them.
  std::vector<BenchTarget> targets;
  // --practices_file, read by LoadBenchPlan.
  std::string practices_file;
};

// One fully resolved command line.
struct Invocation {
  Command command = Command::kHelp;
  // ask: the question (several positional words are joined by spaces).
  std::string question;
  // ask, chat: the session to continue (empty starts one); session,
  // end-session: the session to show or end.
  std::string session_id;
  std::string addr;
  TlsSettings tls;
  std::string practice;
  // Empty: no x-api-key header is sent.
  std::string api_key;
  // "YYYY-MM-DD" or empty.
  std::string as_of;
  // ask: artifacts go to <out_dir>/<session id>/<name>.
  std::string out_dir;
  bool json = false;
  // False with --no_color or NO_COLOR; colors also need a terminal.
  bool color_allowed = true;
  absl::Duration timeout = absl::Seconds(kDefaultTimeoutSeconds);
  CodeView code = CodeView::kSummary;
  int page_size = 0;
  std::string page_token;
  // audit: --since as given (checked; ResolveSince turns it into a time
  // when the call is made); empty for the whole trail.
  std::string since;
  // import: the directory holding the CSV exports; demo-data: where they are
  // written.
  std::string dir;
  // import: the column mapping file (JSON); empty for none.
  std::string mapping_file;
  // import: converts DIR's vendor exports with this preset (a built-in name
  // or a .json path, vet::data::LoadPreset) before the upload.
  std::string preset;
  // new-key: the practice given with --practice, for the line it prints;
  // empty when none was given.
  std::string new_key_practice;
  // demo-data: about this many invoice lines.
  int64_t invoice_lines = kDefaultDemoLines;
  BenchSettings bench;
};

// --timeout's value: seconds ("90", "2.5") or a duration with its unit
// ("1500ms", "2m", "1m30s"), positive and at most 24h. kInvalidArgument
// saying so otherwise.
absl::StatusOr<absl::Duration> ParseTimeout(absl::string_view text);

// Resolves `args` (the positional arguments after the program name: the
// subcommand and its operands) with `flags` and `env`. Returns
// kInvalidArgument, with a message for people, for bad usage: no or unknown
// subcommand, missing question, session id or directory, extra operands,
// malformed --as_of, non-positive --timeout, negative --page_size, --lines
// outside [1, kMaxDemoLines]; for bench, no question, --streams outside
// [1, kMaxBenchStreams], a non-positive --duration, a negative --warmup, a
// negative --max_questions, a malformed --practices, or both --practices and
// --practices_file; only one of --client_cert and --client_key. Each message
// names the flag. The TLS files are read when the channel is made
// (clients/channel.h), not here.
absl::StatusOr<Invocation> ParseInvocation(const std::vector<std::string>& args,
                                           const FlagValues& flags,
                                           const Environment& env);

// Checks `argv` against absl's flag registry before absl::ParseCommandLine
// sees it, because that exits with code 1 on an unknown flag or a bad value
// and vetctl promises 2. Understands --flag=value, --flag value, -flag,
// --noboolflag and "--"; leaves absl's own flags (--help, --flagfile, ...)
// to absl. Returns kInvalidArgument naming the first bad flag. Sets no flag.
absl::Status CheckFlagArgs(absl::Span<char* const> argv);

// Every value `argv` gives the flag `name` (--name=V, --name V, -name=V,
// -name V), in order, up to a "--". absl::ParseCommandLine keeps only the
// last value of a repeated flag; bench's --question is meant to be repeated.
std::vector<std::string> FlagOccurrences(absl::Span<char* const> argv,
                                         absl::string_view name);

// `vetctl audit --since`: "YYYY-MM-DD" (midnight starting that day in
// `tz`), an RFC 3339 time ("2026-12-01T08:00:00Z") or a duration before
// `now` ("90m", "24h", "7d"). kInvalidArgument naming --since otherwise, or
// for a time after `now`.
absl::StatusOr<absl::Time> ResolveSince(absl::string_view text, absl::Time now,
                                        absl::TimeZone tz);

// True if `date` is a real calendar day written "YYYY-MM-DD".
bool IsValidDate(const std::string& date);

}  // namespace vet::cli

#endif  // VET_CLIENTS_ARGS_H_
