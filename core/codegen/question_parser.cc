// The question parser. Two passes: a scan that accounts for every word with
// the longest match among the grammars (period, comparison, top-N, "Dr. X")
// and the lexicon built from the semantic layer; then a resolution that turns
// the mentions into one consistent plan, or declines with the reason.
#include "core/codegen/question_parser.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/codegen/tokenizer.h"
#include "core/common/status_macros.h"

namespace vet::codegen {
namespace {

// ---------------------------------------------------------------------------
// The lexicon: every declared phrase of the semantic layer, as words.

enum class TermKind { kMetric, kDimension, kFilter, kCue };

struct Term {
  std::vector<std::string> words;
  TermKind kind = TermKind::kCue;
  std::string metric;                    // kMetric
  std::vector<std::string> dimensions;   // kDimension: candidates, first applicable wins
  std::vector<FilterClause> candidates;  // kFilter: likewise
  std::string implied_metric;            // kFilter, kCue
  CueKind cue = CueKind::kStop;          // kCue
  int count = 0;                         // kCue ranks
  bool upcoming = false;                 // kFilter: names the days ahead
  std::string reason;                    // kCue kUnsupported
};

struct Lexicon {
  std::vector<Term> terms;
  // Every word of every phrase and of the grammars: never part of a name.
  std::set<std::string> vocabulary;
  std::vector<std::string> ambiguous;
};

bool SameClause(const FilterClause& a, const FilterClause& b) {
  return a.attribute == b.attribute && a.values == b.values;
}

Lexicon BuildLexicon() {
  Lexicon lex;
  std::map<std::string, size_t> by_phrase;
  auto add = [&lex, &by_phrase](const std::string& phrase, Term term) {
    term.words = WordTexts(Tokenize(phrase));
    if (term.words.empty()) return;
    lex.vocabulary.insert(term.words.begin(), term.words.end());
    const std::string key = absl::StrJoin(term.words, " ");
    auto it = by_phrase.find(key);
    if (it == by_phrase.end()) {
      by_phrase[key] = lex.terms.size();
      lex.terms.push_back(std::move(term));
      return;
    }
    // The same phrase declared twice: fine when it means the same kind of
    // thing (its candidates merge, in declaration order), an error otherwise.
    Term& old = lex.terms[it->second];
    const bool same = old.kind == term.kind && old.metric == term.metric && old.cue == term.cue &&
                      old.count == term.count && old.upcoming == term.upcoming &&
                      (old.implied_metric == term.implied_metric || term.implied_metric.empty());
    if (!same) {
      lex.ambiguous.push_back(key);
      return;
    }
    for (std::string& d : term.dimensions) {
      if (std::find(old.dimensions.begin(), old.dimensions.end(), d) == old.dimensions.end()) {
        old.dimensions.push_back(std::move(d));
      }
    }
    for (FilterClause& c : term.candidates) {
      auto same_clause = [&c](const FilterClause& o) { return SameClause(o, c); };
      if (std::none_of(old.candidates.begin(), old.candidates.end(), same_clause)) {
        old.candidates.push_back(std::move(c));
      }
    }
  };
  for (const Metric& m : Metrics()) {
    for (const std::string& s : m.synonyms) {
      Term t;
      t.kind = TermKind::kMetric;
      t.metric = m.id;
      add(s, std::move(t));
    }
  }
  for (const Attribute& a : Attributes()) {
    for (const std::string& s : a.synonyms) {
      Term t;
      t.kind = TermKind::kDimension;
      t.dimensions = {a.id};
      add(s, std::move(t));
    }
  }
  for (const TimeGrain& g : TimeGrains()) {
    for (const std::string& s : g.synonyms) {
      Term t;
      t.kind = TermKind::kDimension;
      t.dimensions = {g.id};
      add(s, std::move(t));
    }
  }
  for (const FilterWord& f : FilterWords()) {
    for (const std::string& s : f.phrases) {
      Term t;
      t.kind = TermKind::kFilter;
      t.candidates = f.candidates;
      t.implied_metric = f.implied_metric;
      t.upcoming = f.upcoming;
      add(s, std::move(t));
    }
  }
  for (const Cue& c : Cues()) {
    for (const std::string& s : c.phrases) {
      Term t;
      t.kind = TermKind::kCue;
      t.cue = c.kind;
      t.implied_metric = c.implied_metric;
      t.count = c.count;
      t.reason = c.reason;
      add(s, std::move(t));
    }
  }
  // Words the grammars use; a name after "Dr." is none of these.
  for (const char* w :
       {"last",  "this",      "previous", "prior",    "preceding", "past",  "since",    "between",
        "today", "yesterday", "ytd",      "mtd",      "qtd",       "top",   "bottom",   "best",
        "worst", "compared",  "vs",       "versus",   "against",   "than",  "relative", "comparing",
        "days",  "weeks",     "months",   "quarters", "years",     "until", "till",     "through",
        "thru",  "ago",       "before",   "earlier"}) {
    lex.vocabulary.insert(w);
  }
  return lex;
}

const Lexicon& GetLexicon() {
  static const auto* lexicon = new Lexicon(BuildLexicon());
  return *lexicon;
}

// A question word matches a declared word as written or as its plural
// ("dogs", "surgeries"), so the tables declare singulars only.
bool WordMatches(const std::string& token, const std::string& declared) {
  if (token == declared) return true;
  if (declared.size() < 3 || token.size() <= declared.size()) return false;
  if (token == declared + "s" || token == declared + "es") return true;
  return declared.back() == 'y' &&
         token == absl::StrCat(declared.substr(0, declared.size() - 1), "ies");
}

// The longest lexicon phrase at words[pos]; ties go to the earliest declared.
const Term* MatchTerm(const std::vector<std::string>& words, size_t pos) {
  const Term* best = nullptr;
  for (const Term& t : GetLexicon().terms) {
    if (pos + t.words.size() > words.size()) continue;
    if (best != nullptr && t.words.size() <= best->words.size()) continue;
    bool all = true;
    for (size_t k = 0; k < t.words.size() && all; ++k) {
      all = WordMatches(words[pos + k], t.words[k]);
    }
    if (all) best = &t;
  }
  return best;
}

bool IsOneOf(absl::string_view w, std::initializer_list<absl::string_view> options) {
  return std::find(options.begin(), options.end(), w) != options.end();
}

absl::optional<int> SmallCount(absl::string_view w) {
  int n = 0;
  if (w.empty() || w.size() > 4 || !absl::SimpleAtoi(w, &n) || n < 1) return absl::nullopt;
  for (char c : w) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return absl::nullopt;
  }
  return n;
}

// ---------------------------------------------------------------------------
// The mentions a scan finds.

struct Mention {
  std::string phrase;  // as the question wrote it
  const Term* term = nullptr;
  // A dimension after "by", "per", "each" or "across": asked as a breakdown.
  bool explicit_breakdown = false;
};

struct CompareMention {
  bool present = false;
  enum class Target { kNone, kSamePeriodLastYear, kPreviousPeriod, kPeriod } target = Target::kNone;
  Period period;
};

// "the quarter before", "before that", "a year earlier": a follow-up's period,
// stepped back from the previous turn's.
struct ShiftMention {
  bool present = false;
  // The unit stepped back by; kCustom for "the period before", "before
  // that": the previous turn's own unit.
  PeriodGrain step = PeriodGrain::kCustom;
  std::string phrase;  // as the question wrote it
};

struct RankMention {
  bool present = false;
  bool ascending = false;
  int count = 0;
  bool conflicting = false;
};

struct Mentions {
  std::vector<Mention> metrics;
  std::vector<Mention> dimensions;
  std::vector<Mention> filters;
  std::vector<std::string> implied_by_filters, implied_by_ranks, implied_by_hints;
  // Why a word of the question cannot be honoured (the first such word).
  std::string unsupported;
  // Times the question asks "how much" or "how many".
  int how_much_asked = 0;
  bool trend = false;
  bool share = false;     // "share", "percentage"
  bool upcoming = false;  // "upcoming": periods holds the days ahead
  bool overall = false;   // "and overall?": drop the breakdown
  bool all_rows = false;  // "all animals": drop the filters
  std::vector<Period> periods;
  ShiftMention shift;
  CompareMention compare;
  RankMention rank;
  std::vector<std::string> staff_names;
  std::vector<std::string> unknown;

