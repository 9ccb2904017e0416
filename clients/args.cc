// vetctl's command-line grammar: subcommands, operands, flag defaults from the
// environment, and the pre-check that keeps bad flags at exit code 2.
#include "clients/args.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/marshalling.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "core/practice/practice.h"

namespace vet::cli {

const char kUsage[] =
    R"(ask plain-language questions about a practice's clinic data.

Usage:
  vetctl ask "QUESTION" [--session=ID] [--as_of=YYYY-MM-DD] [--out_dir=DIR]
                           answer a question, streaming progress
  vetctl chat [--session=ID] [--as_of=YYYY-MM-DD] [--out_dir=DIR]
                           a prompt for question after question on one
                           session, with line editing and history; /help
                           lists its commands (/session /new /history
                           /budget /end /quit); Ctrl-C cancels the question
                           running, Ctrl-D leaves; from a pipe, one line per
                           question or command, no prompt
  vetctl budget            the practice's budget for the current period
  vetctl describe          the practice's tables and columns (never rows)
  vetctl session ID        one session with its turns
  vetctl sessions          the practice's sessions, most recent first
                           [--page_size=N] [--page_token=TOKEN]
  vetctl end-session ID    end a session; later asks with it are NOT_FOUND
  vetctl audit [--since=2026-12-01|24h] [--page_size=N] [--page_token=TOKEN]
                           the practice's audit trail, newest first: every
                           call made for it (refused ones too) with its key
                           id, status, cost and the question's hash or text
  vetctl import DIR [--mapping=FILE] [--as_of=YYYY-MM-DD]
                           upload DIR's clients.csv, patients.csv, staff.csv,
                           appointments.csv and invoice_lines.csv as the
                           practice's dataset
  vetctl import --preset=NAME DIR [--as_of=YYYY-MM-DD]
                           convert DIR's exports from a practice system
                           (NAME: ezyvet, covetrus, or a preset .json file;
                           docs/PRESETS.md), say what could not be filled,
                           and upload the result
  vetctl demo-data DIR [--lines=N] [--as_of=YYYY-MM-DD]
                           write the demo practice's CSV exports into DIR
                           (no server call; N invoice lines, default 200000;
                           data up to --as_of, default today)
  vetctl new-key [--practice=ID]
                           print a new random API key (256 bits) and the
                           practices file entry holding its SHA-256 (no
                           server call; the key itself is stored nowhere)
  vetctl bench ["QUESTION"] [--question=Q]... [--questions_file=FILE]
               [--streams=N] [--duration=SECONDS] [--warmup=SECONDS]
               [--max_questions=N]
               [--practices=ID[:KEY],... | --practices_file=FILE]
                           load test: N concurrent Ask streams, each asking
                           the next question as soon as one ends; prints
                           questions/s, latency p50/p95/p99, time to first
                           event and the errors by status code
  vetctl help              this text

Flags go before or after the subcommand:
  --addr=HOST:PORT    server (default $VET_ADDR, else 127.0.0.1:50051)
  --tls               TLS, trusting the system's CA certificates (default on
                      when $VET_TLS is 1)
  --ca_cert=FILE      TLS, trusting the CA certificates in FILE (PEM; default
                      $VET_CA_CERT)
  --client_cert=FILE, --client_key=FILE
                      a client certificate and its key (PEM), for a server
                      that requires one (mutual TLS); implies TLS
  --practice=ID       practice id (default $VET_PRACTICE, else demo)
  --api_key=KEY       sent as x-api-key (default $VET_API_KEY; for practice
                      demo, the demo server's key demo-key)
  --session=ID        ask, chat: continue this session
  --as_of=YYYY-MM-DD  ask, chat: the date "last month" etc. resolve against;
                      import: later dates are refused
  --mapping=FILE      import: column mapping (JSON, see docs/SCHEMA.md)
  --preset=NAME       import: the practice system DIR's exports come from
  --out_dir=DIR       ask, chat: where artifacts are saved, as
                      DIR/SESSION/NAME (default ./vetctl-artifacts)
  --json              one proto3 JSON object per line on stdout; errors as
                      {"code": ..., "message": ...} on stderr
  --timeout=T         deadline of the call: seconds (90, 2.5) or a duration
                      (1500ms, 2m, 1m30s); default 120, import 600; chat: of
                      each question and command
  --code=VIEW         ask, chat: the generated code: hide, summary (the
                      default: what it computes, one line), show (its first
                      lines) or full
  --no_color          no colors (also off with NO_COLOR or without a terminal)

bench:
  --question=Q        a question of the mix; repeat for more
  --questions_file=F  more questions, one per line (blank lines and lines
                      starting with # are skipped)
  --streams=N         concurrent Ask streams (default 8)
  --duration=SECONDS  measured time (default 10)
  --warmup=SECONDS    time before it, not measured (default 2)
  --max_questions=N   stop once N questions started after the warm-up have
                      ended (--duration still caps the run)
  --practices=LIST    spread the streams over these practices: ID or
                      ID:KEY, comma-separated (default: --practice)
  --practices_file=F  the same from a file in the practices file's form
                      whose entries give id and api_key (the key in clear)

Exit codes: 0 ok; 1 other error; 2 bad usage; 3 INVALID_ARGUMENT;
4 UNAUTHENTICATED or PERMISSION_DENIED; 5 NOT_FOUND; 6 RESOURCE_EXHAUSTED
(budget); 7 DEADLINE_EXCEEDED; 8 UNAVAILABLE; 9 CANCELLED (Ctrl-C).
)";

namespace {

std::string FirstNonEmpty(const std::string& a, const std::string& b,
                          const std::string& fallback) {
  if (!a.empty()) return a;
  if (!b.empty()) return b;
  return fallback;
}

// absl's own flags, handled by absl::ParseCommandLine itself. The first group
// never takes the next argument as its value; the second does.
bool IsAbslValuelessFlag(absl::string_view name) {
  return name == "help" || name == "helpfull" || name == "helpshort" ||
         name == "helppackage" || name == "version" ||
         name == "only_check_args";
}
bool IsAbslValuedFlag(absl::string_view name) {
  return name == "flagfile" || name == "fromenv" || name == "tryfromenv" ||
         name == "undefok";
}

absl::Status Usage(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

template <typename T>
bool Parses(absl::string_view value, std::string* error) {
  T parsed;
  return absl::ParseFlag(value, &parsed, error);
}

// Whether `value` parses as `flag`'s type, without setting the flag. Types
// not listed here are left to absl::ParseCommandLine.
bool IsValidValue(const absl::CommandLineFlag& flag, absl::string_view value,
                  std::string* error) {
  if (flag.IsOfType<bool>()) return Parses<bool>(value, error);
  if (flag.IsOfType<int>()) return Parses<int>(value, error);
  if (flag.IsOfType<int64_t>()) return Parses<int64_t>(value, error);
  if (flag.IsOfType<std::optional<int>>()) {
    return Parses<std::optional<int>>(value, error);
  }
  if (flag.IsOfType<std::optional<int64_t>>()) {
    return Parses<std::optional<int64_t>>(value, error);
  }
  if (flag.IsOfType<double>()) return Parses<double>(value, error);
  if (flag.IsOfType<std::optional<double>>()) {
    return Parses<std::optional<double>>(value, error);
  }
  return true;
}

// The key of a practice named without one: --api_key, else $VET_API_KEY,
// else the demo key for the demo practice.
std::string DefaultApiKey(const FlagValues& flags, const Environment& env,
                          absl::string_view practice) {
  return FirstNonEmpty(flags.api_key, env.vet_api_key,
                       practice == kDefaultPractice ? kDemoApiKey : "");
}

// "a:KEY,b" as targets; kInvalidArgument naming --practices for an empty
// entry, id or key.
absl::Status ParsePracticeList(const FlagValues& flags, const Environment& env,
                               std::vector<BenchTarget>& targets) {
  for (absl::string_view entry : absl::StrSplit(flags.practices, ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    if (entry.empty()) {
      return Usage(absl::StrCat("--practices has an empty entry in \"",
                                flags.practices, "\" (want ID or ID:KEY, ",
                                "comma-separated)"));
    }
    BenchTarget target;
    if (size_t colon = entry.find(':'); colon != absl::string_view::npos) {
      target.practice = std::string(entry.substr(0, colon));
      target.api_key = std::string(entry.substr(colon + 1));
      if (target.api_key.empty()) {
        return Usage(absl::StrCat("--practices entry \"", entry,
                                  "\" has an empty key after the colon"));
      }
    } else {
      target.practice = std::string(entry);
      target.api_key = DefaultApiKey(flags, env, target.practice);
    }
    if (target.practice.empty()) {
      return Usage(
          absl::StrCat("--practices entry \"", entry, "\" has no practice id"));
    }
    targets.push_back(std::move(target));
  }
  return absl::OkStatus();
}

// Checks the bench flags (whatever the command, so that a bench flag with a
// bad value is an error everywhere) and fills `bench` from them.
absl::Status ParseBenchSettings(const FlagValues& flags, const Environment& env,
                                Command command, BenchSettings& bench) {
  if (flags.streams.has_value() &&
      (*flags.streams < 1 || *flags.streams > kMaxBenchStreams)) {
    return Usage(absl::StrCat("--streams must be between 1 and ",
                              kMaxBenchStreams, ", got ", *flags.streams));
  }
  // Written !(x > 0) so that NaN is refused too.
  if (flags.duration_seconds.has_value() &&
      (!(*flags.duration_seconds > 0) ||
       *flags.duration_seconds > kMaxBenchSeconds)) {
    return Usage(absl::StrCat(
        "--duration must be a number of seconds above 0 and at most ",
        kMaxBenchSeconds, ", got ", *flags.duration_seconds));
  }
  if (flags.warmup_seconds.has_value() &&
      (!(*flags.warmup_seconds >= 0) ||
       *flags.warmup_seconds > kMaxBenchSeconds)) {
    return Usage(absl::StrCat("--warmup must be a number of seconds from 0 to ",
                              kMaxBenchSeconds, ", got ",
                              *flags.warmup_seconds));
  }
  if (flags.max_questions.has_value() && *flags.max_questions < 0) {
    return Usage(absl::StrCat("--max_questions must not be negative, got ",
                              *flags.max_questions));
  }
  if (!flags.practices.empty() && !flags.practices_file.empty()) {
    return Usage(
        "--practices and --practices_file both name the practices; give one");
  }
  if (command != Command::kBench) return absl::OkStatus();
  bench.streams = flags.streams.value_or(kDefaultBenchStreams);
  bench.duration =
      absl::Seconds(flags.duration_seconds.value_or(kDefaultBenchSeconds));
  bench.warmup =
      absl::Seconds(flags.warmup_seconds.value_or(kDefaultBenchWarmupSeconds));
  bench.max_questions = flags.max_questions.value_or(0);
  bench.questions_file = flags.questions_file;
  bench.practices_file = flags.practices_file;
  if (!flags.practices.empty()) {
    return ParsePracticeList(flags, env, bench.targets);
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> FlagOccurrences(absl::Span<char* const> argv,
                                         absl::string_view name) {
  std::vector<std::string> values;
  for (size_t i = 1; i < argv.size(); ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    if (!absl::ConsumePrefix(&arg, name)) continue;
    if (arg.empty()) {
      if (i + 1 < argv.size()) values.emplace_back(argv[++i]);
    } else if (arg[0] == '=') {
      values.emplace_back(arg.substr(1));
    }
  }
  return values;
}

Environment Environment::FromProcess() {
  auto get = [](const char* name) {
    const char* value = std::getenv(name);
    return std::string(value == nullptr ? "" : value);
  };
  Environment env;
  env.vet_addr = get("VET_ADDR");
  env.vet_practice = get("VET_PRACTICE");
  env.vet_api_key = get("VET_API_KEY");
  const std::string tls = absl::AsciiStrToLower(get("VET_TLS"));
  env.vet_tls = tls == "1" || tls == "true";
  env.vet_ca_cert = get("VET_CA_CERT");
  env.no_color = !get("NO_COLOR").empty();
  return env;
}

absl::StatusOr<absl::Time> ResolveSince(absl::string_view text, absl::Time now,
                                        absl::TimeZone tz) {
  const std::string shown(text.substr(0, 64));
  auto bad = [&] {
    return Usage(absl::StrCat(
        "--since must be a date (2026-12-01), a time (2026-12-01T08:00:00Z) "
        "or a duration ago (90m, 24h, 7d), got \"",
        shown, "\""));
  };
  absl::Time since;
  absl::CivilDay day;
  std::string error;
  absl::Duration ago;
  int64_t days = 0;
  if (IsValidDate(std::string(text)) && absl::ParseCivilTime(text, &day)) {
    since = absl::FromCivil(day, tz);
  } else if (absl::ParseTime(absl::RFC3339_full, text, &since, &error)) {
  } else if (absl::EndsWith(text, "d") &&
             absl::SimpleAtoi(text.substr(0, text.size() - 1), &days) &&
             days >= 0 && days <= 36500) {
    since = now - absl::Hours(24 * days);
  } else if (absl::ParseDuration(text, &ago) && ago >= absl::ZeroDuration() &&
             ago != absl::InfiniteDuration()) {
    since = now - ago;
  } else {
    return bad();
  }
  if (since > now) {
    return Usage(absl::StrCat("--since \"", shown, "\" is in the future"));
  }
  return since;
}

bool IsValidDate(const std::string& date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(date[i]))) return false;
  }
  // ParseCivilTime normalizes ("2026-02-30" becomes March 2nd): a real day is
  // one that survives the round trip.
  absl::CivilDay day;
  return absl::ParseCivilTime(date, &day) && absl::FormatCivilTime(day) == date;
}

absl::StatusOr<absl::Duration> ParseTimeout(absl::string_view text) {
  const std::string shown(text.substr(0, 40));
  auto refuse = [&shown]() {
    return absl::InvalidArgumentError(
        absl::StrCat("--timeout must be a positive number of seconds (90, 2.5) "
                     "or a duration (1500ms, 2m, "
                     "1m30s) of at most 24h, got \"",
                     shown, "\""));
  };
  absl::Duration timeout;
  double seconds = 0;
  if (absl::SimpleAtod(text, &seconds) && !text.empty() &&
      absl::ascii_isdigit(static_cast<unsigned char>(text.back()))) {
    if (!std::isfinite(seconds) || seconds <= 0 || seconds > 86400)
      return refuse();
    timeout = absl::Milliseconds(std::max(1.0, std::round(seconds * 1000)));
  } else if (!absl::ParseDuration(text, &timeout)) {
    return refuse();
  }
  if (timeout <= absl::ZeroDuration() || timeout > absl::Hours(24))
    return refuse();
  return timeout;
}

absl::StatusOr<Invocation> ParseInvocation(const std::vector<std::string>& args,
                                           const FlagValues& flags,
                                           const Environment& env) {
  if (args.empty()) return Usage("missing subcommand");
  static constexpr struct {
    const char* name;
    Command command;
  } kCommands[] = {
      {"ask", Command::kAsk},
      {"budget", Command::kBudget},
      {"describe", Command::kDescribe},
      {"session", Command::kSession},
      {"sessions", Command::kSessions},
      {"end-session", Command::kEndSession},
      {"audit", Command::kAudit},
      {"import", Command::kImport},
      {"demo-data", Command::kDemoData},
      {"help", Command::kHelp},
      {"chat", Command::kChat},
      {"bench", Command::kBench},
      {"new-key", Command::kNewKey},
  };
  const std::string& name = args[0];
  Invocation inv;
  bool known = false;
  for (const auto& entry : kCommands) {
    if (name == entry.name) {
      inv.command = entry.command;
      known = true;
    }
  }
  if (!known) return Usage(absl::StrCat("unknown subcommand \"", name, "\""));
  const std::vector<std::string> operands(args.begin() + 1, args.end());

  switch (inv.command) {
    case Command::kAsk:
      // `vetctl ask how many dogs` means the same as with quotes.
      inv.question =
          std::string(absl::StripAsciiWhitespace(absl::StrJoin(operands, " ")));
      if (inv.question.empty()) {
        return Usage("ask needs a question: vetctl ask \"QUESTION\"");
      }
      inv.session_id = flags.session;
      break;
    case Command::kChat:
      // The questions come from the prompt, never from the command line.
      if (!operands.empty()) {
        return Usage(absl::StrCat("chat takes no arguments, got \"",
                                  absl::StrJoin(operands, " "),
                                  "\" (type the questions at its prompt)"));
      }
      inv.session_id = flags.session;
      break;
    case Command::kBench:
      // Like ask, several words are one question; --question adds more.
      if (std::string question = std::string(
              absl::StripAsciiWhitespace(absl::StrJoin(operands, " ")));
          !question.empty()) {
        inv.bench.questions.push_back(std::move(question));
      }
      for (const std::string& question : flags.questions) {
        if (absl::StripAsciiWhitespace(question).empty()) {
          return Usage("--question must not be empty");
        }
        inv.bench.questions.push_back(question);
      }
      if (inv.bench.questions.empty() && flags.questions_file.empty()) {
        return Usage(
            "bench needs a question: vetctl bench \"QUESTION\", "
            "--question=Q or --questions_file=FILE");
      }
      break;
    case Command::kSession:
    case Command::kEndSession:
      if (operands.size() > 1) {
        return Usage(
            absl::StrCat(name, " takes one session id, got ", operands.size()));
      }
      if (!operands.empty() && !flags.session.empty() &&
          operands[0] != flags.session) {
        return Usage(absl::StrCat(name, ": session id \"", operands[0],
                                  "\" and --session=", flags.session,
                                  " disagree"));
      }
      inv.session_id = operands.empty() ? flags.session : operands[0];
      if (inv.session_id.empty()) {
        return Usage(
            absl::StrCat(name, " needs a session id: vetctl ", name, " ID"));
      }
      break;
    case Command::kImport:
    case Command::kDemoData:
      if (operands.size() > 1) {
        return Usage(
            absl::StrCat(name, " takes one directory, got ", operands.size()));
      }
      if (operands.empty() || operands[0].empty()) {
        return Usage(
            absl::StrCat(name, " needs a directory: vetctl ", name, " DIR"));
      }
      inv.dir = operands[0];
      break;
    case Command::kNewKey:
      if (!flags.practice.empty()) {
        if (absl::Status valid = ValidatePracticeId(flags.practice);
            !valid.ok()) {
          return Usage(absl::StrCat("--practice: ", valid.message()));
        }
      }
      inv.new_key_practice = flags.practice;
      if (!operands.empty()) {
        return Usage(absl::StrCat(name, " takes no arguments, got \"",
                                  absl::StrJoin(operands, " "), "\""));
      }
      break;
    case Command::kHelp:
    case Command::kBudget:
    case Command::kDescribe:
    case Command::kSessions:
    case Command::kAudit:
      if (!operands.empty()) {
        return Usage(absl::StrCat(name, " takes no arguments, got \"",
                                  absl::StrJoin(operands, " "), "\""));
      }
      break;
  }

  if (!flags.as_of.empty() && !IsValidDate(flags.as_of)) {
    return Usage(
        absl::StrCat("--as_of must be a date written YYYY-MM-DD, got \"",
                     flags.as_of, "\""));
  }
  absl::Duration timeout = absl::Seconds(inv.command == Command::kImport
                                             ? kDefaultImportTimeoutSeconds
                                             : kDefaultTimeoutSeconds);
  if (flags.timeout.has_value()) {
    absl::StatusOr<absl::Duration> parsed = ParseTimeout(*flags.timeout);
    if (!parsed.ok()) return Usage(parsed.status().message());
    timeout = *parsed;
  }
  CodeView code_view;
  if (flags.code == "hide") {
    code_view = CodeView::kHide;
  } else if (flags.code == "summary" || flags.code.empty()) {
    code_view = CodeView::kSummary;
  } else if (flags.code == "show") {
    code_view = CodeView::kShow;
  } else if (flags.code == "full") {
    code_view = CodeView::kFull;
  } else {
    return Usage(
        absl::StrCat("--code must be hide, summary, show or full, got \"",
                     flags.code.substr(0, 40), "\""));
  }
  if (flags.lines.has_value() &&
      (*flags.lines < 1 || *flags.lines > kMaxDemoLines)) {
    return Usage(absl::StrCat("--lines must be between 1 and ", kMaxDemoLines,
                              ", got ", *flags.lines));
  }
  if (flags.page_size < 0) {
    return Usage(absl::StrCat("--page_size must not be negative, got ",
                              flags.page_size));
  }
  if (!flags.since.empty()) {
    // Checked now, for exit code 2 before any call; resolved at the call.
    if (absl::StatusOr<absl::Time> since =
            ResolveSince(flags.since, absl::Now(), absl::UTCTimeZone());
        !since.ok()) {
      return since.status();
    }
  }

  if (absl::Status bench =
          ParseBenchSettings(flags, env, inv.command, inv.bench);
      !bench.ok()) {
    return bench;
  }

  inv.addr = FirstNonEmpty(flags.addr, env.vet_addr, kDefaultAddr);
  if (flags.client_cert.empty() != flags.client_key.empty()) {
    return Usage(
        flags.client_cert.empty()
            ? "--client_key needs --client_cert: give both or neither"
            : "--client_cert needs --client_key: give both or neither");
  }
  inv.tls.ca_cert = FirstNonEmpty(flags.ca_cert, env.vet_ca_cert, "");
  inv.tls.client_cert = flags.client_cert;
  inv.tls.client_key = flags.client_key;
  // A CA or a client certificate only means something over TLS.
  inv.tls.enabled = flags.tls || env.vet_tls || !inv.tls.ca_cert.empty() ||
                    !inv.tls.client_cert.empty();
  inv.practice =
      FirstNonEmpty(flags.practice, env.vet_practice, kDefaultPractice);
  inv.api_key = DefaultApiKey(flags, env, inv.practice);
  inv.as_of = flags.as_of;
  inv.out_dir = flags.out_dir.empty() ? kDefaultOutDir : flags.out_dir;
  inv.json = flags.json;
  inv.color_allowed = !flags.no_color && !env.no_color;
  inv.timeout = timeout;
  inv.code = code_view;
  inv.page_size = flags.page_size;
  inv.page_token = flags.page_token;
  inv.since = flags.since;
  inv.mapping_file = flags.mapping;
  inv.preset = flags.preset;
  if (!inv.preset.empty() && !inv.mapping_file.empty()) {
    return Usage(
        "--preset and --mapping do not go together: a preset writes the "
        "canonical columns itself");
  }
  inv.invoice_lines = flags.lines.value_or(kDefaultDemoLines);
  if (inv.command == Command::kBench && inv.bench.targets.empty() &&
      flags.practices_file.empty()) {
    inv.bench.targets.push_back({inv.practice, inv.api_key});
  }
  return inv;
}

absl::Status CheckFlagArgs(absl::Span<char* const> argv) {
  for (size_t i = 1; i < argv.size(); ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;  // The rest is positional.
    if (arg.size() < 2 || arg[0] != '-') continue;
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    absl::string_view name = arg;
    absl::optional<absl::string_view> value;
    if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    if (IsAbslValuelessFlag(name)) continue;
    if (IsAbslValuedFlag(name)) {
      if (!value.has_value()) ++i;
      continue;
    }

    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) {
      absl::string_view positive = name;
      if (!value.has_value() && absl::ConsumePrefix(&positive, "no")) {
        absl::CommandLineFlag* negated = absl::FindCommandLineFlag(positive);
        if (negated != nullptr && negated->IsOfType<bool>()) continue;
      }
      return Usage(absl::StrCat("unknown flag --", name));
    }
    if (!value.has_value()) {
      if (flag->IsOfType<bool>()) continue;
      if (i + 1 >= argv.size()) {
        return Usage(absl::StrCat("flag --", name, " needs a value"));
      }
      value = absl::string_view(argv[++i]);
    }
    std::string error;
    if (!IsValidValue(*flag, *value, &error)) {
      return Usage(absl::StrCat("--", name, ": invalid value \"", *value, "\"",
                                error.empty() ? "" : ": ", error));
    }
  }
  return absl::OkStatus();
}

}  // namespace vet::cli
