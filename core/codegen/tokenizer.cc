// The planner's tokenizer: a hand-written scanner, because the rules are few
// and each needs a reason (ISO dates, possessives, "%").
#include "core/codegen/tokenizer.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_replace.h"

namespace vet::codegen {
namespace {

bool IsWordByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || u >= 0x80;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "2025-03-04" at s[i], not followed by more of a word.
bool IsoDateAt(absl::string_view s, size_t i) {
  if (i + 10 > s.size()) return false;
  for (size_t k = 0; k < 10; ++k) {
    const char c = s[i + k];
    if (k == 4 || k == 7) {
      if (c != '-') return false;
    } else if (!IsDigit(c)) {
      return false;
    }
  }
  return i + 10 == s.size() || !IsWordByte(s[i + 10]);
}

std::string Normalise(std::string lower) {
  // Small number words appear in "last three months", "top ten services";
  // period abbreviations in "last qtr", "last yr's revenue".
  static const std::pair<const char*, const char*> kReplacements[] = {
      {"one", "1"},
      {"two", "2"},
      {"three", "3"},
      {"four", "4"},
      {"five", "5"},
      {"six", "6"},
      {"seven", "7"},
      {"eight", "8"},
      {"nine", "9"},
      {"ten", "10"},
      {"eleven", "11"},
      {"twelve", "12"},
      {"fifteen", "15"},
      {"twenty", "20"},
      {"thirty", "30"},
      {"avg", "average"},
      // The abbreviations managers write for periods.
      {"qtr", "quarter"},
      {"qtrs", "quarters"},
      {"yr", "year"},
      {"yrs", "years"},
      {"mth", "month"},
      {"mths", "months"},
      {"wk", "week"},
      {"wks", "weeks"},
  };
  for (const auto& [from, to] : kReplacements) {
    if (lower == from) return to;
  }
  return lower;
}

}  // namespace

std::vector<Word> Tokenize(absl::string_view question) {
  // Typographic apostrophes become ASCII ones so "what’s" reads as "what's".
  const std::string s = absl::StrReplaceAll(question, {{"\xE2\x80\x99", "'"}});
  std::vector<Word> words;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (IsDigit(c) && IsoDateAt(s, i)) {
      words.push_back({s.substr(i, 10), s.substr(i, 10)});
      i += 10;
      continue;
    }
    if (c == '%') {
      words.push_back({"percent", "%"});
      ++i;
      continue;
    }
    if (c == '&') {
      words.push_back({"and", "&"});
      ++i;
      continue;
    }
    if (!IsWordByte(c)) {
      ++i;
      continue;
    }
    std::string original;
    while (i < s.size()) {
      if (IsWordByte(s[i])) {
        original.push_back(s[i]);
        ++i;
      } else if (s[i] == '\'' && i + 1 < s.size() && IsWordByte(s[i + 1])) {
        // A possessive or "is" ("vet's", "what's") adds nothing the planner
        // reads; other apostrophes join the word ("O'Neil" -> "ONeil").
        const bool possessive =
            (s[i + 1] == 's' || s[i + 1] == 'S') && (i + 2 == s.size() || !IsWordByte(s[i + 2]));
        if (possessive) {
          i += 2;
          break;
        }
        original.push_back('\'');
        ++i;
      } else {
        break;
      }
    }
    std::string text = absl::AsciiStrToLower(original);
    text.erase(std::remove(text.begin(), text.end(), '\''), text.end());
    words.push_back({Normalise(std::move(text)), std::move(original)});
  }
  return words;
}

std::vector<std::string> WordTexts(const std::vector<Word>& words) {
  std::vector<std::string> texts;
  texts.reserve(words.size());
  for (const Word& w : words) texts.push_back(w.text);
  return texts;
}

}  // namespace vet::codegen