  bool AnythingBesidesMetric() const {
    return !dimensions.empty() || !filters.empty() || trend || share || !periods.empty() ||
           compare.present || rank.present || !staff_names.empty() || overall || all_rows ||
           shift.present;
  }
};

void AddRank(RankMention& rank, bool ascending, int count) {
  if (rank.present && rank.ascending != ascending) rank.conflicting = true;
  rank.present = true;
  rank.ascending = ascending;
  rank.count = std::max(rank.count, count);
}

std::string Phrase(const std::vector<Word>& words, size_t pos, size_t n) {
  std::vector<std::string> parts;
  for (size_t k = pos; k < pos + n && k < words.size(); ++k) parts.push_back(words[k].original);
  return absl::StrJoin(parts, " ");
}

// "compared to|with last year", "vs the previous period", "vs 2024"; after a
// growth word also "from|over|on last year".
absl::StatusOr<size_t> MatchComparison(const std::vector<std::string>& w, size_t pos,
                                       absl::CivilDay as_of, CompareMention* out) {
  const bool cue = IsOneOf(w[pos], {"compared", "compare", "comparing", "vs", "versus", "against",
                                    "than", "relative"}) ||
                   (IsOneOf(w[pos], {"from", "over", "on"}) && pos > 0 &&
                    IsOneOf(w[pos - 1], {"growth", "grow", "grew", "change", "changed", "increase",
                                         "increased", "decrease", "decreased", "difference"}));
  if (!cue) return 0;
  size_t i = pos + 1;
  while (i < w.size() && IsOneOf(w[i], {"to", "with", "the", "a"})) ++i;
  auto sequence = [&w, &i](std::initializer_list<absl::string_view> seq) {
    size_t k = i;
    for (absl::string_view s : seq) {
      if (k >= w.size() || w[k] != s) return size_t{0};
      ++k;
    }
    return seq.size();
  };
  CompareMention m;
  m.present = true;
  size_t n = 0;
  if ((n = sequence({"same", "period", "last", "year"})) ||
      (n = sequence({"same", "time", "last", "year"})) ||
      (n = sequence({"same", "period", "a", "year", "ago"})) ||
      (n = sequence({"year", "before"}))) {
    m.target = CompareMention::Target::kSamePeriodLastYear;
  } else if ((n = sequence({"previous", "period"})) || (n = sequence({"prior", "period"})) ||
             (n = sequence({"preceding", "period"})) || (n = sequence({"last", "period"})) ||
             (n = sequence({"period", "before"})) || (n = sequence({"month", "before"})) ||
             (n = sequence({"quarter", "before"})) || (n = sequence({"week", "before"})) ||
             (n = sequence({"day", "before"}))) {
    m.target = CompareMention::Target::kPreviousPeriod;
  } else {
    absl::StatusOr<absl::optional<PeriodMatch>> p = MatchPeriod(w, i, as_of);
    if (!p.ok()) return p.status();
    if (!p->has_value()) return 0;
    m.target = CompareMention::Target::kPeriod;
    m.period = (*p)->period;
    n = (*p)->consumed;
  }
  *out = std::move(m);
  return i + n - pos;
}

// "the quarter before", "the year before", "the period before", "the one
// before", "before that", "a year earlier". A comparison ("compared to the
// month before") starts earlier and is matched as one.
size_t MatchShift(const std::vector<std::string>& w, size_t pos, ShiftMention* out) {
  auto unit = [](absl::string_view word) -> absl::optional<PeriodGrain> {
    if (word == "day") return PeriodGrain::kDay;
    if (word == "week") return PeriodGrain::kWeek;
    if (word == "month") return PeriodGrain::kMonth;
    if (word == "quarter") return PeriodGrain::kQuarter;
    if (word == "year") return PeriodGrain::kYear;
    if (word == "period" || word == "one") return PeriodGrain::kCustom;
    return absl::nullopt;
  };
  if (w[pos] == "before" && pos + 1 < w.size() && w[pos + 1] == "that") {
    out->present = true;
    out->step = PeriodGrain::kCustom;
    return 2;
  }
  if (pos + 1 >= w.size() || !IsOneOf(w[pos + 1], {"before", "earlier"})) return 0;
  const absl::optional<PeriodGrain> step = unit(w[pos]);
  if (!step) return 0;
  out->present = true;
  out->step = *step;
  return 2;
}

// "top 5", "bottom 3", "best 10".
size_t MatchTopN(const std::vector<std::string>& w, size_t pos, RankMention* out) {
  if (!IsOneOf(w[pos], {"top", "bottom", "best", "worst"}) || pos + 1 >= w.size()) return 0;
  absl::optional<int> n = SmallCount(w[pos + 1]);
  if (!n || *n > 1000) return 0;
  out->present = true;
  out->ascending = IsOneOf(w[pos], {"bottom", "worst"});
  out->count = *n;
  return 2;
}

bool IsNameWord(absl::string_view original) {
  if (original.empty() || original.size() > 40) return false;
  for (char c : original) {
    if (!absl::ascii_isalpha(static_cast<unsigned char>(c)) && c != '\'') return false;
  }
  return true;
}

// "Dr. Smith", "Doctor Jane Smith": up to three words that are not the
// planner's own vocabulary.
size_t MatchStaffName(const std::vector<Word>& words, const std::vector<std::string>& texts,
                      size_t pos, absl::CivilDay as_of, std::string* name) {
  if (!IsOneOf(texts[pos], {"dr", "doctor"})) return 0;
  const Lexicon& lex = GetLexicon();
  std::vector<std::string> parts;
  size_t i = pos + 1;
  while (i < words.size() && parts.size() < 3) {
    if (!IsNameWord(words[i].original) || lex.vocabulary.count(texts[i]) > 0) break;
    absl::StatusOr<absl::optional<PeriodMatch>> p = MatchPeriod(texts, i, as_of);
    if (!p.ok() || p->has_value()) break;
    parts.push_back(words[i].original);
    ++i;
  }
  if (parts.empty()) return 0;
  *name = absl::StrJoin(parts, " ");
  return i - pos;
}

absl::StatusOr<Mentions> Scan(absl::string_view question, absl::CivilDay as_of) {
  const std::vector<Word> words = Tokenize(question);
  const std::vector<std::string> texts = WordTexts(words);
  Mentions found;
  size_t i = 0;
  // "How much from dogs, and how much from cats?" asks for one figure each.
  for (size_t k = 0; k + 1 < texts.size(); ++k) {
    if (texts[k] == "how" && (texts[k + 1] == "much" || texts[k + 1] == "many")) {
      ++found.how_much_asked;
    }
  }
  while (i < texts.size()) {
    // Each grammar proposes a match; the longest wins, ties in this order.
    CompareMention compare;
    absl::StatusOr<size_t> compare_len = MatchComparison(texts, i, as_of, &compare);
    if (!compare_len.ok()) return compare_len.status();
    absl::StatusOr<absl::optional<PeriodMatch>> period = MatchPeriod(texts, i, as_of);
    if (!period.ok()) return period.status();
    const size_t period_len = period->has_value() ? (*period)->consumed : 0;
    RankMention top;
    const size_t top_len = MatchTopN(texts, i, &top);
    std::string name;
    const size_t name_len = MatchStaffName(words, texts, i, as_of, &name);
    ShiftMention shift;
    const size_t shift_len = MatchShift(texts, i, &shift);
    const Term* term = MatchTerm(texts, i);
    const size_t term_len = term != nullptr ? term->words.size() : 0;

    const size_t best =
        std::max({*compare_len, period_len, top_len, name_len, shift_len, term_len});
    if (best == 0) {
      if (std::find(found.unknown.begin(), found.unknown.end(), words[i].original) ==
          found.unknown.end()) {
        found.unknown.push_back(words[i].original);
      }
      ++i;
      continue;
    }
    if (*compare_len == best) {
      if (found.compare.present && found.compare.target != CompareMention::Target::kNone) {
        return absl::InvalidArgumentError("the question makes more than one comparison");
      }
      found.compare = std::move(compare);
    } else if (period_len == best) {
      found.periods.push_back(std::move((*period)->period));
    } else if (top_len == best) {
      AddRank(found.rank, top.ascending, top.count);
    } else if (name_len == best) {
      found.staff_names.push_back(std::move(name));
    } else if (shift_len == best) {
      if (found.shift.present) {
        return absl::InvalidArgumentError("the question steps back from the previous period twice");
      }
      found.shift = std::move(shift);
      found.shift.phrase = Phrase(words, i, best);
    } else {
      const std::string phrase = Phrase(words, i, best);
      switch (term->kind) {
        case TermKind::kMetric:
          found.metrics.push_back({phrase, term});
          break;
        case TermKind::kDimension: {
          Mention mention{phrase, term};
          // "by species", "per vet", "for each category", "across vets".
          const std::string before = i > 0 ? texts[i - 1] : "";
          mention.explicit_breakdown =
              before == "by" || before == "per" || before == "each" || before == "across";
          found.dimensions.push_back(std::move(mention));
          break;
        }
        case TermKind::kFilter:
          found.filters.push_back({phrase, term});
          if (!term->implied_metric.empty()) {
            found.implied_by_filters.push_back(term->implied_metric);
          }
          if (term->upcoming && !found.upcoming) {
            found.upcoming = true;
            found.periods.push_back(Upcoming(as_of));
          }
          break;
        case TermKind::kCue:
          switch (term->cue) {
            case CueKind::kStop:
              break;
            case CueKind::kTrend:
              found.trend = true;
              break;
            case CueKind::kRankHighest:
            case CueKind::kRankLowest:
              AddRank(found.rank, term->cue == CueKind::kRankLowest, term->count);
              if (!term->implied_metric.empty()) {
                found.implied_by_ranks.push_back(term->implied_metric);
              }
              break;
            case CueKind::kCompare:
              found.compare.present = true;
              break;
            case CueKind::kHint:
              found.implied_by_hints.push_back(term->implied_metric);
              break;
            case CueKind::kShare:
              found.share = true;
              break;
            case CueKind::kUnsupported:
              if (found.unsupported.empty()) found.unsupported = term->reason;
              break;
            case CueKind::kOverall:
              found.overall = true;
              break;
            case CueKind::kAllRows:
              found.all_rows = true;
              break;
          }
          break;
      }
    }
    i += best;
  }
  return found;
}

// ---------------------------------------------------------------------------
// Resolution.

std::string Examples() {
  std::vector<std::string> quoted;
  for (const std::string& q : ExampleQuestions()) quoted.push_back(absl::StrCat("\"", q, "\""));
  return absl::StrCat("The planner answers questions such as ", absl::StrJoin(quoted, ", "), ".");
}

absl::Status Decline(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(why, " ", Examples()));
}

