// ConvertWithPreset: vendor exports in, the five canonical CSVs out. Files
// are recognised by their header alone; each source's files are then read
// twice, record by record: once to choose every date column's format (the
// first candidate that parses all its values, so "03/04/2026" is not read
// as March when a later row says "13/04/2026"), once to convert. Tables
// made one row per key (a client per client code) are held as their keys'
// rows until the end; tables made one row per vendor row are written as
// they are read.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "core/common/status_macros.h"
#include "core/data/csv.h"
#include "core/data/preset.h"
#include "core/data/schema.h"

namespace vet::data {
namespace {

// A header is one record: a vendor file whose first record is longer than
// this is not a CSV export.
constexpr size_t kMaxHeaderBytes = size_t{1} << 20;
// Vendor values quoted in messages are shortened to this many characters.
constexpr size_t kMaxQuotedChars = 60;
// Ignored files named in the error for a folder with nothing recognised.
constexpr size_t kMaxListedFiles = 10;

std::string Quoted(absl::string_view value) {
  std::string out;
  for (unsigned char c : value.substr(0, kMaxQuotedChars)) {
    if (c < 0x20 || c == 0x7f) {
      absl::StrAppend(&out, absl::StrFormat("\\x%02x", c));
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (value.size() > kMaxQuotedChars) out += "...";
  return absl::StrCat("\"", out, "\"");
}

std::string Lower(absl::string_view s) {
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(s));
}

// One vendor file and where each of its source's columns is in it.
struct VendorFile {
  std::string path;
  const PresetSource* source = nullptr;
  // Per source column: the field index, -1 when absent (optional columns).
  std::vector<int> index;
  // Per source column: the header as the file writes it, for messages.
  std::vector<std::string> header_text;
  size_t fields = 0;
  int64_t rows = 0;
};

// How well a header fits a source.
struct HeaderMatch {
  std::vector<int> index;
  std::vector<std::string> header_text;
  int required = 0;
  int required_found = 0;
  std::vector<std::string> missing;  // required columns' header names
  bool complete() const { return required_found == required; }
};

HeaderMatch MatchHeader(const PresetSource& source, const std::vector<std::string>& header) {
  HeaderMatch m;
  for (const PresetSource::Column& c : source.columns) {
    int found = -1;
    // Alternatives in order of preference: "Patient Name" before "Pet Name".
    for (const std::string& alternative : c.headers) {
      for (size_t f = 0; f < header.size() && found < 0; ++f) {
        if (MatchesPresetPattern(alternative, header[f])) {
          found = static_cast<int>(f);
        }
      }
      if (found >= 0) break;
    }
    m.index.push_back(found);
    m.header_text.push_back(found >= 0 ? std::string(absl::StripAsciiWhitespace(header[found]))
                                       : c.headers.front());
    if (!c.optional) {
      ++m.required;
      if (found >= 0) {
        ++m.required_found;
      } else {
        m.missing.push_back(absl::StrCat("\"", absl::StrJoin(c.headers, "\" or \""), "\""));
      }
    }
  }
  return m;
}

// A vendor record being converted.
struct Row {
  const VendorFile& file;
  const std::vector<absl::string_view>& fields;
  int64_t line;

  absl::string_view Get(int column) const {
    const int f = file.index[column];
    if (f < 0 || static_cast<size_t>(f) >= fields.size()) return {};
    return absl::StripAsciiWhitespace(fields[f]);
  }

  absl::Status Error(int column, absl::string_view value, absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(file.path, " line ", line, ", column \"",
                                                   file.header_text[column], "\", value ",
                                                   Quoted(value), ": ", what));
  }
};

bool ParseDate(const std::string& format, absl::string_view value, absl::CivilSecond* out) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(format, value, absl::UTCTimeZone(), &t, &error)) {
    return false;
  }
  *out = absl::ToCivilSecond(t, absl::UTCTimeZone());
  return true;
}

