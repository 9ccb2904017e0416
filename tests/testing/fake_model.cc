// The fake model's two programs and how a request picks one.
#include "tests/testing/fake_model.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace vet::testing {
namespace {

// The sum of every invoice line: a real pandas pass over the biggest table,
// about as much work as a simple question.
constexpr char kSimpleCode[] =
    "total = round(float(invoice_lines[\"amount\"].sum()), 2)\n"
    "print(\"lines counted:\", len(invoice_lines))\n"
    "result = total\n"
    "answer = f\"Revenue over all invoice lines was ${total:,.2f}.\"\n";

// Busy for the given seconds. datetime, because the sandbox's allowed
// modules leave out time.
std::string CpuHeavyCode(absl::Duration spin) {
  return absl::StrFormat(
      "import datetime\n"
      "end = datetime.datetime.now() + datetime.timedelta(seconds=%.3f)\n"
      "spins = 0\n"
      "while datetime.datetime.now() < end:\n"
      "    spins += 1\n"
      "result = spins\n"
      "answer = f\"Spun {spins:,} times.\"\n",
      absl::ToDoubleSeconds(spin));
}

}  // namespace

FakeOpenAiServer::Response FakeModelReply(const FakeOpenAiServer::Request& request,
                                          const FakeModelOptions& options) {
  const std::string code = absl::StrContains(request.body, kCpuHeavyMarker)
                               ? CpuHeavyCode(options.spin)
                               : std::string(kSimpleCode);
  const std::string reply = absl::StrCat("```python\n", code, "```\n");
  // The client writes JSON without spaces (rapidjson's Writer).
  FakeOpenAiServer::Response response = absl::StrContains(request.body, "\"stream\":true")
                                            ? FakeOpenAiServer::Stream({reply})
                                            : FakeOpenAiServer::Completion(reply);
  response.delay = options.delay;
  return response;
}

}  // namespace vet::testing