std::string Lower(absl::string_view s) { return absl::AsciiStrToLower(s); }

std::string MetricList() {
  std::vector<std::string> names;
  for (const Metric& m : Metrics()) names.push_back(Lower(m.display));
  return absl::StrJoin(names, ", ");
}

// The first candidate whose attribute applies to the metric's table.
const FilterClause* ResolveFilter(const Metric& metric, const Term& term) {
  for (const FilterClause& c : term.candidates) {
    if (AttributeApplies(metric, c.attribute)) return &c;
  }
  return nullptr;
}

void MergeFilter(std::vector<FilterClause>& filters, const FilterClause& clause) {
  for (FilterClause& f : filters) {
    if (f.attribute != clause.attribute) continue;
    for (const std::string& v : clause.values) {
      if (std::find(f.values.begin(), f.values.end(), v) == f.values.end()) f.values.push_back(v);
    }
    return;
  }
  filters.push_back(clause);
}

bool IsTimeGrain(absl::string_view dimension) { return FindTimeGrain(dimension) != nullptr; }

// The breakdown a trend gets: finer for short periods so a chart has points.
std::string TrendGrain(const Period& p) {
  if (p.days() <= 7) return "day";
  if (p.days() <= 42) return "week";
  return "month";
}

// The period when the question names none: a trend looks back a year, a
// single number or a category breakdown covers this year so far.
Period DefaultPeriod(absl::string_view dimension, bool trend, absl::CivilDay as_of) {
  if (dimension == "day") return LastThirtyDays(as_of);
  if (dimension == "week") return LastTwelveWeeks(as_of);
  if (dimension == "month" || dimension == "quarter" || trend) return LastTwelveMonths(as_of);
  if (dimension == "year") return LastFiveYears(as_of);
  return ThisYear(as_of);
}

// What "compared to <other>" means next to `main`: "last year" is the same
// days a year earlier ("this year vs last year" compares like with like);
// "last month" next to "this month" is the previous period, and so is "the
// previous quarter" next to "last quarter" (named alone, both would be the
// same quarter); anything else is the period as named.
std::pair<Comparison, Period> ResolveComparedTo(const Period& main, const Period& other) {
  if (other.form == PeriodForm::kPrevious && other.grain == PeriodGrain::kYear) {
    return {Comparison::kSamePeriodLastYear, SamePeriodLastYear(main)};
  }
  if (other.form == PeriodForm::kPrevious && other.grain == main.grain &&
      main.form == PeriodForm::kCurrent) {
    return {Comparison::kPreviousPeriod, PreviousPeriod(main)};
  }
  if (other.form == PeriodForm::kPrevious && main.form == PeriodForm::kPrevious &&
      other.grain == main.grain && other.start == main.start && other.end == main.end) {
    return {Comparison::kPreviousPeriod, PreviousPeriod(main)};
  }
  return {Comparison::kExplicit, other};
}

// Whether the filters keep only rows that lie after the as-of day (scheduled
// appointments).
bool OnlyFutureRows(const std::vector<FilterClause>& filters) {
  for (const FilterClause& f : filters) {
    const std::vector<std::string>& future = FindAttribute(f.attribute)->future_values;
    if (!future.empty() &&
        std::all_of(f.values.begin(), f.values.end(), [&future](const std::string& v) {
          return std::find(future.begin(), future.end(), v) != future.end();
        })) {
      return true;
    }
  }
  return false;
}

