// PersonalDataShield: an index of the values by their lower-case words, a
// phone index by trailing digits, and a small Python lexer so that code is
// hidden and revealed only where values can be (literals and comments).
#include "core/codegen/personal_data_shield.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "core/codegen/semantic_layer.h"
#include "core/data/schema.h"

namespace vet::codegen {
namespace {

constexpr size_t kMinInsideLength = 5;  // a value found inside any word
constexpr size_t kMinPhoneDigits = 7;

bool IsWordByte(unsigned char c) { return absl::ascii_isalnum(c) || c >= 0x80; }

struct Word {
  size_t begin = 0;
  size_t end = 0;
  std::string lower;
};

std::vector<Word> Words(absl::string_view text) {
  std::vector<Word> words;
  size_t i = 0;
  while (i < text.size()) {
    if (!IsWordByte(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && IsWordByte(static_cast<unsigned char>(text[j]))) ++j;
    words.push_back({i, j, absl::AsciiStrToLower(text.substr(i, j - i))});
    i = j;
  }
  return words;
}

std::vector<std::string> LowerWords(absl::string_view text) {
  std::vector<std::string> out;
  for (Word& w : Words(text)) out.push_back(std::move(w.lower));
  return out;
}

bool AllDigits(absl::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return absl::ascii_isdigit(c); });
}

// The words the product's own language uses (see the header).
const absl::flat_hash_set<std::string>& CommonWords() {
  static const auto* const kWords = [] {
    auto* words = new absl::flat_hash_set<std::string>();
    auto add = [&](absl::string_view phrase) {
      for (std::string& w : LowerWords(phrase)) words->insert(std::move(w));
    };
    for (const char* w :
         {"january", "february",  "march",   "april",     "may",      "june",      "july",
          "august",  "september", "october", "november",  "december", "jan",       "feb",
          "mar",     "apr",       "jun",     "jul",       "aug",      "sep",       "sept",
          "oct",     "nov",       "dec",     "monday",    "tuesday",  "wednesday", "thursday",
          "friday",  "saturday",  "sunday",  "mon",       "tue",      "tues",      "wed",
          "thu",     "thur",      "thurs",   "fri",       "sat",      "sun",       "day",
          "days",    "week",      "weeks",   "month",     "months",   "quarter",   "quarters",
          "year",    "years",     "today",   "yesterday", "tomorrow", "last",      "next",
          "this",    "ago",       "since",   "max",       "maximum",  "min",       "minimum",
          "mean",    "median",    "average", "avg",       "sum",      "total",     "count",
          "number",  "top",       "bottom",  "most",      "least",    "best",      "worst",
          "highest", "lowest",    "per",     "vs",        "versus",   "and",       "or",
          "the",     "of",        "in",      "on",        "by",       "for",       "all",
          "each",    "every",     "what",    "which",     "who",      "how",       "many",
          "much",    "price",     "bill",    "billed",    "cost",     "rate",      "share",
          "trend",   "new",       "active",  "lapsed"}) {
      words->insert(w);
    }
    for (const data::TableSpec& table : data::CanonicalSchema()) {
      add(table.name);
      for (const data::ColumnSpec& column : table.columns) {
        add(column.name);
        for (const std::string& v : column.allowed_values) add(v);
      }
    }
    for (const Metric& m : Metrics()) {
      add(m.id);
      add(m.display);
      for (const std::string& s : m.synonyms) add(s);
    }
    for (const Attribute& a : Attributes()) {
      add(a.id);
      add(a.display);
      for (const std::string& s : a.synonyms) add(s);
      for (const std::string& v : a.values) add(v);
    }
    for (const TimeGrain& g : TimeGrains()) {
      add(g.id);
      for (const std::string& s : g.synonyms) add(s);
    }
    for (const FilterWord& f : FilterWords()) {
      for (const std::string& p : f.phrases) add(p);
    }
    for (const Cue& c : Cues()) {
      for (const std::string& p : c.phrases) add(p);
    }
    return words;
  }();
  return *kWords;
}

bool IsCommonWord(absl::string_view lower) {
  if (AllDigits(lower)) return lower.size() < 5;
  return CommonWords().contains(lower);
}

// Between two words of one value as written: a few separators on one line.
bool JoinsWords(absl::string_view text, const Word& a, const Word& b) {
  if (b.begin - a.end > 3) return false;
  return text.substr(a.end, b.begin - a.end).find('\n') == absl::string_view::npos;
}

// A piece of Python source.
struct Segment {
  enum Kind { kCode, kString, kComment } kind = kCode;
  size_t begin = 0;  // of the content (inside the quotes for a string)
  size_t end = 0;
  bool raw = false;
  bool format = false;
};

bool IsStringPrefix(absl::string_view id) {
  if (id.size() > 2) return false;
  std::string lower = absl::AsciiStrToLower(id);
  return lower == "r" || lower == "b" || lower == "u" || lower == "f" || lower == "rb" ||
         lower == "br" || lower == "fr" || lower == "rf";
}

// Splits Python source into code, string literal contents and comments. Not
// a full tokenizer: enough to tell where a value can be. An unterminated
// literal runs to the end of its line (or of the source, for a triple quote).
std::vector<Segment> Segments(absl::string_view code) {
  std::vector<Segment> out;
  size_t code_start = 0;
  size_t i = 0;
  auto flush_code = [&](size_t end) {
    if (end > code_start) out.push_back({Segment::kCode, code_start, end});
  };
  while (i < code.size()) {
    const char c = code[i];
    if (c == '#') {
      flush_code(i);
      size_t end = code.find('\n', i);
      if (end == absl::string_view::npos) end = code.size();
      out.push_back({Segment::kComment, i + 1, end});
      code_start = i = end;
      continue;
    }
    size_t quote_at = absl::string_view::npos;
    bool raw = false;
    bool format = false;
    if (absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < code.size() &&
             (absl::ascii_isalnum(static_cast<unsigned char>(code[j])) || code[j] == '_')) {
        ++j;
      }
      absl::string_view id = code.substr(i, j - i);
      if (j < code.size() && (code[j] == '"' || code[j] == '\'') && IsStringPrefix(id)) {
        quote_at = j;
        const std::string lower = absl::AsciiStrToLower(id);
        raw = lower.find('r') != std::string::npos;
        format = lower.find('f') != std::string::npos;
      } else {
        i = j;
        continue;
      }
    } else if (c == '"' || c == '\'') {
      quote_at = i;
    } else {
      ++i;
      continue;
    }
    flush_code(i);
    const char q = code[quote_at];
    const bool triple = code.substr(quote_at, 3) == std::string(3, q);
    const size_t content = quote_at + (triple ? 3 : 1);
    size_t j = content;
    size_t content_end = code.size();
    size_t after = code.size();
    while (j < code.size()) {
      if (code[j] == '\\') {
        j += 2;
        continue;
      }
      if (!triple && code[j] == '\n') {
        content_end = after = j;
        break;
      }
      if (code[j] == q && (!triple || code.substr(j, 3) == std::string(3, q))) {
        content_end = j;
        after = j + (triple ? 3 : 1);
        break;
      }
      ++j;
    }
    content_end = std::min(content_end, code.size());
    after = std::min(after, code.size());
    out.push_back({Segment::kString, content, content_end, raw, format});
    code_start = i = after;
  }
  flush_code(code.size());
  return out;
}