// A vendor number as the canonical form wants it: currency symbols and
// codes around it dropped, thousands separators dropped, "(5.00)" negative.
// False if what is left is not a number.
bool CleanNumber(absl::string_view raw, std::string* out, double* value) {
  absl::string_view v = absl::StripAsciiWhitespace(raw);
  bool negative = false;
  if (v.size() >= 2 && v.front() == '(' && v.back() == ')') {
    negative = true;
    v = absl::StripAsciiWhitespace(v.substr(1, v.size() - 2));
  }
  auto is_numeric = [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '.';
  };
  for (int pass = 0; pass < 2; ++pass) {  // "-$5" and "$-5"
    if (!v.empty() && (v.front() == '-' || v.front() == '+')) {
      negative ^= v.front() == '-';
      v.remove_prefix(1);
    }
    while (!v.empty() && !is_numeric(v.front()) && v.front() != '-' && v.front() != '+') {
      v.remove_prefix(1);
    }
  }
  while (!v.empty() && !is_numeric(v.back())) v.remove_suffix(1);
  std::string digits;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == ',') {
      // A thousands separator has exactly three digits after it; anything
      // else is a decimal comma ("12,50"), refused rather than read as 1250.
      size_t n = 0;
      while (i + 1 + n < v.size() &&
             absl::ascii_isdigit(static_cast<unsigned char>(v[i + 1 + n]))) {
        ++n;
      }
      if (n != 3 || digits.find('.') != std::string::npos) return false;
      continue;
    }
    digits.push_back(v[i]);
  }
  if (digits.empty() || !absl::SimpleAtod(digits, value) || !std::isfinite(*value)) {
    return false;
  }
  if (negative) {
    *value = -*value;
    digits.insert(0, "-");
  }
  *out = std::move(digits);
  return true;
}

std::string FormatNumber(double v) {
  if (v == 0) return "0";  // not "-0"
  return absl::StrFormat("%.10g", v);
}

// One canonical column's fill, resolved against its source.
struct FillPlan {
  const PresetFill* fill = nullptr;
  const ColumnSpec* spec = nullptr;
  size_t position = 0;   // in the canonical record
  int column = -1;       // source column index (column, min, max, sequence)
  std::vector<int> sum;  // source column indexes
  int divided_by = -1;
  std::string format;     // chosen date format
  int64_t defaulted = 0;  // values the map did not know
  // The map's exact keys, lowered: a vendor value's lookup is one probe.
  absl::flat_hash_map<std::string, std::string> exact;
  absl::flat_hash_map<std::string, int64_t> sequence;
};

// Writes one canonical CSV through a buffer.
class TableWriter {
 public:
  static absl::StatusOr<std::unique_ptr<TableWriter>> Open(const std::string& path,
                                                           const TableSpec& spec) {
    auto w = std::unique_ptr<TableWriter>(new TableWriter(path));
    w->out_.open(path, std::ios::binary | std::ios::trunc);
    if (!w->out_) return absl::InternalError(absl::StrCat("cannot write ", path));
    std::vector<std::string> header;
    for (const ColumnSpec& c : spec.columns) header.push_back(c.name);
    w->Write(header);
    return w;
  }

  void Write(const std::vector<std::string>& record) {
    AppendCsvRecord(absl::MakeConstSpan(record), &buffer_);
    ++records_;
    if (buffer_.size() >= (1 << 20)) Flush();
  }

  absl::Status Close() {
    Flush();
    out_.close();
    if (!out_) return absl::InternalError(absl::StrCat("cannot write ", path_));
    return absl::OkStatus();
  }

  int64_t rows() const { return records_ - 1; }

 private:
  explicit TableWriter(std::string path) : path_(std::move(path)) {}
  void Flush() {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
  }

  std::string path_;
  std::ofstream out_;
  std::string buffer_;
  int64_t records_ = 0;
};

// One canonical table being made.
struct TablePlan {
  const PresetTable* table = nullptr;
  const TableSpec* spec = nullptr;
  std::vector<FillPlan> fills;
  int key = -1;  // one_row_per's source column, or -1
  std::unique_ptr<TableWriter> writer;
  // one_row_per tables: key -> its row, in first-seen order.
  absl::flat_hash_map<std::string, size_t> keys;
  std::vector<std::vector<std::string>> rows;
};

class Converter {
 public:
  Converter(const Preset& preset, std::string in_dir, std::string out_dir)
      : preset_(preset), in_dir_(std::move(in_dir)), out_dir_(std::move(out_dir)) {
    report_.preset = preset.name;
  }