// Whether `p` starts where a unit of `grain` starts.
bool AlignedTo(const Period& p, PeriodGrain grain) {
  switch (grain) {
    case PeriodGrain::kDay:
      return p.days() == 1;
    case PeriodGrain::kWeek:
      return StartOfWeek(p.start) == p.start;
    case PeriodGrain::kMonth:
      return p.start.day() == 1;
    case PeriodGrain::kQuarter:
      return StartOfQuarter(p.start) == p.start;
    case PeriodGrain::kYear:
      return p.start.day() == 1 && p.start.month() == 1;
    case PeriodGrain::kCustom:
      break;
  }
  return false;
}

// The whole calendar unit of `grain` (not kCustom) that starts on `start`,
// named as a period phrase would name it ("in March 2026", "in Q2 2026").
Period WholeUnit(absl::CivilDay start, PeriodGrain grain) {
  static constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                            "May",       "June",     "July",     "August",
                                            "September", "October",  "November", "December"};
  Period p;
  p.start = start;
  p.end = start;
  p.grain = grain;
  p.form = PeriodForm::kNamed;
  p.phrase = absl::StrCat("on ", FormatDay(start));
  switch (grain) {
    case PeriodGrain::kWeek:
      p.end = start + 6;
      p.phrase = absl::StrCat("in the week of ", FormatDay(start));
      break;
    case PeriodGrain::kMonth:
      p.end = LastDayOfMonth(start);
      p.phrase = absl::StrCat("in ", kMonths[start.month() - 1], " ", start.year());
      break;
    case PeriodGrain::kQuarter:
      p.end = LastDayOfMonth(AddMonths(start, 2));
      p.phrase = absl::StrCat("in Q", (start.month() - 1) / 3 + 1, " ", start.year());
      break;
    case PeriodGrain::kYear:
      p.end = absl::CivilDay(start.year(), 12, 31);
      p.phrase = absl::StrCat("in ", start.year());
      break;
    case PeriodGrain::kDay:
    case PeriodGrain::kCustom:
      break;
  }
  return p;
}

// "the quarter before", "the year before" a follow-up's previous period. A
// calendar unit steps back to the whole unit before it ("this month" so far
// -> all of last month), the same unit a year earlier for "the year before"
// ("Q3 2025" -> "Q3 2024"); any other period to the same number of days
// before it, or the same days a year earlier.
absl::StatusOr<Period> StepBack(const Period& p, const ShiftMention& shift) {
  if (p.form == PeriodForm::kAllTime) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", shift.phrase,
                     "\" steps back from the previous answer's period, but it "
                     "covers all the data; name the period instead."));
  }
  const PeriodGrain unit = p.grain;
  const bool calendar = unit != PeriodGrain::kCustom && AlignedTo(p, unit);
  const PeriodGrain step = shift.step == PeriodGrain::kCustom ? unit : shift.step;
  Period q;
  if (step == unit) {
    // The previous unit starts where PreviousPeriod's does.
    if (calendar) return WholeUnit(PreviousPeriod(p).start, unit);
    q = PreviousPeriod(p);
  } else if (step == PeriodGrain::kYear) {
    if (calendar && (unit == PeriodGrain::kMonth || unit == PeriodGrain::kQuarter)) {
      return WholeUnit(AddMonths(p.start, -12), unit);
    }
    q = SamePeriodLastYear(p);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", shift.phrase, "\" steps back by a ", PeriodGrainName(step),
        ", but the previous answer covers ", p.Describe(),
        "; name the period instead, e.g. \"what about last ", PeriodGrainName(step), "?\""));
  }
  q.form = PeriodForm::kRange;
  q.phrase = absl::StrCat("from ", FormatDay(q.start), " to ", FormatDay(q.end));
  return q;
}

// A rank's implied filters ("which vet" ranks veterinarians only) belong to
// the rank: a follow-up that drops the rank drops them too.
void DropRankFilters(const QueryPlan& previous, std::vector<FilterClause>& filters) {
  if (!previous.ranked) return;
  const Attribute* a = FindAttribute(previous.dimension);
  if (a == nullptr) return;
  filters.erase(std::remove_if(filters.begin(), filters.end(),
                               [a](const FilterClause& f) {
                                 return std::any_of(
                                     a->rank_filters.begin(), a->rank_filters.end(),
                                     [&f](const FilterClause& r) { return SameClause(r, f); });
                               }),
                filters.end());
}

// What a question resolves to, decided step by step (Resolve): each step
// reads what the question mentions and what the steps before it chose, and
// declines with its reason.
struct Resolution {
  const Mentions& found;
  absl::CivilDay as_of;
  // The previous turn's plan, if it had one.
  const QueryPlan* previous;
  // The previous turn was answered, but not by the planner.
  bool previous_unplanned;

  // ChooseMetric: the question builds on the previous turn's plan.
  bool follow_up = false;
  const Metric* metric = nullptr;
  std::string metric_name;  // lower case, for messages
  // ChooseBreakdown: "cats vs dogs" compares values, not periods.
  bool compares_periods = false;
  // ChooseBreakdown: the question asks for a breakdown or a trend.
  bool dimension_given = false;
  // ChoosePeriod: what the main period is compared with, if anything.
  CompareMention compare;
  absl::optional<Period> other;
  QueryPlan plan;
};

// The one metric the question names ("" if none). A metric naming the rows
// of another ("no-show rate for dental appointments") is not a second one.
absl::StatusOr<std::string> NamedMetric(const Mentions& found) {
  std::vector<std::string> named;
  for (const Mention& m : found.metrics) {
    if (std::find(named.begin(), named.end(), m.term->metric) == named.end()) {
      named.push_back(m.term->metric);
    }
  }
  const std::vector<std::string> all_named = named;
  named.erase(
      std::remove_if(named.begin(), named.end(),
                     [&all_named](const std::string& id) {
                       for (const std::string& other : all_named) {
                         const std::vector<std::string>& rows = FindMetric(other)->row_metrics;
                         if (other != id && std::find(rows.begin(), rows.end(), id) != rows.end()) {
                           return true;
                         }
                       }
                       return false;
                     }),
      named.end());
  if (named.size() > 1) {
    std::vector<std::string> names;
    names.reserve(named.size());
    for (const std::string& id : named) names.push_back(Lower(FindMetric(id)->display));
    return Decline(absl::StrCat("The planner answers one metric at a time; the question names ",
                                absl::StrJoin(names, " and "), "."));
  }
  return named.empty() ? "" : named[0];
}

// The metric a question that names none implies: by a verb, a rank or a
// filter ("" if none). A question of filters alone that restrict the
// previous turn's metric is a follow-up ("just dentals" after revenue), not
// the metric the filter implies on its own ("dentals this year" asks
// afresh).
std::string ImpliedMetric(const Mentions& found, const QueryPlan* previous) {
  std::string metric_id;
  bool filters_follow_up = false;
  if (previous != nullptr && !found.filters.empty() && found.implied_by_ranks.empty() &&
      found.implied_by_hints.empty() && found.periods.empty() && found.dimensions.empty() &&
      !found.trend && !found.rank.present && !found.compare.present && !found.share &&
      found.staff_names.empty()) {
    const Metric* before = FindMetric(previous->metric);
    bool applies = before != nullptr;
    for (const Mention& m : found.filters) {
      applies = applies && ResolveFilter(*before, *m.term) != nullptr;
    }
    filters_follow_up = applies;
  }
  // A verb names the metric more surely than a filter word's usual one: "how
  // much did wellness visits bring in" is revenue, not a count of visits.
  for (const auto* implied :
       {&found.implied_by_hints, &found.implied_by_ranks, &found.implied_by_filters}) {
    if (filters_follow_up && implied == &found.implied_by_filters) continue;
    if (metric_id.empty() && !implied->empty()) metric_id = implied->front();
  }
  return metric_id;
}