std::string EscapeForLiteral(absl::string_view value, bool raw, bool format) {
  std::string out;
  for (char c : value) {
    if (format && (c == '{' || c == '}')) {
      out.append(2, c);
    } else if (raw) {
      out.push_back(c == '\n' ? ' ' : c);
    } else if (c == '\\' || c == '\'' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '\r') {
      out.append("\\r");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

PersonalDataShield::PersonalDataShield(const std::vector<data::PersonalColumn>& columns) {
  for (const data::PersonalColumn& column : columns) {
    const int label = static_cast<int>(labels_.size());
    labels_.push_back(absl::StrCat(absl::StripSuffix(column.table, "s"), "_", column.column));
    for (const std::string& value : column.values) {
      IndexValue(value, label, column.column == "email", column.column == "phone");
    }
  }
}

int PersonalDataShield::AddEntry(absl::string_view value, int label) {
  std::string key = absl::StrJoin(LowerWords(value), " ");
  auto [it, added] = entry_by_value_.emplace(std::move(key), static_cast<int>(entries_.size()));
  if (added) entries_.push_back({std::string(value), label});
  return it->second;
}

void PersonalDataShield::IndexValue(absl::string_view value, int label, bool email, bool phone) {
  value = absl::StripAsciiWhitespace(value);
  std::vector<std::string> words = LowerWords(value);
  if (words.empty() || value.size() < 2) return;
  if (phone) {
    std::string digits;
    for (char c : value) {
      if (absl::ascii_isdigit(static_cast<unsigned char>(c))) digits.push_back(c);
    }
    if (digits.size() >= kMinPhoneDigits) {
      const int entry = AddEntry(value, label);
      for (size_t k = kMinPhoneDigits; k <= digits.size(); ++k) {
        phone_digits_.emplace(digits.substr(digits.size() - k), entry);
      }
      longest_phone_ = std::max(longest_phone_, digits.size());
      return;
    }
  }
  if (words.size() == 1) {
    if (!IsCommonWord(words[0])) {
      const int entry = AddEntry(value, label);
      longest_word_ = std::max(longest_word_, words[0].size());
      words_.emplace(words[0], entry);
    }
  } else {
    const int entry = AddEntry(value, label);
    std::string first = words[0];
    sequences_[first].push_back({std::move(words), entry});
  }
  if (email) {
    for (std::string& w : LowerWords(value.substr(0, value.find('@')))) {
      if (w.size() < 3 || AllDigits(w) || IsCommonWord(w) || words_.contains(w)) continue;
      const int entry = AddEntry(w, label);
      longest_word_ = std::max(longest_word_, w.size());
      words_.emplace(std::move(w), entry);
    }
  }
}

void PersonalDataShield::FindPhones(absl::string_view text, std::vector<Match>& out) const {
  if (phone_digits_.empty()) return;
  size_t i = 0;
  std::string digits;
  while (i < text.size()) {
    const bool plus = text[i] == '+' && i + 1 < text.size() &&
                      absl::ascii_isdigit(static_cast<unsigned char>(text[i + 1]));
    if (!plus && !absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    const size_t start = i;
    size_t j = plus ? i + 1 : i;
    size_t digits_end = j;
    digits.clear();
    while (j < text.size()) {
      const char c = text[j];
      if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
        digits.push_back(c);
        digits_end = ++j;
      } else if (c != '\0' && std::strchr(" -.()/", c) != nullptr && j - digits_end < 2) {
        ++j;
      } else {
        break;
      }
    }
    i = std::max(digits_end, start + 1);
    if (digits.size() < kMinPhoneDigits) continue;
    for (size_t s = 0; s + kMinPhoneDigits <= digits.size(); ++s) {
      bool found = false;
      for (size_t len = std::min(longest_phone_, digits.size() - s); len >= kMinPhoneDigits;
           --len) {
        auto it = phone_digits_.find(absl::string_view(digits).substr(s, len));
        if (it != phone_digits_.end()) {
          out.push_back({start, digits_end, it->second});
          found = true;
          break;
        }
      }
      if (found) break;
    }
  }
}

void PersonalDataShield::FindInsideWord(size_t begin, absl::string_view lower,
                                        std::vector<Match>& out) const {
  const size_t n = lower.size();
  if (n < 3 || words_.empty()) return;
  // Made of values and digits alone: "oliviaashbury", "ashbury12".
  constexpr int kUnreached = -2;
  std::vector<int> from(n + 1, kUnreached);
  std::vector<int> entry_at(n + 1, -1);
  from[0] = -1;
  for (size_t p = 0; p < n; ++p) {
    if (from[p] == kUnreached) continue;
    if (absl::ascii_isdigit(static_cast<unsigned char>(lower[p]))) {
      size_t q = p;
      while (q < n && absl::ascii_isdigit(static_cast<unsigned char>(lower[q]))) ++q;
      if (from[q] == kUnreached) from[q] = static_cast<int>(p);
    }
    for (size_t len = 2; len <= std::min(longest_word_, n - p); ++len) {
      auto it = words_.find(lower.substr(p, len));
      if (it == words_.end() || from[p + len] != kUnreached) continue;
      from[p + len] = static_cast<int>(p);
      entry_at[p + len] = it->second;
    }
  }
  if (from[n] != kUnreached) {
    std::vector<Match> pieces;
    for (size_t end = n; end > 0; end = static_cast<size_t>(from[end])) {
      if (entry_at[end] >= 0) {
        pieces.push_back({begin + static_cast<size_t>(from[end]), begin + end, entry_at[end]});
      }
    }
    if (!pieces.empty()) {
      out.insert(out.end(), pieces.rbegin(), pieces.rend());
      return;
    }
  }
  // Long values anywhere inside: "xxoliviaxx".
  size_t p = 0;
  while (p + kMinInsideLength <= n) {
    bool found = false;
    for (size_t len = std::min(longest_word_, n - p); len >= kMinInsideLength; --len) {
      auto it = words_.find(lower.substr(p, len));
      if (it == words_.end()) continue;
      out.push_back({begin + p, begin + p + len, it->second});
      p += len;
      found = true;
      break;
    }
    if (!found) ++p;
  }
}

std::vector<PersonalDataShield::Match> PersonalDataShield::Find(absl::string_view text) const {
  std::vector<Match> phones;
  FindPhones(text, phones);
  std::vector<Match> out = phones;
  const std::vector<Word> words = Words(text);
  auto in_phone = [&](const Word& w) {
    return std::any_of(phones.begin(), phones.end(),
                       [&](const Match& m) { return w.begin < m.end && w.end > m.begin; });
  };
  for (size_t i = 0; i < words.size();) {
    const Word& w = words[i];
    if (in_phone(w)) {
      ++i;
      continue;
    }
    size_t best = 0;
    int best_entry = -1;
    if (auto it = sequences_.find(w.lower); it != sequences_.end()) {
      for (const Sequence& seq : it->second) {
        const size_t k = seq.words.size();
        if (k <= best || i + k > words.size()) continue;
        bool same = true;
        for (size_t j = 1; j < k && same; ++j) {
          same = words[i + j].lower == seq.words[j] &&
                 JoinsWords(text, words[i + j - 1], words[i + j]) && !in_phone(words[i + j]);
        }
        if (same) {
          best = k;
          best_entry = seq.entry;
        }
      }
    }
    if (best > 0) {
      out.push_back({w.begin, words[i + best - 1].end, best_entry});
      i += best;
      continue;
    }
    if (auto it = words_.find(w.lower); it != words_.end()) {
      out.push_back({w.begin, w.end, it->second});
    } else {
      FindInsideWord(w.begin, w.lower, out);
    }
    ++i;
  }
  std::sort(out.begin(), out.end(),
            [](const Match& a, const Match& b) { return a.begin < b.begin; });
  std::vector<Match> kept;
  for (const Match& m : out) {
    if (kept.empty() || m.begin >= kept.back().end) kept.push_back(m);
  }
  return kept;
}

std::shared_ptr<const PersonalDataShield> PersonalDataShield::For(
    const std::shared_ptr<const std::vector<data::PersonalColumn>>& values) {
  if (values == nullptr) return nullptr;
  struct Cached {
    std::weak_ptr<const std::vector<data::PersonalColumn>> values;
    std::shared_ptr<const PersonalDataShield> shield;
  };
  static absl::Mutex mu(absl::kConstInit);
  static auto* const cache =  // guarded by mu
      new std::map<const std::vector<data::PersonalColumn>*, Cached>();
  {
    absl::MutexLock lock(&mu);
    auto it = cache->find(values.get());
    if (it != cache->end() && it->second.values.lock() == values) return it->second.shield;
  }
  // Built outside the lock: two first questions may both build, harmlessly.
  auto shield = std::make_shared<const PersonalDataShield>(*values);
  absl::MutexLock lock(&mu);
  for (auto it = cache->begin(); it != cache->end();) {
    it = it->second.values.expired() ? cache->erase(it) : std::next(it);
  }
  (*cache)[values.get()] = Cached{values, shield};
  return shield;
}

PersonalDataShield::Redaction::Redaction(std::shared_ptr<const PersonalDataShield> shield)
    : shield_(std::move(shield)) {
  if (shield_ != nullptr) next_number_.assign(shield_->labels_.size(), 0);
}

const std::string& PersonalDataShield::Redaction::PlaceholderFor(int entry) {
  auto it = placeholder_of_.find(entry);
  if (it != placeholder_of_.end()) return it->second;
  const int label = shield_->entries_[static_cast<size_t>(entry)].label;
  std::string placeholder = absl::StrCat("<", shield_->labels_[static_cast<size_t>(label)], "_",
                                         ++next_number_[static_cast<size_t>(label)], ">");
  entry_of_[placeholder] = entry;
  return placeholder_of_.emplace(entry, std::move(placeholder)).first->second;
}

std::string PersonalDataShield::Redaction::Hide(absl::string_view text) {
  if (shield_ == nullptr) return std::string(text);
  std::string out;
  size_t at = 0;
  for (const Match& m : shield_->Find(text)) {
    absl::StrAppend(&out, text.substr(at, m.begin - at));
    absl::StrAppend(&out, PlaceholderFor(m.entry));
    at = m.end;
  }
  absl::StrAppend(&out, text.substr(at));
  return out;
}

std::string PersonalDataShield::Redaction::HideInCode(absl::string_view code) {
  if (shield_ == nullptr) return std::string(code);
  std::string out;
  size_t at = 0;
  for (const Segment& s : Segments(code)) {
    if (s.kind == Segment::kCode) continue;
    absl::StrAppend(&out, code.substr(at, s.begin - at));
    absl::StrAppend(&out, Hide(code.substr(s.begin, s.end - s.begin)));
    at = s.end;
  }
  absl::StrAppend(&out, code.substr(at));
  return out;
}

std::string PersonalDataShield::Redaction::Reveal(absl::string_view code) const {
  if (shield_ == nullptr || entry_of_.empty()) return std::string(code);
  std::string out;
  size_t at = 0;
  for (const Segment& s : Segments(code)) {
    absl::string_view piece = code.substr(s.begin, s.end - s.begin);
    absl::StrAppend(&out, code.substr(at, s.begin - at));
    at = s.end;
    size_t i = 0;
    while (i < piece.size()) {
      const size_t open = piece.find('<', i);
      const size_t close = open == absl::string_view::npos ? open : piece.find('>', open + 1);
      auto found = close == absl::string_view::npos
                       ? entry_of_.end()
                       : entry_of_.find(piece.substr(open, close - open + 1));
      if (found == entry_of_.end()) {
        const size_t next = open == absl::string_view::npos ? piece.size() : open + 1;
        absl::StrAppend(&out, piece.substr(i, next - i));
        i = next;
        continue;
      }
      absl::StrAppend(&out, piece.substr(i, open - i));
      const std::string& value = shield_->entries_[static_cast<size_t>(found->second)].value;
      switch (s.kind) {
        case Segment::kString:
          out.append(EscapeForLiteral(value, s.raw, s.format));
          break;
        case Segment::kComment:
          out.append(EscapeForLiteral(value, /*raw=*/true, /*format=*/false));
          break;
        case Segment::kCode:
          absl::StrAppend(&out, "\"", EscapeForLiteral(value, false, false), "\"");
          break;
      }
      i = close + 1;
    }
  }
  absl::StrAppend(&out, code.substr(at));
  return out;
}

}  // namespace vet::codegen
