// What hiding a practice's personal values costs on the model path
// (docs/BENCHMARKS.md, "Personal data shield"): building the shield for a
// practice of N clients (once per dataset version), and hiding one
// request's texts (every model call). The baseline in the same run is the
// same request through a Redaction without a shield (a copy of the texts).
//
//   shield_bench [clients]     default 50000; 1.5 patients per client
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/codegen/personal_data_shield.h"

namespace {

using vet::codegen::PersonalDataShield;

std::string Syllables(std::mt19937_64& rng, int n) {
  static const char* kParts[] = {"ash",  "bram",  "cor",  "dun",   "elm",  "fenn", "gorm", "hask",
                                 "ivel", "kest",  "lorn", "mard",  "norr", "pell", "quen", "rusk",
                                 "bury", "combe", "dale", "field", "ford", "gate", "ley",  "wick"};
  std::string out;
  for (int i = 0; i < n; ++i) out += kParts[rng() % 24];
  out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

long PeakRssKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  const int clients = argc > 1 ? std::atoi(argv[1]) : 50000;
  std::mt19937_64 rng(20261204);
  std::vector<vet::data::PersonalColumn> columns = {
      {"clients", "first_name", {}}, {"clients", "last_name", {}},   {"clients", "email", {}},
      {"clients", "phone", {}},      {"clients", "postal_code", {}}, {"patients", "name", {}}};
  for (int i = 0; i < clients; ++i) {
    const std::string first = Syllables(rng, 2), last = Syllables(rng, 3);
    columns[0].values.push_back(first);
    columns[1].values.push_back(last);
    columns[2].values.push_back(absl::StrCat(first, ".", last, ".", i, "@example.com"));
    columns[3].values.push_back(
        absl::StrCat("+1-555-", 100 + rng() % 900, "-", 1000 + rng() % 9000));
    columns[4].values.push_back(absl::StrCat("Z", rng() % 100000));
    columns[5].values.push_back(Syllables(rng, 2));
    if (i % 2 == 0) columns[5].values.push_back(Syllables(rng, 2));
  }
  size_t values = 0;
  for (const auto& c : columns) values += c.values.size();
  const long rss_before = PeakRssKb();
  absl::Time start = absl::Now();
  auto shield = std::make_shared<const PersonalDataShield>(columns);
  const absl::Duration build = absl::Now() - start;
  const long rss_after = PeakRssKb();

  // One request as the model path sends it: a question naming a client, two
  // earlier turns with their code, and a repair's 300-character error.
  const std::string question =
      absl::StrCat("How much did ", columns[0].values[7], " ", columns[1].values[7],
                   " spend last year, and on ", columns[5].values[3], "?");
  std::string code;
  for (int i = 0; i < 40; ++i) {
    absl::StrAppend(&code, "lines = invoice_lines[invoice_lines[\"client_id\"] == \"C", i,
                    "\"]  # for ", columns[0].values[i], "\n");
  }
  std::string failure = "ValueError at line 3: ";
  for (int i = 0; failure.size() < 300; ++i) {
    absl::StrAppend(&failure, columns[0].values[i], " ", columns[1].values[i], " ",
                    columns[3].values[i], " ");
  }
  failure.resize(300);
  const int rounds = 2000;
  auto run = [&](std::shared_ptr<const PersonalDataShield> s) {
    size_t bytes = 0;
    absl::Time t = absl::Now();
    for (int r = 0; r < rounds; ++r) {
      PersonalDataShield::Redaction redaction(s);
      bytes += redaction.Hide(question).size();
      bytes += redaction.HideInCode(code).size();
      bytes += redaction.Hide(failure).size();
    }
    if (bytes == 0) std::abort();
    return (absl::Now() - t) / rounds;
  };
  const absl::Duration baseline = run(nullptr);
  const absl::Duration hidden = run(shield);
  PersonalDataShield::Redaction check(shield);
  std::printf("clients %d, personal values %zu, indexed %zu\n", clients, values, shield->size());
  std::printf("build shield:            %.1f ms (peak RSS +%ld MiB)\n",
              absl::ToDoubleMilliseconds(build), (rss_after - rss_before) / 1024);
  std::printf("hide one request:        %.1f us (baseline without shield %.1f us)\n",
              absl::ToDoubleMicroseconds(hidden), absl::ToDoubleMicroseconds(baseline));
  std::printf("example: %s\n", check.Hide(question).c_str());
  return 0;
}