// "Patients" on file, but "patients last month" or "patients we saw" are
// patients seen: `metric_id`, or the dated metric the question means.
std::string DatedAlternative(const Mentions& found, std::string metric_id) {
  if (const Metric* m = metric_id.empty() ? nullptr : FindMetric(metric_id);
      m != nullptr && !m->dated_alternative.empty()) {
    // A verb naming another metric ("clients who signed up last quarter":
    // new clients) is not a visit: that question is declined, not answered
    // as clients seen. "See" verbs are visits for any count on file.
    auto is_visit = [m](const std::string& hint) {
      return hint == m->dated_alternative || hint == "patients_seen";
    };
    const bool other_verb =
        !std::all_of(found.implied_by_hints.begin(), found.implied_by_hints.end(), is_visit);
    bool dated =
        !found.periods.empty() || found.compare.present || found.trend ||
        std::any_of(found.implied_by_hints.begin(), found.implied_by_hints.end(), is_visit);
    // So are breakdowns and filters only visits have ("patients by vet",
    // "dental patients", "patients of Dr. Smith"); a breakdown asked as one
    // ("by vet", "per vet"): "who is our best client" is not clients by vet.
    for (const Mention& d : found.dimensions) {
      const bool asked = d.explicit_breakdown || absl::StartsWith(Lower(d.phrase), "by ") ||
                         absl::StartsWith(Lower(d.phrase), "per ");
      dated =
          dated ||
          (asked && std::none_of(d.term->dimensions.begin(), d.term->dimensions.end(),
                                 [m](const std::string& id) { return DimensionApplies(*m, id); }));
    }
    for (const Mention& f : found.filters) {
      dated = dated || ResolveFilter(*m, *f.term) == nullptr;
    }
    dated = dated || (!found.staff_names.empty() && !AttributeApplies(*m, "vet"));
    if (dated && !other_verb) metric_id = m->dated_alternative;
  }
  return metric_id;
}

// The metric: named, else implied by a verb, a rank or a filter, else the
// previous turn's.
absl::Status ChooseMetric(Resolution& r) {
  const Mentions& found = r.found;
  const QueryPlan* previous = r.previous;
  VET_ASSIGN_OR_RETURN(std::string metric_id, NamedMetric(found));
  if (metric_id.empty()) metric_id = ImpliedMetric(found, previous);
  if (!metric_id.empty()) metric_id = DatedAlternative(found, std::move(metric_id));
  const bool follow_up = metric_id.empty() && previous != nullptr && found.AnythingBesidesMetric();
  if (follow_up) metric_id = previous->metric;
  if (metric_id.empty() && previous == nullptr && found.AnythingBesidesMetric()) {
    return Decline(absl::StrCat(
        "The question names no metric and reads as a follow-up, but ",
        r.previous_unplanned ? "the previous answer in this session was not computed by the "
                               "offline planner, so there is no metric for it to reuse"
                             : "there is no earlier answer in this session to build on",
        "; ask the whole question, with the metric (the planner knows ", MetricList(), ")."));
  }
  if (metric_id.empty()) {
    return Decline(
        absl::StrCat("The planner found no metric in the question (it knows ", MetricList(), ")."));
  }
  // "revenue the quarter before" has nothing to step back from: a question
  // naming its metric starts afresh.
  if (!follow_up && found.shift.present) {
    return Decline(absl::StrCat("\"", found.shift.phrase,
                                "\" steps back from the previous answer's period; a question that "
                                "names its metric starts afresh, so name the period too."));
  }
  r.metric = FindMetric(metric_id);
  if (r.metric == nullptr) return absl::InternalError(absl::StrCat("unknown metric ", metric_id));
  r.metric_name = Lower(r.metric->display);
  r.follow_up = follow_up;
  r.plan.follow_up = follow_up;
  r.plan.metric = metric_id;
  return absl::OkStatus();
}

// A share: "what percentage of appointments were no-shows" is a metric
// declared as that share (the no-show rate), its filter taken from `asked`;
// any other is the part of a total the question's filters keep.
absl::Status ApplyShare(Resolution& r, std::vector<FilterClause>& asked) {
  const Mentions& found = r.found;
  const QueryPlan* previous = r.previous;
  const bool follow_up = r.follow_up;
  const Metric* metric = r.metric;
  QueryPlan& plan = r.plan;
  if (found.share) {
    const Metric* declared = nullptr;
    for (const Metric& m : Metrics()) {
      if (m.share_of != metric->id || !m.share_filter) continue;
      auto it = std::find_if(asked.begin(), asked.end(), [&m](const FilterClause& c) {
        return SameClause(c, *m.share_filter);
      });
      if (it == asked.end() || m.base != metric->base) continue;
      declared = &m;
      asked.erase(it);
      break;
    }
    if (declared != nullptr) {
      r.metric = declared;
      r.metric_name = Lower(declared->display);
      plan.metric = declared->id;
    } else {
      if (!metric->denominator.empty() || metric->scale != 1 || !metric->note.empty() ||
          metric->unit == "percent") {
        return Decline(absl::StrCat(metric->display, " is not a total that splits into shares (",
                                    metric->definition, ")."));
      }
      if (asked.empty() && found.staff_names.empty() && !(follow_up && previous->share)) {
        return Decline(
            absl::StrCat("A share needs the part it is a share of, e.g. \"what share of ",
                         r.metric_name, " came from cats\"."));
      }
      plan.share = true;
    }
  } else if (follow_up) {
    plan.share = previous->share;
  }
  return absl::OkStatus();
}

// Filters (the previous turn's, replaced attribute by attribute), a share
// of them, and a staff member.
absl::Status ApplyFilters(Resolution& r) {
  const Mentions& found = r.found;
  const QueryPlan* previous = r.previous;
  const bool follow_up = r.follow_up;
  const Metric* metric = r.metric;
  const std::string& metric_name = r.metric_name;
  QueryPlan& plan = r.plan;
  std::vector<FilterClause> asked;
  for (const Mention& m : found.filters) {
    const FilterClause* clause = ResolveFilter(*metric, *m.term);
    if (clause == nullptr) {
      return Decline(absl::StrCat("\"", m.phrase, "\" does not apply to ", metric_name, " (",
                                  metric->definition, ")."));
    }
    MergeFilter(asked, *clause);
  }
  VET_RETURN_IF_ERROR(ApplyShare(r, asked));
  metric = r.metric;
  if (follow_up && !found.all_rows) {
    plan.filters = previous->filters;
    // "and overall?" after a single number drops its filters instead.
    if (found.overall && previous->dimension.empty()) plan.filters.clear();
    const bool rank_dropped = found.overall || !found.dimensions.empty() || found.trend;
    if (rank_dropped && !found.rank.present) DropRankFilters(*previous, plan.filters);
  }
  for (const FilterClause& c : asked) {
    auto it = std::find_if(plan.filters.begin(), plan.filters.end(),
                           [&c](const FilterClause& f) { return f.attribute == c.attribute; });
    if (it != plan.filters.end()) {
      *it = c;
    } else {
      plan.filters.push_back(c);
    }
  }
  for (const FilterClause& implied : metric->implied_filters) {
    for (const FilterClause& f : plan.filters) {
      if (f.attribute != implied.attribute) continue;
      const bool subset = std::all_of(f.values.begin(), f.values.end(), [&](const std::string& v) {
        return std::find(implied.values.begin(), implied.values.end(), v) != implied.values.end();
      });
      if (!metric->denominator.empty() || !subset) {
        return Decline(absl::StrCat("The question restricts ", FindAttribute(f.attribute)->display,
                                    ", which ", metric_name, " already fixes (", metric->definition,
                                    ")."));
      }
    }
  }

  // "Dr. Smith".
  if (found.staff_names.size() > 1) {
    return Decline("The planner filters on one staff member at a time.");
  }
  if (!found.staff_names.empty()) {
    if (!AttributeApplies(*metric, "vet")) {
      return Decline(absl::StrCat(metric->display, " is not recorded per staff member."));
    }
    plan.staff_name = found.staff_names[0];
  } else if (follow_up && !found.all_rows && !(found.overall && previous->dimension.empty())) {
    plan.staff_name = previous->staff_name;
  }
  return absl::OkStatus();
}