  absl::StatusOr<PresetReport> Run() {
    VET_RETURN_IF_ERROR(Recognise());
    VET_RETURN_IF_ERROR(Plan());
    for (const PresetSource& source : preset_.sources) {
      if (!source.unused.empty()) continue;
      VET_RETURN_IF_ERROR(ChooseDateFormats(source));
      VET_RETURN_IF_ERROR(ConvertSource(source));
    }
    VET_RETURN_IF_ERROR(Finish());
    return std::move(report_);
  }

 private:
  // Lists the folder and matches each file's header against the sources.
  absl::Status Recognise() {
    std::error_code error;
    if (!std::filesystem::is_directory(in_dir_, error)) {
      return absl::NotFoundError(absl::StrCat(in_dir_, " is not a folder"));
    }
    std::vector<std::string> paths;
    for (const auto& entry : std::filesystem::directory_iterator(in_dir_, error)) {
      if (entry.is_regular_file(error)) paths.push_back(entry.path().string());
    }
    if (error) {
      return absl::NotFoundError(absl::StrCat("cannot list ", in_dir_, ": ", error.message()));
    }
    std::sort(paths.begin(), paths.end());
    // Per ignored file: how close it came to each source.
    std::vector<std::pair<std::string, std::vector<HeaderMatch>>> near;
    for (const std::string& path : paths) {
      absl::StatusOr<std::vector<std::string>> header = ReadHeader(path);
      if (!header.ok()) {
        report_.ignored.push_back({path, std::string(header.status().message())});
        continue;
      }
      std::vector<const PresetSource*> matched;
      std::vector<HeaderMatch> matches;
      for (const PresetSource& source : preset_.sources) {
        matches.push_back(MatchHeader(source, *header));
        if (matches.back().complete()) matched.push_back(&source);
      }
      if (matched.size() > 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, " has the columns of both ", matched[0]->description, " and ",
                         matched[1]->description,
                         ": the preset cannot tell which it is (move one away, or make "
                         "one source's columns stricter)"));
      }
      if (matched.empty()) {
        report_.ignored.push_back({path, "its columns are none of the preset's files"});
        near.emplace_back(path, std::move(matches));
        continue;
      }
      const size_t s = matched[0] - preset_.sources.data();
      VendorFile file;
      file.path = path;
      file.source = matched[0];
      file.index = std::move(matches[s].index);
      file.header_text = std::move(matches[s].header_text);
      file.fields = header->size();
      files_.push_back(std::move(file));
    }
    for (size_t s = 0; s < preset_.sources.size(); ++s) {
      const PresetSource& source = preset_.sources[s];
      if (source.optional || HasFiles(source)) continue;
      // The ignored file nearest to it, if it has at least half its
      // required columns: most likely an export missing a column.
      const std::pair<std::string, std::vector<HeaderMatch>>* best = nullptr;
      for (const auto& candidate : near) {
        if (best == nullptr ||
            candidate.second[s].required_found > best->second[s].required_found) {
          best = &candidate;
        }
      }
      if (best != nullptr) {
        const HeaderMatch& m = best->second[s];
        if (m.required_found >= 2 && 2 * m.required_found >= m.required) {
          return absl::InvalidArgumentError(
              absl::StrCat(best->first, " looks like ", source.description, " but has no column ",
                           absl::StrJoin(m.missing, ", "),
                           m.missing.size() > 1 ? " (required columns)" : " (a required column)"));
        }
      }
      if (files_.empty()) {
        std::vector<std::string> seen;
        for (const auto& ignored : report_.ignored) {
          if (seen.size() == kMaxListedFiles) {
            seen.push_back(absl::StrCat("and ", report_.ignored.size() - kMaxListedFiles, " more"));
            break;
          }
          seen.push_back(absl::StrCat(std::filesystem::path(ignored.path).filename().string(), " (",
                                      ignored.reason, ")"));
        }
        return absl::InvalidArgumentError(
            absl::StrCat("no file in ", in_dir_, " is one of the ", preset_.name,
                         " preset's exports (", Describe(preset_), ")",
                         seen.empty() ? "; the folder has no files"
                                      : absl::StrCat("; files seen: ", absl::StrJoin(seen, "; "))));
      }
      return absl::InvalidArgumentError(
          absl::StrCat("no file in ", in_dir_, " is ", source.description,
                       " (a file with the columns ", RequiredHeaders(source), ")"));
    }
    return absl::OkStatus();
  }

  static std::string RequiredHeaders(const PresetSource& source) {
    std::vector<std::string> names;
    for (const auto& c : source.columns) {
      if (!c.optional) names.push_back(absl::StrCat("\"", c.headers[0], "\""));
    }
    return absl::StrJoin(names, ", ");
  }

  static std::string Describe(const Preset& preset) {
    std::vector<std::string> names;
    for (const PresetSource& s : preset.sources) names.push_back(s.description);
    return absl::StrJoin(names, "; ");
  }

  bool HasFiles(const PresetSource& source) const {
    return std::any_of(files_.begin(), files_.end(),
                       [&](const VendorFile& f) { return f.source == &source; });
  }

  // The first record of `path`, or why it is not an export.
  static absl::StatusOr<std::vector<std::string>> ReadHeader(const std::string& path) {
    CsvReader::Options options;
    options.max_record_bytes = kMaxHeaderBytes;
    absl::StatusOr<std::unique_ptr<CsvReader>> reader = CsvReader::Open(path, options);
    if (!reader.ok()) {
      return absl::InvalidArgumentError("cannot be read");
    }
    absl::StatusOr<bool> read = (*reader)->Next();
    if (!read.ok()) return absl::InvalidArgumentError("not a CSV file");
    if (!*read) return absl::InvalidArgumentError("empty");
    std::vector<std::string> header;
    for (absl::string_view f : (*reader)->fields()) header.emplace_back(f);
    return header;
  }

  // Resolves every fill against its source and opens the writers.
  absl::Status Plan() {
    for (const PresetTable& table : preset_.tables) {
      TablePlan plan;
      plan.table = &table;
      plan.spec = FindTable(table.name);
      const PresetSource* source = table.from.empty() ? nullptr : preset_.FindSource(table.from);
      auto index_of = [&](const std::string& name) -> int {
        for (size_t i = 0; i < source->columns.size(); ++i) {
          if (source->columns[i].name == name) return static_cast<int>(i);
        }
        return -1;
      };
      if (source != nullptr) {
        if (!table.one_row_per.empty()) plan.key = index_of(table.one_row_per);
        for (const PresetFill& fill : table.fills) {
          FillPlan f;
          f.fill = &fill;
          f.spec = plan.spec->FindColumn(fill.column);
          f.position = f.spec - plan.spec->columns.data();
          if (!fill.source_column.empty()) f.column = index_of(fill.source_column);
          for (const std::string& s : fill.sum_columns) f.sum.push_back(index_of(s));
          if (!fill.divided_by.empty()) f.divided_by = index_of(fill.divided_by);
          for (const auto& [from, to] : fill.map) {
            if (from.find('*') == std::string::npos) f.exact.try_emplace(Lower(from), to);
          }
          plan.fills.push_back(std::move(f));
        }
      }
      VET_ASSIGN_OR_RETURN(
          plan.writer,
          TableWriter::Open((std::filesystem::path(out_dir_) / (table.name + ".csv")).string(),
                            *plan.spec));
      tables_.push_back(std::move(plan));
    }
    return absl::OkStatus();
  }

  // Calls `visit(row)` for every non-blank record of the source's files.
  template <typename Visit>
  absl::Status ForEachRow(const PresetSource& source, Visit visit) {
    for (VendorFile& file : files_) {
      if (file.source != &source) continue;
      absl::StatusOr<std::unique_ptr<CsvReader>> reader = CsvReader::Open(file.path);
      if (!reader.ok()) return reader.status();
      int64_t rows = 0;
      for (bool header = true;; header = false) {
        absl::StatusOr<bool> read = (*reader)->Next();
        if (!read.ok()) {
          return absl::InvalidArgumentError(read.status().message());
        }
        if (!*read) break;
        if (header) continue;
        const std::vector<absl::string_view>& fields = (*reader)->fields();
        // Spreadsheets leave rows of empty cells at the end.
        if (std::all_of(fields.begin(), fields.end(), [](absl::string_view f) {
              return absl::StripAsciiWhitespace(f).empty();
            })) {
          continue;
        }
        if (fields.size() != file.fields) {
          return absl::InvalidArgumentError(
              absl::StrCat(file.path, " line ", (*reader)->line(), ": ", fields.size(),
                           " fields where the header has ", file.fields));
        }
        ++rows;
        VET_RETURN_IF_ERROR(visit(Row{file, fields, (*reader)->line()}));
      }
      file.rows = rows;
    }
    return absl::OkStatus();
  }

  // For each date fill of the source's tables: the first of its formats
  // that parses every value of its vendor column.
  absl::Status ChooseDateFormats(const PresetSource& source) {
    struct Candidate {
      std::vector<FillPlan*> fills;  // the fills sharing column and formats
      uint64_t viable;
      bool any = false;
    };
    std::vector<Candidate> candidates;
    for (TablePlan& t : tables_) {
      if (t.table->from != source.name) continue;
      for (FillPlan& f : t.fills) {
        if (f.fill->formats.empty() || f.column < 0) continue;
        auto same = std::find_if(candidates.begin(), candidates.end(), [&](const Candidate& c) {
          return c.fills[0]->column == f.column && c.fills[0]->fill->formats == f.fill->formats;
        });
        if (same != candidates.end()) {
          same->fills.push_back(&f);
        } else {
          const size_t n = f.fill->formats.size();
          candidates.push_back({{&f}, n == 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1});
        }
      }
    }
    if (candidates.empty()) return absl::OkStatus();
    VET_RETURN_IF_ERROR(ForEachRow(source, [&](const Row& row) -> absl::Status {
      for (Candidate& c : candidates) {
        const FillPlan& f = *c.fills[0];
        absl::string_view v = row.Get(f.column);
        if (v.empty()) continue;
        c.any = true;
        const uint64_t before = c.viable;
        absl::CivilSecond unused;
        for (size_t i = 0; i < f.fill->formats.size(); ++i) {
          if ((c.viable >> i & 1) && !ParseDate(f.fill->formats[i], v, &unused)) {
            c.viable &= ~(uint64_t{1} << i);
          }
        }
        if (c.viable == 0) {
          std::vector<std::string> tried;
          for (size_t i = 0; i < f.fill->formats.size(); ++i) {
            if (before >> i & 1) tried.push_back(f.fill->formats[i]);
          }
          return row.Error(f.column, v,
                           absl::StrCat("no date format fits every value of this column: "
                                        "this one is not ",
                                        absl::StrJoin(tried, " or "),
                                        tried.size() < f.fill->formats.size()
                                            ? " (the formats that fit the rows before it)"
                                            : ""));
        }
      }
      return absl::OkStatus();
    }));
    for (Candidate& c : candidates) {
      const FillPlan& first = *c.fills[0];
      size_t chosen = 0;
      while (c.any && !(c.viable >> chosen & 1)) ++chosen;
      for (FillPlan* f : c.fills) f->format = f->fill->formats[chosen];
      if (!c.any) continue;
      std::vector<std::string> also;
      for (size_t i = chosen + 1; i < first.fill->formats.size(); ++i) {
        if (c.viable >> i & 1) also.push_back(first.fill->formats[i]);
      }
      std::string header;
      for (const VendorFile& file : files_) {
        if (file.source == &source) {
          header = file.header_text[first.column];
          break;
        }
      }
      report_.notes.push_back(
          {source.name, header,
           absl::StrCat("dates read as ", first.format,
                        also.empty()
                            ? ""
                            : absl::StrCat(" (every value also fits ", absl::StrJoin(also, ", "),
                                           ": the preset lists ", first.format, " first)"))});
    }
    return absl::OkStatus();
  }

  // The canonical value of `f` for `row`.
  absl::StatusOr<std::string> Evaluate(FillPlan& f, const Row& row) {
    const PresetFill& fill = *f.fill;
    switch (fill.kind) {
      case PresetFill::Kind::kValue:
        return fill.value;
      case PresetFill::Kind::kSequence: {
        std::string key(row.Get(f.column));
        return absl::StrCat(++f.sequence[key]);
      }
      case PresetFill::Kind::kSum: {
        double sum = 0;
        for (int c : f.sum) {
          absl::string_view v = row.Get(c);
          if (v.empty()) continue;
          std::string clean;
          double x;
          if (!CleanNumber(v, &clean, &x)) return row.Error(c, v, "not a number");
          sum += x;
        }
        if (f.divided_by >= 0) {
          absl::string_view v = row.Get(f.divided_by);
          std::string clean;
          double d = 0;
          if (!v.empty() && !CleanNumber(v, &clean, &d)) {
            return row.Error(f.divided_by, v, "not a number");
          }
          // Nothing to divide among: the line's arithmetic is for the
          // import's validation to judge.
          sum = d == 0 ? 0 : sum / d;
        }
        if (f.spec->type == FieldType::kInt) {
          return absl::StrCat(static_cast<int64_t>(std::llround(sum)));
        }
        return FormatNumber(sum);
      }
      case PresetFill::Kind::kColumn:
      case PresetFill::Kind::kMin:
      case PresetFill::Kind::kMax:
        break;
    }
    absl::string_view raw = row.Get(f.column);
    std::string value(raw);
    if (value.empty() && fill.has_if_empty) value = fill.if_empty;
    if (!fill.map.empty()) {
      if (value.empty() && !fill.has_default) return value;
      const std::string* to = nullptr;
      if (!value.empty()) {
        if (auto it = f.exact.find(Lower(value)); it != f.exact.end()) {
          to = &it->second;
        }
        for (size_t i = 0; to == nullptr && i < fill.map.size(); ++i) {
          if (fill.map[i].first.find('*') != std::string::npos &&
              MatchesPresetPattern(fill.map[i].first, value)) {
            to = &fill.map[i].second;
          }
        }
      }
      if (to != nullptr) return *to;
      if (fill.has_default) {
        ++f.defaulted;
        return fill.default_value;
      }
      return row.Error(f.column, raw,
                       absl::StrCat("the preset's map for ", f.spec->name,
                                    " does not know this value and has no default (add it "
                                    "to the map in a copy of the preset, and import with "
                                    "--preset=FILE.json)"));
    }
    if (value.empty()) return value;
    switch (f.spec->type) {
      case FieldType::kDate:
      case FieldType::kDateTime: {
        absl::CivilSecond t;
        if (!ParseDate(f.format, value, &t)) {
          return row.Error(f.column, raw, absl::StrCat("not a date written ", f.format));
        }
        return f.spec->type == FieldType::kDate ? absl::FormatCivilTime(absl::CivilDay(t))
                                                : absl::FormatCivilTime(t);
      }
      case FieldType::kDecimal:
      case FieldType::kInt: {
        std::string clean;
        double x;
        if (!CleanNumber(value, &clean, &x)) {
          return row.Error(f.column, raw, "not a number");
        }
        if (f.spec->type == FieldType::kInt) {
          if (x != std::floor(x) || std::fabs(x) > 9e15) {
            return row.Error(f.column, raw, "not a whole number");
          }
          return absl::StrCat(static_cast<int64_t>(x));
        }
        return clean;
      }
      case FieldType::kEnum:
        return absl::AsciiStrToLower(value);
      default:
        return value;
    }
  }

  absl::Status ConvertSource(const PresetSource& source) {
    std::vector<TablePlan*> tables;
    for (TablePlan& t : tables_) {
      if (t.table->from == source.name) tables.push_back(&t);
    }
    if (tables.empty()) return absl::OkStatus();
    std::vector<std::string> record;
    return ForEachRow(source, [&](const Row& row) -> absl::Status {
      for (TablePlan* t : tables) {
        if (t->key < 0) {
          record.assign(t->spec->columns.size(), std::string());
          for (FillPlan& f : t->fills) {
            VET_ASSIGN_OR_RETURN(record[f.position], Evaluate(f, row));
          }
          t->writer->Write(record);
          continue;
        }
        VET_RETURN_IF_ERROR(AddToKey(*t, row));
      }
      return absl::OkStatus();
    });
  }

  // A one_row_per table: the row's key gets its values where it has none
  // yet, and its earliest and latest dates.
  absl::Status AddToKey(TablePlan& t, const Row& row) {
    absl::string_view key = row.Get(t.key);
    if (key.empty()) return absl::OkStatus();
    auto [it, inserted] = t.keys.try_emplace(key, t.rows.size());
    if (inserted) t.rows.emplace_back(t.spec->columns.size());
    std::vector<std::string>& values = t.rows[it->second];
    for (FillPlan& f : t.fills) {
      std::string& held = values[f.position];
      const PresetFill::Kind kind = f.fill->kind;
      if (kind != PresetFill::Kind::kMin && kind != PresetFill::Kind::kMax && !held.empty()) {
        continue;
      }
      VET_ASSIGN_OR_RETURN(std::string value, Evaluate(f, row));
      if (value.empty()) continue;
      // ISO dates order as strings.
      if (held.empty() || (kind == PresetFill::Kind::kMin && value < held) ||
          (kind == PresetFill::Kind::kMax && value > held)) {
        held = std::move(value);
      }
    }
    return absl::OkStatus();
  }

  absl::Status Finish() {
    for (const VendorFile& file : files_) {
      report_.recognised.push_back(
          {file.path, file.source->name, file.source->description, file.rows, file.source->unused});
    }
    for (TablePlan& t : tables_) {
      for (const std::vector<std::string>& row : t.rows) t.writer->Write(row);
      t.rows.clear();
      t.keys.clear();
      VET_RETURN_IF_ERROR(t.writer->Close());
      report_.rows.emplace_back(t.table->name, t.writer->rows());
      Explain(t);
    }
    return absl::OkStatus();
  }

  // What the report says of a table: why it is empty, or which of its
  // columns are empty or assumed.
  void Explain(const TablePlan& t) {
    const PresetTable& table = *t.table;
    if (!table.none.empty()) {
      report_.unfilled.push_back({table.name, "", table.none});
      return;
    }
    const PresetSource& source = *preset_.FindSource(table.from);
    if (!HasFiles(source)) {
      report_.unfilled.push_back(
          {table.name, "", absl::StrCat("no file in the folder is ", source.description)});
      return;
    }
    for (const ColumnSpec& c : t.spec->columns) {
      const FillPlan* fill = nullptr;
      for (const FillPlan& f : t.fills) {
        if (f.spec == &c) fill = &f;
      }
      if (fill == nullptr) {
        auto why = table.unfilled.find(c.name);
        report_.unfilled.push_back(
            {table.name, c.name,
             why != table.unfilled.end() ? why->second : "the preset does not fill it"});
        continue;
      }
      // An optional vendor column none of the files has.
      if (fill->column >= 0 && std::none_of(files_.begin(), files_.end(), [&](const VendorFile& f) {
            return f.source == &source && f.index[fill->column] >= 0;
          })) {
        report_.unfilled.push_back(
            {table.name, c.name,
             absl::StrCat("no column \"", source.columns[fill->column].headers.front(), "\" in ",
                          source.description)});
        continue;
      }
      if (!fill->fill->assumed.empty()) {
        report_.assumed.push_back({table.name, c.name, fill->fill->assumed});
      }
      if (fill->defaulted > 0) {
        std::string header;
        for (const VendorFile& file : files_) {
          if (file.source == &source) header = file.header_text[fill->column];
        }
        report_.notes.push_back(
            {table.name, c.name,
             absl::StrCat(fill->defaulted, " ", fill->defaulted == 1 ? "value" : "values", " of \"",
                          header, "\" not in the preset's map taken as \"",
                          fill->fill->default_value, "\"")});
      }
    }
  }

  const Preset& preset_;
  const std::string in_dir_;
  const std::string out_dir_;
  std::vector<VendorFile> files_;
  std::vector<TablePlan> tables_;
  PresetReport report_;
};

}  // namespace

absl::StatusOr<PresetReport> ConvertWithPreset(const Preset& preset, const std::string& in_dir,
                                               const std::string& out_dir) {
  return Converter(preset, in_dir, out_dir).Run();
}

}  // namespace vet::data
