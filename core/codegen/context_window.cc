#include "core/codegen/context_window.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace vet::codegen {
namespace {

constexpr char kEarlierHeader[] = "Earlier turns, one line each:\n";
constexpr char kRecentHeader[] = "Recent turns in full:\n";

std::string OneLine(absl::string_view text, size_t max_bytes) {
  std::string out;
  for (char c : text) out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  out = std::string(absl::StripAsciiWhitespace(out));
  if (out.size() > max_bytes) {
    // Cut on a UTF-8 boundary.
    size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out = out.substr(0, cut) + "...";
  }
  return out;
}

std::string FullTurn(const PriorTurn& turn) {
  std::string out = absl::StrCat("Question: ", turn.question, "\n");
  if (!turn.summary.empty()) absl::StrAppend(&out, "It computed: ", turn.summary, "\n");
  if (!turn.code.empty()) absl::StrAppend(&out, "Code:\n```python\n", turn.code, "\n```\n");
  return out;
}

}  // namespace

int64_t EstimateTokens(absl::string_view text) { return static_cast<int64_t>(text.size() + 2) / 3; }

std::string CompressTurn(const PriorTurn& turn) {
  std::string intent;
  if (!turn.summary.empty()) {
    intent = turn.summary;
  } else {
    for (absl::string_view line : absl::StrSplit(turn.code, '\n')) {
      line = absl::StripAsciiWhitespace(line);
      if (absl::ConsumePrefix(&line, "#")) {
        intent = std::string(absl::StripAsciiWhitespace(line));
        if (!intent.empty()) break;
      }
    }
    if (intent.empty() && !turn.code.empty()) {
      intent = absl::StrCat("code of ", std::count(turn.code.begin(), turn.code.end(), '\n') + 1,
                            " lines");
    }
  }
  std::string line = absl::StrCat("- ", OneLine(turn.question, 200));
  if (!intent.empty()) absl::StrAppend(&line, " -> ", OneLine(intent, 200));
  return line + "\n";
}

ContextWindow BuildContextWindow(const std::vector<PriorTurn>& history, int64_t token_budget) {
  ContextWindow window;
  if (history.empty() || token_budget <= 0) {
    window.dropped_turns = static_cast<int>(history.size());
    return window;
  }
  // Newest first: full turns while they fit in two thirds of the budget
  // (the newest may take all of it), then one-line turns in what is left,
  // so older turns are not crowded out by the full ones.
  std::vector<std::string> full, lines;
  int64_t used = 0;
  const int64_t full_budget = token_budget * 2 / 3;
  int n = static_cast<int>(history.size());
  int i = n - 1;
  for (; i >= 0; --i) {
    std::string text = FullTurn(history[i]);
    int64_t cost = EstimateTokens(text) + (full.empty() ? EstimateTokens(kRecentHeader) : 0);
    if (used + cost > (full.empty() ? token_budget : full_budget)) break;
    used += cost;
    full.push_back(std::move(text));
  }
  for (; i >= 0; --i) {
    std::string text = CompressTurn(history[i]);
    int64_t cost = EstimateTokens(text) + (lines.empty() ? EstimateTokens(kEarlierHeader) : 0);
    if (used + cost > token_budget) break;
    used += cost;
    lines.push_back(std::move(text));
  }
  window.dropped_turns = i + 1;
  window.full_turns = static_cast<int>(full.size());
  window.compressed_turns = static_cast<int>(lines.size());
  if (!lines.empty()) {
    window.text += kEarlierHeader;
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) window.text += *it;
  }
  if (!full.empty()) {
    if (!window.text.empty()) window.text += "\n";
    window.text += kRecentHeader;
    for (auto it = full.rbegin(); it != full.rend(); ++it) window.text += *it;
  }
  window.tokens = EstimateTokens(window.text);
  return window;
}

}  // namespace vet::codegen