// The breakdown: by one attribute, or the values of one compared ("cats
// versus dogs").
absl::Status ChooseBreakdown(Resolution& r) {
  const Mentions& found = r.found;
  const QueryPlan* previous = r.previous;
  const bool follow_up = r.follow_up;
  const Metric* metric = r.metric;
  QueryPlan& plan = r.plan;
  std::vector<std::string> dims;
  for (const Mention& m : found.dimensions) {
    std::string chosen;
    for (const std::string& d : m.term->dimensions) {
      if (DimensionApplies(*metric, d)) {
        chosen = d;
        break;
      }
    }
    if (chosen.empty()) {
      return Decline(absl::StrCat(metric->display, " cannot be broken down by \"", m.phrase, "\" (",
                                  metric->definition, ")."));
    }
    if (std::find(dims.begin(), dims.end(), chosen) == dims.end()) dims.push_back(chosen);
  }
  if (dims.size() > 1) {
    return Decline(
        absl::StrCat("The planner breaks a metric down by one thing at a time; the "
                     "question asks for ",
                     absl::StrJoin(dims, " and "), "."));
  }
  plan.dimension = dims.empty() ? "" : dims[0];
  // "the diet category", "vaccination-type appointments": the attribute's
  // word names the one value filtered on, not a breakdown of one row.
  // An explicit "by species" stays a breakdown, even of one row.
  bool explicit_breakdown = false;
  for (const Mention& m : found.dimensions) {
    explicit_breakdown = explicit_breakdown || m.explicit_breakdown ||
                         absl::StartsWith(Lower(m.phrase), "by ") ||
                         absl::StartsWith(Lower(m.phrase), "per ");
  }
  for (const FilterClause& f : plan.filters) {
    if (f.attribute == plan.dimension && f.values.size() == 1 && !found.rank.present &&
        !explicit_breakdown) {
      plan.dimension.clear();
    }
  }
  if (found.trend && !plan.dimension.empty() && !IsTimeGrain(plan.dimension)) {
    return Decline(absl::StrCat("The planner shows a trend or a breakdown by ", plan.dimension,
                                ", not both at once."));
  }
  if (found.trend && metric->date_column.empty()) {
    return Decline(absl::StrCat(metric->display, " is a count of what is on file now (",
                                metric->definition, "); it has no trend."));
  }
  // "cats versus dogs", "surgery vs dental": values of one attribute
  // compared with each other, one figure per value, never one combined
  // figure compared across periods.
  bool compares_values = false;
  const bool asks_each = found.how_much_asked > 1;
  if (((found.compare.present && found.compare.target == CompareMention::Target::kNone) ||
       asks_each) &&
      plan.dimension.empty() && !found.trend) {
    for (const FilterClause& f : plan.filters) {
      if (f.values.size() < 2) continue;
      if (!DimensionApplies(*metric, f.attribute)) {
        return Decline(absl::StrCat(metric->display, " cannot be compared by ",
                                    FindAttribute(f.attribute)->display, " (", metric->definition,
                                    ")."));
      }
      plan.dimension = f.attribute;
      compares_values = true;
      break;
    }
  }
  r.compares_periods = found.compare.present && !compares_values;
  r.dimension_given = !plan.dimension.empty() || found.trend;
  if (follow_up && !r.dimension_given && !found.overall) plan.dimension = previous->dimension;
  return absl::OkStatus();
}

// The period and what it is compared with.
absl::Status ChoosePeriod(Resolution& r) {
  const Mentions& found = r.found;
  const QueryPlan* previous = r.previous;
  const bool follow_up = r.follow_up;
  const Metric* metric = r.metric;
  QueryPlan& plan = r.plan;
  const absl::CivilDay as_of = r.as_of;
  const bool compares_periods = r.compares_periods;
  const bool dimension_given = r.dimension_given;
  if (metric->date_column.empty()) {
    if (!found.periods.empty() || compares_periods || found.shift.present) {
      return Decline(absl::StrCat(metric->display, " is a count of what is on file now (",
                                  metric->definition,
                                  "); it cannot be limited to or compared across periods."));
    }
    return absl::OkStatus();
  }
  std::vector<Period> periods = found.periods;
  CompareMention compare = found.compare;
  compare.present = compares_periods;
  absl::optional<Period> other;  // a second period to compare with
  if (compare.target == CompareMention::Target::kPeriod) other = compare.period;
  if (periods.size() == 2 && compare.present && !other) {
    other = periods[1];
    periods.pop_back();
  }
  if (periods.size() > 1) {
    return Decline(
        "The question names more than one period; to compare two, ask e.g. "
        "\"revenue this year compared to last year\".");
  }
  if (found.shift.present && !periods.empty()) {
    return Decline(absl::StrCat("The question names a period and \"", found.shift.phrase,
                                "\"; ask one of them."));
  }
  if (found.shift.present && !(follow_up && previous->period)) {
    return Decline(absl::StrCat("\"", found.shift.phrase,
                                "\" needs a previous answer over a period to step back from."));
  }
  if (!periods.empty()) {
    plan.period = periods[0];
  } else if (found.shift.present) {
    absl::StatusOr<Period> stepped = StepBack(*previous->period, found.shift);
    if (!stepped.ok()) return Decline(stepped.status().message());
    plan.period = *std::move(stepped);
  } else if (follow_up && previous->period && !(previous->period_defaulted && dimension_given)) {
    // A period the previous question chose stays; one it left to the
    // default is defaulted afresh for a new breakdown ("by month" looks
    // back 12 months).
    plan.period = previous->period;
    plan.period_defaulted = previous->period_defaulted;
  } else if (OnlyFutureRows(plan.filters)) {
    plan.period = Upcoming(as_of);
    plan.period_defaulted = true;
  } else {
    const std::string dim =
        found.trend && plan.dimension.empty() ? std::string("month") : plan.dimension;
    plan.period = DefaultPeriod(dim, found.trend, as_of);
    plan.period_defaulted = true;
  }
  if (plan.period->form == PeriodForm::kUpcoming &&
      (compare.present || found.trend || IsTimeGrain(plan.dimension))) {
    return Decline(
        "The planner counts what is booked ahead in total or by a category, "
        "not over time or against another period.");
  }
  if (metric->looks_back && plan.period->form == PeriodForm::kAllTime) {
    return Decline(absl::StrCat(metric->display,
                                " compares a period with the one before it; all the data "
                                "has none before it. Name a period, e.g. \"",
                                Lower(metric->display), " last year\"."));
  }
  r.compare = std::move(compare);
  r.other = std::move(other);
  return absl::OkStatus();
}

// What the period is compared with: another period named, the one before,
// or the same period a year earlier; a follow-up keeps the previous turn's.
// Then the trend's grain.
absl::Status ChooseComparison(Resolution& r) {
  const Mentions& found = r.found;
  const QueryPlan* previous = r.previous;
  const bool follow_up = r.follow_up;
  QueryPlan& plan = r.plan;
  const CompareMention& compare = r.compare;
  const absl::optional<Period>& other = r.other;
  if (r.metric->date_column.empty()) return absl::OkStatus();
  const bool all_time =
      plan.period->form == PeriodForm::kAllTime || (other && other->form == PeriodForm::kAllTime);
  if (all_time && compare.present) {
    return Decline(
        "\"Ever\" covers all the data up to the as-of day; there is no other period to "
        "compare it with. Name two periods, e.g. \"revenue this year compared to last "
        "year\".");
  }
  if (compare.present) {
    const Period& main = *plan.period;
    if (other) {
      auto [comparison, compared] = ResolveComparedTo(main, *other);
      if (compared.start == main.start && compared.end == main.end) {
        // Never a period against itself: it would say "unchanged".
        return Decline(
            absl::StrCat("The question compares ", main.Describe(),
                         " with the same days. Name two different periods, e.g. \"revenue last "
                         "quarter vs the quarter before\"."));
      }
      plan.comparison = comparison;
      plan.compare_period = std::move(compared);
    } else if (compare.target == CompareMention::Target::kPreviousPeriod) {
      plan.compare_period = PreviousPeriod(main);
      plan.comparison = Comparison::kPreviousPeriod;
    } else {
      // "growth", "yoy", "compared to the same period last year".
      plan.compare_period = SamePeriodLastYear(main);
      plan.comparison = Comparison::kSamePeriodLastYear;
    }
  } else if (follow_up && found.periods.empty() && !found.shift.present && !r.dimension_given &&
             previous->comparison != Comparison::kNone) {
    plan.comparison = previous->comparison;
    plan.compare_period = previous->compare_period;
  }
  if (found.trend && plan.dimension.empty()) plan.dimension = TrendGrain(*plan.period);
  if (plan.comparison != Comparison::kNone && IsTimeGrain(plan.dimension) &&
      FindTimeGrain(plan.dimension)->line_chart) {
    return Decline(
        "The planner compares totals or breakdowns by category across periods, not trends; "
        "ask e.g. \"revenue this year vs last year\" or \"revenue by month this year\".");
  }
  return absl::OkStatus();
}

// Ranking: the top or bottom of the breakdown, with the filters a rank
// implies ("which vet" ranks veterinarians only).
absl::Status ApplyRanking(Resolution& r) {
  const Mentions& found = r.found;
  const QueryPlan* previous = r.previous;
  const bool follow_up = r.follow_up;
  const Metric* metric = r.metric;
  QueryPlan& plan = r.plan;
  const std::string& metric_name = r.metric_name;
  if (found.rank.conflicting) {
    return Decline("The question asks for both the highest and the lowest.");
  }
  if (found.rank.present) {
    if (plan.dimension.empty()) {
      return Decline(absl::StrCat("A ranking needs something to rank, e.g. \"top 5 services by ",
                                  metric_name, "\" or \"which vet had the most ", metric_name,
                                  "\"."));
    }
    plan.ranked = true;
    plan.ascending = found.rank.ascending;
    plan.top_n = found.rank.count;
    if (const Attribute* a = FindAttribute(plan.dimension)) {
      for (const FilterClause& c : a->rank_filters) {
        const bool restricted =
            std::any_of(plan.filters.begin(), plan.filters.end(),
                        [&c](const FilterClause& f) { return f.attribute == c.attribute; });
        if (!restricted && AttributeApplies(*metric, c.attribute)) {
          plan.filters.push_back(c);
        }
      }
    }
  } else if (follow_up && !r.dimension_given && !found.overall && previous->ranked) {
    plan.ranked = true;
    plan.ascending = previous->ascending;
    plan.top_n = previous->top_n;
  }
  return absl::OkStatus();
}

absl::StatusOr<QueryPlan> Resolve(const Mentions& found, absl::CivilDay as_of,
                                  const QueryPlan* previous, bool previous_unplanned) {
  if (!found.unknown.empty()) {
    std::vector<std::string> quoted;
    for (size_t k = 0; k < found.unknown.size() && k < 10; ++k) {
      quoted.push_back(absl::StrCat("\"", found.unknown[k], "\""));
    }
    return Decline(absl::StrCat("The planner did not understand ", absl::StrJoin(quoted, ", "),
                                found.unknown.size() > 10 ? " and more" : "", "."));
  }
  if (!found.unsupported.empty()) return Decline(found.unsupported);
  Resolution r{found, as_of, previous, previous_unplanned};
  VET_RETURN_IF_ERROR(ChooseMetric(r));
  VET_RETURN_IF_ERROR(ApplyFilters(r));
  VET_RETURN_IF_ERROR(ChooseBreakdown(r));
  VET_RETURN_IF_ERROR(ChoosePeriod(r));
  VET_RETURN_IF_ERROR(ChooseComparison(r));
  VET_RETURN_IF_ERROR(ApplyRanking(r));
  if (r.metric->uses_as_of) r.plan.as_of = as_of;
  return std::move(r.plan);
}

}  // namespace

bool operator==(const QueryPlan& a, const QueryPlan& b) {
  auto same_filters = [](const std::vector<FilterClause>& x, const std::vector<FilterClause>& y) {
    return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), SameClause);
  };
  return a.metric == b.metric && a.dimension == b.dimension && same_filters(a.filters, b.filters) &&
         a.staff_name == b.staff_name && a.period == b.period &&
         a.period_defaulted == b.period_defaulted && a.as_of == b.as_of && a.ranked == b.ranked &&
         a.ascending == b.ascending && a.top_n == b.top_n && a.comparison == b.comparison &&
         a.compare_period == b.compare_period && a.follow_up == b.follow_up && a.share == b.share;
}

absl::StatusOr<QueryPlan> ParseQuestion(absl::string_view question, absl::CivilDay as_of,
                                        const QueryPlan* previous, bool previous_unplanned) {
  absl::StatusOr<Mentions> found = Scan(question, as_of);
  if (!found.ok())
    return Decline(absl::StrCat(
        "The planner cannot use the question's period: ", found.status().message(), "."));
  return Resolve(*found, as_of, previous, previous_unplanned);
}

std::vector<std::string> AmbiguousPhrases() { return GetLexicon().ambiguous; }

// ---------------------------------------------------------------------------
// Serialisation: "planner/v1;metric=revenue;dimension=month;...". Values are
// made of declared ids, ISO days, digits and the words of period phrases and
// staff names, none of which contain ";", "=", "," or "|".

namespace {

constexpr char kPlanPrefix[] = "planner/v1";

std::string ComparisonName(Comparison c) {
  switch (c) {
    case Comparison::kNone:
      return "none";
    case Comparison::kSamePeriodLastYear:
      return "same_period_last_year";
    case Comparison::kPreviousPeriod:
      return "previous_period";
    case Comparison::kExplicit:
      break;
  }
  return "explicit";
}

std::string SerializePeriod(const Period& p) {
  return absl::StrCat(FormatDay(p.start), "|", FormatDay(p.end), "|", PeriodGrainName(p.grain), "|",
                      PeriodFormName(p.form), "|", p.phrase);
}

absl::StatusOr<Period> DeserializePeriod(absl::string_view text) {
  std::vector<std::string> f = absl::StrSplit(text, '|');
  if (f.size() != 5) return absl::InvalidArgumentError("bad period in plan");
  absl::optional<absl::CivilDay> start = ParseIsoDay(f[0]);
  absl::optional<absl::CivilDay> end = ParseIsoDay(f[1]);
  absl::optional<PeriodGrain> grain = PeriodGrainFromName(f[2]);
  absl::optional<PeriodForm> form = PeriodFormFromName(f[3]);
  if (!start || !end || !grain || !form || *end < *start) {
    return absl::InvalidArgumentError("bad period in plan");
  }
  for (char c : f[4]) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != ' ' && c != '-') {
      return absl::InvalidArgumentError("bad period phrase in plan");
    }
  }
  return Period{*start, *end, *grain, *form, f[4]};
}

}  // namespace

std::string SerializePlan(const QueryPlan& plan) {
  std::vector<std::string> fields = {kPlanPrefix, absl::StrCat("metric=", plan.metric)};
  if (!plan.dimension.empty()) fields.push_back(absl::StrCat("dimension=", plan.dimension));
  for (const FilterClause& f : plan.filters) {
    fields.push_back(absl::StrCat("filter=", f.attribute, ":", absl::StrJoin(f.values, ",")));
  }
  if (!plan.staff_name.empty()) fields.push_back(absl::StrCat("staff=", plan.staff_name));
  if (plan.period) {
    fields.push_back(absl::StrCat("period=", SerializePeriod(*plan.period)));
    if (plan.period_defaulted) fields.push_back("period_defaulted=1");
  }
  if (plan.as_of) fields.push_back(absl::StrCat("as_of=", FormatDay(*plan.as_of)));
  if (plan.ranked) {
    fields.push_back(absl::StrCat("rank=", plan.ascending ? "asc" : "desc", ",", plan.top_n));
  }
  if (plan.comparison != Comparison::kNone && plan.compare_period) {
    fields.push_back(absl::StrCat("compare=", ComparisonName(plan.comparison), ",",
                                  SerializePeriod(*plan.compare_period)));
  }
  if (plan.share) fields.push_back("share=1");
  if (plan.follow_up) fields.push_back("follow_up=1");
  return absl::StrJoin(fields, ";");
}

absl::StatusOr<QueryPlan> DeserializePlan(absl::string_view text) {
  std::vector<absl::string_view> fields = absl::StrSplit(text, ';');
  if (fields.empty() || fields[0] != kPlanPrefix) {
    return absl::InvalidArgumentError("not a planner plan");
  }
  QueryPlan plan;
  for (size_t k = 1; k < fields.size(); ++k) {
    std::pair<std::string, std::string> kv = absl::StrSplit(fields[k], absl::MaxSplits('=', 1));
    const std::string& key = kv.first;
    const std::string& value = kv.second;
    if (key == "metric") {
      if (FindMetric(value) == nullptr) return absl::InvalidArgumentError("unknown metric");
      plan.metric = value;
    } else if (key == "dimension") {
      if (FindAttribute(value) == nullptr && FindTimeGrain(value) == nullptr) {
        return absl::InvalidArgumentError("unknown dimension");
      }
      plan.dimension = value;
    } else if (key == "filter") {
      std::pair<std::string, std::string> av = absl::StrSplit(value, absl::MaxSplits(':', 1));
      const Attribute* a = FindAttribute(av.first);
      if (a == nullptr) return absl::InvalidArgumentError("unknown filter attribute");
      FilterClause clause{av.first, absl::StrSplit(av.second, ',', absl::SkipEmpty())};
      for (const std::string& v : clause.values) {
        if (std::find(a->values.begin(), a->values.end(), v) == a->values.end()) {
          return absl::InvalidArgumentError("unknown filter value");
        }
      }
      plan.filters.push_back(std::move(clause));
    } else if (key == "staff") {
      for (char c : value) {
        if (!absl::ascii_isalpha(static_cast<unsigned char>(c)) && c != ' ' && c != '\'') {
          return absl::InvalidArgumentError("bad staff name");
        }
      }
      plan.staff_name = value;
    } else if (key == "period") {
      absl::StatusOr<Period> p = DeserializePeriod(value);
      if (!p.ok()) return p.status();
      plan.period = *std::move(p);
    } else if (key == "as_of") {
      plan.as_of = ParseIsoDay(value);
      if (!plan.as_of) return absl::InvalidArgumentError("bad as_of in plan");
    } else if (key == "period_defaulted") {
      plan.period_defaulted = value == "1";
    } else if (key == "rank") {
      std::pair<std::string, std::string> dn = absl::StrSplit(value, absl::MaxSplits(',', 1));
      if ((dn.first != "asc" && dn.first != "desc") || !absl::SimpleAtoi(dn.second, &plan.top_n) ||
          plan.top_n < 0) {
        return absl::InvalidArgumentError("bad rank");
      }
      plan.ranked = true;
      plan.ascending = dn.first == "asc";
    } else if (key == "compare") {
      std::pair<std::string, std::string> cp = absl::StrSplit(value, absl::MaxSplits(',', 1));
      bool known = false;
      for (Comparison c :
           {Comparison::kSamePeriodLastYear, Comparison::kPreviousPeriod, Comparison::kExplicit}) {
        if (ComparisonName(c) == cp.first) {
          plan.comparison = c;
          known = true;
        }
      }
      absl::StatusOr<Period> p = DeserializePeriod(cp.second);
      if (!known || !p.ok()) return absl::InvalidArgumentError("bad comparison");
      plan.compare_period = *std::move(p);
    } else if (key == "share") {
      plan.share = value == "1";
    } else if (key == "follow_up") {
      plan.follow_up = value == "1";
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown plan field ", key));
    }
  }
  if (plan.metric.empty()) return absl::InvalidArgumentError("plan without a metric");
  // The plan came from storage: it must be one the writer can take.
  const Metric& metric = *FindMetric(plan.metric);
  if (!plan.dimension.empty() && !DimensionApplies(metric, plan.dimension)) {
    return absl::InvalidArgumentError("plan dimension does not apply");
  }
  for (const FilterClause& f : plan.filters) {
    if (!AttributeApplies(metric, f.attribute) || f.values.empty()) {
      return absl::InvalidArgumentError("plan filter does not apply");
    }
  }
  if (!plan.staff_name.empty() && !AttributeApplies(metric, "vet")) {
    return absl::InvalidArgumentError("plan staff filter does not apply");
  }
  if (plan.period.has_value() == metric.date_column.empty() ||
      (plan.comparison != Comparison::kNone && !plan.period)) {
    return absl::InvalidArgumentError("plan period does not fit its metric");
  }
  if (plan.as_of.has_value() != metric.uses_as_of) {
    return absl::InvalidArgumentError("plan as-of day does not fit its metric");
  }
  if (plan.ranked && plan.dimension.empty()) {
    return absl::InvalidArgumentError("plan ranks without a dimension");
  }
  if (plan.share && (!metric.denominator.empty() || metric.scale != 1 || !metric.note.empty() ||
                     metric.unit == "percent")) {
    return absl::InvalidArgumentError("plan shares a metric without a total");
  }
  return plan;
}

}  // namespace vet::codegen
