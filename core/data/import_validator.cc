// The import validator: one streaming pass per table, in schema order so that
// every reference points into a table already loaded. Values are hand-parsed
// (no regex, no locale) because an invoice table can hold millions of lines.
#include "core/data/import_validator.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "core/common/error_details.h"
#include "core/data/csv.h"
#include "core/data/schema.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace vet::data {
namespace {

// Appends a null to `col` in the value vector its type uses.
void AppendNull(TypedColumn& col, FieldType type) {
  col.valid.push_back(0);
  switch (type) {
    case FieldType::kInt:
    case FieldType::kDate:
    case FieldType::kDateTime:
      col.ints.push_back(0);
      break;
    case FieldType::kDecimal:
      col.numbers.push_back(std::numeric_limits<double>::quiet_NaN());
      break;
    default:
      col.codes.push_back(-1);
  }
}

constexpr size_t kMaxValueChars = 60;
// Extra columns a warning names; the rest are counted.
constexpr size_t kMaxNamedExtraColumns = 10;
constexpr int64_t kSecondsPerDay = 86400;

// ---------------------------------------------------------------------------
// Value helpers.

bool IsValidUtf8(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  // Fast path: almost every field is ASCII; test eight bytes at a time.
  while (end - p >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    if (word & 0x8080808080808080ULL) break;
    p += 8;
  }
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    // Overlong three/four-byte forms, surrogates, beyond U+10FFFF.
    if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return false;
    }
    p += n + 1;
  }
  return true;
}

// A value as it may appear in a problem: at most kMaxValueChars characters,
// control characters and invalid UTF-8 bytes as \xNN.
std::string DisplayValue(absl::string_view s) {
  std::string out;
  size_t chars = 0;
  size_t i = 0;
  while (i < s.size() && chars < kMaxValueChars) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = 1;
    if (c >= 0x80) {
      len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      if (i + len > s.size() || !IsValidUtf8(s.substr(i, len))) len = 0;
    }
    if (len == 0 || c < 0x20 || c == 0x7F) {
      absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
      ++i;
    } else {
      out.append(s.data() + i, len);
      i += len;
    }
    ++chars;
  }
  if (i < s.size()) out.append("...");
  return out;
}

bool ParseDigits(absl::string_view s, int* out) {
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool MakeDay(int y, int m, int d, absl::CivilDay* out) {
  absl::CivilDay day(y, m, d);
  if (day.year() != y || day.month() != m || day.day() != d) return false;
  *out = day;
  return true;
}

// YYYY-MM-DD.
bool ParseIsoDate(absl::string_view s, absl::CivilDay* out) {
  int y, m, d;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !ParseDigits(s.substr(0, 4), &y) ||
      !ParseDigits(s.substr(5, 2), &m) || !ParseDigits(s.substr(8, 2), &d)) {
    return false;
  }
  return MakeDay(y, m, d, out);
}

// YYYY-MM-DDTHH:MM[:SS], a space tolerated for the T.
bool ParseIsoDateTime(absl::string_view s, absl::CivilSecond* out) {
  if ((s.size() != 16 && s.size() != 19) || (s[10] != 'T' && s[10] != ' ') || s[13] != ':') {
    return false;
  }
  absl::CivilDay day;
  int h, mi, sec = 0;
  if (!ParseIsoDate(s.substr(0, 10), &day) || !ParseDigits(s.substr(11, 2), &h) ||
      !ParseDigits(s.substr(14, 2), &mi)) {
    return false;
  }
  if (s.size() == 19 && (s[16] != ':' || !ParseDigits(s.substr(17, 2), &sec))) {
    return false;
  }
  if (h > 23 || mi > 59 || sec > 59) return false;
  *out = absl::CivilSecond(day.year(), day.month(), day.day(), h, mi, sec);
  return true;
}

// A date or datetime in a mapping's strftime-like format; seconds since the
// epoch of the practice's local time (read as if it were UTC).
bool ParseWithFormat(const std::string& format, absl::string_view s, int64_t* seconds) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(format, s, absl::UTCTimeZone(), &t, &err)) return false;
  *seconds = absl::ToUnixSeconds(t);
  return true;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// [-]digits[.digits], dot as the decimal separator. Up to 15 digits (all
// money and quantities) it is one correctly rounded division, far faster
// than strtod; up to 18 it may be off by one ulp; longer goes to strtod.
enum class NumberError { kNone, kComma, kBad };
NumberError ParseDecimal(absl::string_view s, double* out) {
  size_t i = 0;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    i = 1;
  }
  uint64_t mantissa = 0;
  int digits = 0;  // all digits, leading zeros included
  int scale = 0;
  bool dot = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      mantissa = mantissa * 10 + static_cast<uint64_t>(c - '0');
      ++digits;
      if (dot) ++scale;
    } else if (c == '.' && !dot) {
      dot = true;
    } else if (c == ',') {
      return NumberError::kComma;
    } else {
      return NumberError::kBad;
    }
  }
  if (digits == 0) return NumberError::kBad;  // "", "-", "."
  if (digits > 18) {
    // Rare: let strtod round it. The characters are already checked.
    return absl::SimpleAtod(s, out) ? NumberError::kNone : NumberError::kBad;
  }
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                                      1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};
  double v = static_cast<double>(mantissa) / kPow10[scale];
  *out = negative ? -v : v;
  return NumberError::kNone;
}

bool ParseInt(absl::string_view s, int64_t* out) {
  size_t i = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size() || s.size() - i > 18) {
    // Empty, or long enough to overflow: let Abseil range-check it.
    return i < s.size() && absl::SimpleAtoi(s, out);
  }
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = s[0] == '-' ? -v : v;
  return true;
}

std::string Lower(absl::string_view s) { return absl::AsciiStrToLower(s); }

// absl::StripAsciiWhitespace, with a fast path for the usual untrimmed field.
absl::string_view Trim(absl::string_view s) {
  if (s.empty() ||
      (static_cast<unsigned char>(s.front()) > ' ' && static_cast<unsigned char>(s.back()) > ' ')) {
    return s;
  }
  return absl::StripAsciiWhitespace(s);
}

// ---------------------------------------------------------------------------
// Problem collection.

class Problems {
 public:
  explicit Problems(ImportOutcome* outcome, int max) : outcome_(outcome), max_(std::max(max, 0)) {}

  void Add(absl::string_view table, int64_t line, absl::string_view column, absl::string_view value,
           std::string message, bool personal = false) {
    ++outcome_->total_problems;
    if (static_cast<int64_t>(outcome_->problems.size()) >= max_) return;
    ImportProblem p;
    p.table = std::string(table);
    p.line = line;
    p.column = std::string(column);
    p.value = personal && !value.empty() ? "(personal data withheld)" : DisplayValue(value);
    p.message = std::move(message);
    outcome_->problems.push_back(std::move(p));
  }

  // Every further problem is only counted.
  bool full() const { return static_cast<int64_t>(outcome_->problems.size()) >= max_; }

 private:
  ImportOutcome* outcome_;
  int64_t max_;
};

// ---------------------------------------------------------------------------
// Memory accounting.

// What the import holds that grows with the input is charged here before it
// is allocated, so that no shape of upload can take more than the limit:
// typed column storage (at capacity), dictionary strings, hash indexes,
// copies of referenced dictionaries, the CSV reader's worst case. Containers
// grow only through TableLoader's Reserve helpers, which charge the new
// block and, as transient, the old one a reallocation still holds.
class MemoryAccount {
 public:
  explicit MemoryAccount(int64_t limit) : limit_(limit) {}

  // Charges `bytes` if they fit with `transient` bytes more held briefly;
  // otherwise charges nothing, returns false and stays exhausted.
  bool Charge(int64_t bytes, int64_t transient = 0) {
    if (exhausted_ || used_ + bytes + transient > limit_) {
      exhausted_ = true;
      return false;
    }
    used_ += bytes;
    peak_ = std::max(peak_, used_ + transient);
    return true;
  }
  // For estimates corrected after the fact (a hash table's real capacity).
  void Adjust(int64_t bytes) {
    used_ += bytes;
    peak_ = std::max(peak_, used_);
  }
  void Release(int64_t bytes) { used_ -= bytes; }

  bool exhausted() const { return exhausted_; }
  int64_t limit() const { return limit_; }
  int64_t peak() const { return peak_; }

 private:
  const int64_t limit_;
  int64_t used_ = 0;
  int64_t peak_ = 0;
  bool exhausted_ = false;
};

// Characters a std::string holds without a heap block (libstdc++'s small
// string buffer); a longer one allocates size + 1 bytes.
constexpr size_t kInlineStringChars = 15;
int64_t StringHeapBytes(size_t size) {
  return size > kInlineStringChars ? static_cast<int64_t>(size) + 1 : 0;
}

// An absl flat hash table has 2^k - 1 slots and grows (to twice as many)
// when 7/8 of them are full. A slot costs its value and one control byte.
size_t HashGrowthOf(size_t slots) { return slots - slots / 8; }

// A hash table's charge: the elements it can take without growing and the
// bytes its slots cost.
struct HashCharge {
  size_t reserved = 0;
  int64_t bytes = 0;
};

// Bytes one row takes in a column of `type`: the valid flag and the value.
int64_t RowBytes(FieldType type) {
  switch (type) {
    case FieldType::kInt:
    case FieldType::kDate:
    case FieldType::kDateTime:
      return 1 + sizeof(int64_t);
    case FieldType::kDecimal:
      return 1 + sizeof(double);
    default:
      return 1 + sizeof(int32_t);
  }
}

// ---------------------------------------------------------------------------
// Table loading.

// What later tables need of an earlier one.
struct LoadedTable {
  bool usable = false;  // header fine: its ids can be used to resolve refs
  absl::flat_hash_map<std::string, int32_t> ids;  // id -> code
  std::vector<int32_t> row_of_code;               // code -> first row with that id
  // The id column's dictionary (in the loaded TypedTable): id of each code.
  const std::vector<std::string>* dictionary = nullptr;
  // What a copy of `dictionary` costs (each ref column holds one).
  int64_t dictionary_bytes = 0;
};

struct ColumnBuilder {
  const ColumnSpec* spec = nullptr;
  int source = -1;  // field index in the file, -1 when absent
  const std::string* format = nullptr;
  const LoadedTable* target = nullptr;  // kRef
  absl::flat_hash_map<std::string, int32_t> dict;
  HashCharge dict_charge;
  int64_t string_bytes = 0;  // heap bytes of the strings in `dictionary`
  TypedColumn column;
  bool bad = false;   // this row's value failed to parse
  int32_t last = -1;  // code of the previous row's value, -1 if none
  // Dates repeat row after row (an invoice's lines, a day's visits): the
  // previous row's text and value, valid when last_date_ok.
  std::string last_date_text;
  int64_t last_date_value = 0;
  bool last_date_ok = false;
};

class TableLoader {
 public:
  TableLoader(const TableSpec& spec, const ColumnMapping& mapping, const ImportOptions& options,
              const std::map<std::string, LoadedTable>& loaded, const TypedTable* patients,
              Problems* problems, std::vector<std::string>* warnings, MemoryAccount* account)
      : spec_(spec),
        mapping_(mapping),
        options_(options),
        loaded_(loaded),
        problems_(problems),
        account_(account),
        warnings_(warnings),
        as_of_days_(options.as_of - absl::CivilDay(1970, 1, 1)),
        is_appointments_(spec.name == "appointments"),
        is_invoice_lines_(spec.name == "invoice_lines"),
        patient_owner_(patients == nullptr ? nullptr : patients->FindColumn("client_id")) {}

  // Releases what only loading needed (the reader, indexes of columns
  // other than the id).
  ~TableLoader() { account_->Release(temporary_bytes_); }
  TableLoader(const TableLoader&) = delete;
  TableLoader& operator=(const TableLoader&) = delete;

  // Loads `path` into *table and *self. Stops at the line where the memory
  // account runs out (a problem says so).
  void Load(const std::string& path, TypedTable* table, LoadedTable* self);

 private:
  // Adds the problem that stops the import, once.
  void OutOfMemory(int64_t line);
  // Makes room for one more row in every column, charging the account
  // first; false when it is exhausted.
  bool ReserveRow(int64_t line);
  // Makes room for one more element in `table` / `v`, likewise.
  template <typename Table>
  bool ReserveHash(Table& table, HashCharge& charge, int64_t slot_bytes, int64_t line);
  template <typename T>
  bool ReserveVector(std::vector<T>& v, int64_t line);
  // `v`'s code in b's dictionary, added if new (*inserted); -1 when the
  // memory account is exhausted.
  int32_t Intern(ColumnBuilder& b, absl::string_view v, int64_t line, bool* inserted);
  // The rest of Load() once the rows are read: the table and what later
  // tables need of it.
  void Finish(int64_t line, TypedTable* table, LoadedTable* self);
  void Problem(int64_t line, absl::string_view column, absl::string_view value, std::string message,
               bool personal = false) {
    problems_->Add(spec_.name, line, column, value, std::move(message), personal);
  }
  bool ReadHeader(CsvReader& reader);
  // A record whose fields cannot be matched to columns is not stored (the
  // import is refused anyway), but its id counts as existing, with no row,
  // so that rows referring to it do not each add a problem; once the list of
  // problems is full, it does not (they would only be counted), so a
  // million malformed lines cost nothing.
  void NoteBrokenRecord(const std::vector<absl::string_view>& fields, int64_t line);
  void ParseField(ColumnBuilder& b, absl::string_view raw, int64_t line);
  void CheckRow(const std::vector<absl::string_view>& fields, int64_t line);
  int Index(absl::string_view column) const {
    for (size_t i = 0; i < builders_.size(); ++i) {
      if (builders_[i].spec->name == column) return static_cast<int>(i);
    }
    return -1;
  }
  absl::string_view Raw(const std::vector<absl::string_view>& fields, int index) const {
    int source = builders_[index].source;
    return source < 0 ? absl::string_view() : fields[source];
  }
  // The value just parsed for builder `i`, if valid.
  bool Int(int i, int64_t* v) const {
    if (i < 0) return false;
    const ColumnBuilder& b = builders_[i];
    if (b.bad || b.column.valid.empty() || !b.column.valid.back()) return false;
    *v = b.column.ints.back();
    return true;
  }
  bool Num(int i, double* v) const {
    if (i < 0) return false;
    const ColumnBuilder& b = builders_[i];
    if (b.bad || b.column.valid.empty() || !b.column.valid.back()) return false;
    *v = b.column.numbers.back();
    return true;
  }
  absl::string_view Str(int i) const {
    if (i < 0) return {};
    const ColumnBuilder& b = builders_[i];
    if (b.bad || b.column.valid.empty() || !b.column.valid.back()) return {};
    const std::vector<std::string>& dictionary =
        b.target != nullptr ? *b.target->dictionary : b.column.dictionary;
    return dictionary[b.column.codes.back()];
  }

  const TableSpec& spec_;
  const ColumnMapping& mapping_;
  const ImportOptions& options_;
  const std::map<std::string, LoadedTable>& loaded_;
  Problems* problems_;
  MemoryAccount* const account_;
  std::vector<std::string>* warnings_;
  const int64_t as_of_days_;
  const bool is_appointments_;
  const bool is_invoice_lines_;
  const TypedColumn* const patient_owner_;  // patients.client_id

  std::vector<ColumnBuilder> builders_;
  size_t header_fields_ = 0;
  int64_t rows_ = 0;
  // Rows every column has room for, and what a row costs in all of them.
  int64_t row_capacity_ = 0;
  int64_t row_bytes_ = 0;
  // Charged for the duration of the load only; released by the destructor.
  int64_t temporary_bytes_ = 0;
  bool out_of_memory_reported_ = false;
  int64_t refunds_ = 0;
  // invoice_lines: (invoice code, line_no) pairs seen, packed into 64 bits
  // (half the memory of pairs: 5M lines ~ 50 MB); line numbers outside
  // [0, 2^32) go to the second set.
  absl::flat_hash_set<uint64_t> invoice_lines_;
  absl::flat_hash_set<std::pair<int32_t, int64_t>> odd_invoice_lines_;
  HashCharge invoice_lines_charge_;
  HashCharge odd_invoice_lines_charge_;
  // Column indexes used by row checks; -1 where the table has no such column.
  int status_ = -1, starts_at_ = -1, booked_at_ = -1, patient_id_ = -1, client_id_ = -1, fte_ = -1,
      duration_ = -1, invoice_id_ = -1, line_no_ = -1, quantity_ = -1, unit_price_ = -1,
      discount_ = -1, amount_ = -1;
};

bool TableLoader::ReadHeader(CsvReader& reader) {
  absl::StatusOr<bool> more = reader.Next();
  if (!more.ok()) {
    Problem(reader.line(), "", "", std::string(more.status().message()));
    return false;
  }
  if (!*more) {
    Problem(0, "", "", "file is empty (no header)");
    return false;
  }
  const std::vector<absl::string_view>& header = reader.fields();
  header_fields_ = header.size();

  // Export name (lower case, trimmed) -> canonical name, from the mapping.
  std::map<std::string, std::string> renames;
  // The mapping's own spelling of each export name, until the header has it.
  std::map<std::string, std::string> unmatched;
  if (auto it = mapping_.columns.find(spec_.name); it != mapping_.columns.end()) {
    for (const auto& [from, to] : it->second) {
      const std::string key = Lower(absl::StripAsciiWhitespace(from));
      renames[key] = to;
      unmatched[key] = from;
    }
  }
  builders_.resize(spec_.columns.size());
  for (size_t i = 0; i < spec_.columns.size(); ++i) {
    builders_[i].spec = &spec_.columns[i];
  }
  std::vector<std::string> extra;
  size_t extra_columns = 0;
  bool ok = true;
  for (size_t f = 0; f < header.size(); ++f) {
    if (!IsValidUtf8(header[f])) {
      Problem(reader.line(), "", header[f],
              "column name is not valid UTF-8 (save the file as UTF-8)");
      ok = false;
      continue;
    }
    std::string name = Lower(absl::StripAsciiWhitespace(header[f]));
    unmatched.erase(name);
    if (auto it = renames.find(name); it != renames.end()) name = it->second;
    int index = Index(name);
    if (index < 0) {
      // Named in a warning: a few, each shortened, whatever the header holds.
      if (extra.size() < kMaxNamedExtraColumns) {
        extra.push_back(DisplayValue(absl::StripAsciiWhitespace(header[f])));
      }
      ++extra_columns;
      continue;
    }
    if (builders_[index].source >= 0) {
      Problem(reader.line(), name, header[f], "column appears twice");
      ok = false;
      continue;
    }
    builders_[index].source = static_cast<int>(f);
  }

  // A mapping that names a column the export does not have is a mistake in
  // the mapping (or the wrong export): say which, rather than import
  // without it.
  for (const auto& [key, from] : unmatched) {
    Problem(reader.line(), renames[key], DisplayValue(from),
            "the mapping renames this column, but the export has no column of that name");
    ok = false;
  }

  std::vector<std::string> missing;
  for (const ColumnBuilder& b : builders_) {
    if (b.source < 0 && !b.spec->optional) missing.push_back(b.spec->name);
  }
  if (!missing.empty() && header.size() == 1) {
    // One column where several were expected: the wrong delimiter.
    for (char d : {';', '\t', '|'}) {
      if (header[0].find(d) != absl::string_view::npos) {
        Problem(reader.line(), "", header[0],
                absl::StrCat("the file looks like it uses '", d == '\t' ? "\\t" : std::string(1, d),
                             "' as the delimiter; expected ','"));
        return false;
      }
    }
  }
  for (const std::string& m : missing) {
    Problem(reader.line(), m, "", "required column is missing");
    ok = false;
  }
  if (!extra.empty()) {
    std::string more;
    if (extra_columns > extra.size()) {
      more = absl::StrCat(" and ", extra_columns - extra.size(), " more");
    }
    warnings_->push_back(absl::StrCat(
        spec_.name, ": ignoring columns not in the schema: ", absl::StrJoin(extra, ", "), more));
  }
  if (!ok) return false;

  for (ColumnBuilder& b : builders_) {
    const ColumnSpec& c = *b.spec;
    b.column.name = c.name;
    b.column.type = c.type;
    b.column.personal = c.personal;
    if (auto t = mapping_.formats.find(spec_.name); t != mapping_.formats.end()) {
      if (auto f = t->second.find(c.name); f != t->second.end()) {
        b.format = &f->second;
      }
    }
    if (c.type == FieldType::kRef) {
      auto it = loaded_.find(c.references);
      if (it != loaded_.end() && it->second.usable) b.target = &it->second;
    }
    if (c.type == FieldType::kEnum) {
      // Codes are the index in the schema's list of allowed values.
      b.column.dictionary = c.allowed_values;
    }
  }
  status_ = Index("status");
  starts_at_ = Index("starts_at");
  booked_at_ = Index("booked_at");
  patient_id_ = Index("patient_id");
  client_id_ = Index("client_id");
  fte_ = Index("fte");
  duration_ = Index("duration_min");
  invoice_id_ = Index("invoice_id");
  line_no_ = Index("line_no");
  quantity_ = Index("quantity");
  unit_price_ = Index("unit_price");
  discount_ = Index("discount");
  amount_ = Index("amount");
  return true;
}

void TableLoader::ParseField(ColumnBuilder& b, absl::string_view raw, int64_t line) {
  const ColumnSpec& c = *b.spec;
  TypedColumn& col = b.column;
  b.bad = false;
  auto push_null = [&] { AppendNull(col, c.type); };
  auto fail = [&](std::string message) {
    Problem(line, c.name, raw, std::move(message), c.personal);
    b.bad = true;
    push_null();
  };
  if (!IsValidUtf8(raw)) {
    fail("not valid UTF-8 (save the file as UTF-8)");
    return;
  }
  absl::string_view v = c.type == FieldType::kText ? raw : Trim(raw);
  if (v.empty()) {
    if (c.name == "fte") {  // optional, default 1.0
      col.valid.push_back(1);
      col.numbers.push_back(1.0);
    } else if (c.optional || c.type == FieldType::kText) {
      // Text may be empty (a client without a first name is no reason to
      // refuse an import); it is null then.
      push_null();
    } else {
      fail("required value is empty");
    }
    return;
  }
  switch (c.type) {
    case FieldType::kEnum: {
      std::string lowered;
      if (c.name == "sex" && spec_.name == "patients") {
        lowered = Lower(v);
        v = lowered;
      }
      // A handful of values: a scan beats hashing.
      for (size_t k = 0; k < c.allowed_values.size(); ++k) {
        if (c.allowed_values[k] == v) {
          col.codes.push_back(static_cast<int32_t>(k));
          col.valid.push_back(1);
          return;
        }
      }
      fail(absl::StrCat("not one of: ", absl::StrJoin(c.allowed_values, ", ")));
      return;
    }
    case FieldType::kRef:
      if (b.target != nullptr) {
        // Codes are the referenced table's id codes (see Load()). Lines of
        // one invoice repeat their refs: check the last one first.
        if (b.last < 0 || (*b.target->dictionary)[b.last] != v) {
          auto it = b.target->ids.find(v);
          if (it == b.target->ids.end()) {
            fail(absl::StrCat("no such ", c.references, " id"));
            return;
          }
          b.last = it->second;
        }
        col.codes.push_back(b.last);
        col.valid.push_back(1);
        return;
      }
      [[fallthrough]];  // the referenced table did not load: just encode
    case FieldType::kId:
    case FieldType::kText: {
      if (b.last >= 0 && col.dictionary[b.last] == v) {
        if (c.type == FieldType::kId) {
          Problem(line, c.name, raw, "duplicate id", c.personal);
          b.bad = true;
        }
      } else {
        bool inserted;
        int32_t code = Intern(b, v, line, &inserted);
        if (code < 0) {  // out of memory: the load stops after this row
          b.bad = true;
          push_null();
          return;
        }
        if (!inserted && c.type == FieldType::kId) {
          Problem(line, c.name, raw, "duplicate id", c.personal);
          b.bad = true;
        }
        b.last = code;
      }
      col.codes.push_back(b.last);
      col.valid.push_back(1);
      return;
    }
    case FieldType::kDate:
    case FieldType::kDateTime: {
      if (b.last_date_ok && v == b.last_date_text) {
        col.ints.push_back(b.last_date_value);
        col.valid.push_back(1);
        return;
      }
      int64_t seconds;
      if (b.format != nullptr) {
        if (!ParseWithFormat(*b.format, v, &seconds)) {
          fail(absl::StrCat("not a date in the mapping's format ", *b.format));
          return;
        }
      } else if (c.type == FieldType::kDate) {
        absl::CivilDay day;
        if (!ParseIsoDate(v, &day)) {
          fail("not a date (YYYY-MM-DD)");
          return;
        }
        seconds = (day - absl::CivilDay(1970, 1, 1)) * kSecondsPerDay;
      } else {
        absl::CivilSecond t;
        if (!ParseIsoDateTime(v, &t)) {
          fail("not a datetime (YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS)");
          return;
        }
        seconds = t - absl::CivilSecond(1970, 1, 1, 0, 0, 0);
      }
      col.ints.push_back(c.type == FieldType::kDate ? FloorDiv(seconds, kSecondsPerDay) : seconds);
      col.valid.push_back(1);
      b.last_date_text.assign(v.data(), v.size());
      b.last_date_value = col.ints.back();
      b.last_date_ok = true;
      return;
    }
    case FieldType::kInt: {
      int64_t n;
      if (!ParseInt(v, &n)) {
        fail("not a whole number");
        return;
      }
      col.ints.push_back(n);
      col.valid.push_back(1);
      return;
    }
    case FieldType::kDecimal: {
      double d;
      switch (ParseDecimal(v, &d)) {
        case NumberError::kNone:
          col.numbers.push_back(d);
          col.valid.push_back(1);
          return;
        case NumberError::kComma:
          fail("not a number: use '.' as the decimal separator, no commas");
          return;
        case NumberError::kBad:
          fail("not a number");
          return;
      }
    }
  }
}

void TableLoader::CheckRow(const std::vector<absl::string_view>& fields, int64_t line) {
  // Dates after the as-of day, one day of slack for time zones.
  const bool scheduled = is_appointments_ && Str(status_) == "scheduled";
  for (size_t i = 0; i < builders_.size(); ++i) {
    const ColumnBuilder& b = builders_[i];
    if (b.bad || !b.column.valid.back()) continue;
    int64_t days;
    if (b.spec->type == FieldType::kDate) {
      days = b.column.ints.back();
    } else if (b.spec->type == FieldType::kDateTime) {
      if (scheduled) continue;
      days = FloorDiv(b.column.ints.back(), kSecondsPerDay);
    } else {
      continue;
    }
    if (days > as_of_days_ + 1) {
      Problem(line, b.spec->name, Raw(fields, static_cast<int>(i)),
              absl::StrCat("after the as-of date ", absl::FormatCivilTime(options_.as_of)),
              b.spec->personal);
    }
  }

  int64_t n;
  double d;
  if (fte_ >= 0 && Num(fte_, &d) && !(d > 0 && d <= 1.5)) {
    Problem(line, "fte", Raw(fields, fte_), "fte must be > 0 and <= 1.5");
  }
  if (duration_ >= 0 && Int(duration_, &n) && n <= 0) {
    Problem(line, "duration_min", Raw(fields, duration_), "duration_min must be > 0");
  }
  if (is_appointments_ && patient_owner_ != nullptr && !builders_[patient_id_].bad &&
      !builders_[client_id_].bad && builders_[patient_id_].target != nullptr) {
    absl::string_view patient = Str(patient_id_);
    absl::string_view client = Str(client_id_);
    const LoadedTable& target = *builders_[patient_id_].target;
    auto it = target.ids.find(patient);
    int32_t row = it == target.ids.end() ? -1 : target.row_of_code[it->second];
    const TypedColumn* owner = patient_owner_;
    if (!patient.empty() && !client.empty() && row >= 0 && owner != nullptr && owner->valid[row] &&
        owner->dictionary[owner->codes[row]] != client) {
      Problem(line, "client_id", Raw(fields, client_id_),
              absl::StrCat("not the owner of patient ", DisplayValue(patient)));
    }
  }
  if (!is_invoice_lines_) return;
  double discount;
  if (Num(discount_, &discount) && discount < 0) {
    Problem(line, "discount", Raw(fields, discount_), "discount must be >= 0");
  }
  double quantity, price, amount;
  if (Num(quantity_, &quantity)) {
    if (quantity < 0) ++refunds_;
    if (Num(unit_price_, &price) && Num(discount_, &discount) && Num(amount_, &amount)) {
      double expected = quantity * price - discount;
      // "To the cent": the exact product may need rounding by up to half a
      // cent; the epsilon absorbs binary representation error.
      if (std::fabs(expected - amount) > 0.005 + 1e-7 * (1 + std::fabs(amount))) {
        Problem(line, "amount", Raw(fields, amount_),
                absl::StrCat("amount must be quantity * unit_price - discount (",
                             absl::SixDigits(expected), ")"));
      }
    }
  }
  if (Int(line_no_, &n) && !builders_[invoice_id_].bad &&
      builders_[invoice_id_].column.valid.back()) {
    int32_t invoice = builders_[invoice_id_].column.codes.back();
    const bool packed = n >= 0 && n <= int64_t{0xFFFFFFFF};
    const bool room =
        packed ? ReserveHash(invoice_lines_, invoice_lines_charge_, sizeof(uint64_t), line)
               : ReserveHash(odd_invoice_lines_, odd_invoice_lines_charge_,
                             sizeof(std::pair<int32_t, int64_t>), line);
    if (!room) return;  // out of memory: the load stops after this row
    const bool fresh =
        packed
            ? invoice_lines_.insert(static_cast<uint64_t>(invoice) << 32 | static_cast<uint64_t>(n))
                  .second
            : odd_invoice_lines_.insert({invoice, n}).second;
    if (!fresh) {
      Problem(line, "line_no", Raw(fields, line_no_),
              absl::StrCat("line_no appears twice in invoice ", DisplayValue(Str(invoice_id_))));
    }
  }
}

void TableLoader::NoteBrokenRecord(const std::vector<absl::string_view>& fields, int64_t line) {
  if (problems_->full()) return;
  for (ColumnBuilder& b : builders_) {
    if (b.spec->type != FieldType::kId || b.source < 0 ||
        static_cast<size_t>(b.source) >= fields.size()) {
      continue;
    }
    absl::string_view id = absl::StripAsciiWhitespace(fields[b.source]);
    bool inserted = false;
    // Out of memory: Intern() said so, and the load stops after this record.
    if (!id.empty()) Intern(b, id, line, &inserted);
  }
}

void TableLoader::OutOfMemory(int64_t line) {
  if (out_of_memory_reported_) return;
  out_of_memory_reported_ = true;
  Problem(line, "", "",
          absl::StrCat("the import needs more than the ", account_->limit() >> 20,
                       " MiB of memory the server allows one import; stopped "
                       "reading here"));
}

bool TableLoader::ReserveRow(int64_t line) {
  if (rows_ < row_capacity_) return true;
  // Growing by half keeps the unused tail of every column under a third.
  const int64_t capacity = std::max<int64_t>(1024, row_capacity_ * 3 / 2);
  // While a vector moves, its old block is still held: at most 8 bytes a row.
  if (!account_->Charge((capacity - row_capacity_) * row_bytes_,
                        /*transient=*/row_capacity_ * 8)) {
    OutOfMemory(line);
    return false;
  }
  for (ColumnBuilder& b : builders_) {
    TypedColumn& col = b.column;
    col.valid.reserve(static_cast<size_t>(capacity));
    switch (b.spec->type) {
      case FieldType::kInt:
      case FieldType::kDate:
      case FieldType::kDateTime:
        col.ints.reserve(static_cast<size_t>(capacity));
        break;
      case FieldType::kDecimal:
        col.numbers.reserve(static_cast<size_t>(capacity));
        break;
      default:
        col.codes.reserve(static_cast<size_t>(capacity));
    }
  }
  row_capacity_ = capacity;
  return true;
}

template <typename Table>
bool TableLoader::ReserveHash(Table& table, HashCharge& charge, int64_t slot_bytes, int64_t line) {
  if (table.size() < charge.reserved) return true;
  // The size the table would grow to by itself: twice the slots.
  const size_t slots = std::max<size_t>(63, table.capacity() * 2 + 1);
  const int64_t estimate = static_cast<int64_t>(slots) * (slot_bytes + 1);
  // A rehash holds the old slots until the new ones are filled.
  if (!account_->Charge(estimate, /*transient=*/charge.bytes)) {
    OutOfMemory(line);
    return false;
  }
  table.reserve(HashGrowthOf(slots));
  const int64_t actual = static_cast<int64_t>(table.capacity()) * (slot_bytes + 1);
  account_->Adjust(actual - estimate - charge.bytes);
  charge.reserved = HashGrowthOf(table.capacity());
  charge.bytes = actual;
  return true;
}

template <typename T>
bool TableLoader::ReserveVector(std::vector<T>& v, int64_t line) {
  if (v.size() < v.capacity()) return true;
  const size_t capacity = std::max<size_t>(64, v.capacity() * 2);
  const int64_t element = static_cast<int64_t>(sizeof(T));
  if (!account_->Charge(static_cast<int64_t>(capacity - v.capacity()) * element,
                        /*transient=*/static_cast<int64_t>(v.capacity()) * element)) {
    OutOfMemory(line);
    return false;
  }
  v.reserve(capacity);
  return true;
}

int32_t TableLoader::Intern(ColumnBuilder& b, absl::string_view v, int64_t line, bool* inserted) {
  *inserted = false;
  if (auto it = b.dict.find(v); it != b.dict.end()) return it->second;
  // A new string is held twice, as the index's key and in the dictionary.
  const int64_t heap = StringHeapBytes(v.size());
  constexpr int64_t kSlotBytes = sizeof(std::pair<const std::string, int32_t>);
  if (!ReserveHash(b.dict, b.dict_charge, kSlotBytes, line) ||
      !ReserveVector(b.column.dictionary, line)) {
    return -1;
  }
  if (!account_->Charge(2 * heap)) {
    OutOfMemory(line);
    return -1;
  }
  const auto code = static_cast<int32_t>(b.column.dictionary.size());
  b.dict.emplace(v, code);
  b.column.dictionary.emplace_back(v);
  b.string_bytes += heap;
  *inserted = true;
  return code;
}

void TableLoader::Load(const std::string& path, TypedTable* table, LoadedTable* self) {
  table->name = spec_.name;
  CsvReader::Options reader_options;
  // A record with more fields than the table can have is refused at once.
  reader_options.max_fields =
      spec_.columns.size() + static_cast<size_t>(options_.max_extra_columns);
  // The reader's worst case (csv.h), charged whatever the file holds.
  const int64_t reader_bytes =
      static_cast<int64_t>(reader_options.buffer_size + 2 * reader_options.max_record_bytes);
  if (!account_->Charge(reader_bytes)) {
    OutOfMemory(0);
    return;
  }
  temporary_bytes_ += reader_bytes;
  absl::StatusOr<std::unique_ptr<CsvReader>> reader = CsvReader::Open(path, reader_options);
  if (!reader.ok()) {
    Problem(0, "", "",
            reader.status().code() == absl::StatusCode::kNotFound
                ? absl::StrCat("file not found: ", path)
                : std::string(reader.status().message()));
    return;
  }
  if (!ReadHeader(**reader)) return;
  self->usable = true;
  for (const ColumnBuilder& b : builders_) row_bytes_ += RowBytes(b.spec->type);

  int64_t line = (*reader)->line();
  while (!account_->exhausted()) {
    absl::StatusOr<bool> more = (*reader)->Next();
    if (!more.ok()) {
      // Malformed CSV: the reader's message names the line; nothing after it
      // can be trusted.
      Problem((*reader)->line(), "", "", std::string(more.status().message()));
      break;
    }
    if (!*more) break;
    const std::vector<absl::string_view>& fields = (*reader)->fields();
    line = (*reader)->line();
    if (fields.size() != header_fields_) {
      Problem(
          line, "", "",
          absl::StrCat("record has ", fields.size(), " fields, the header has ", header_fields_));
      NoteBrokenRecord(fields, line);
      continue;
    }
    if (!ReserveRow(line)) break;
    for (ColumnBuilder& b : builders_) {
      ParseField(b, b.source < 0 ? absl::string_view() : fields[b.source], line);
    }
    CheckRow(fields, line);
    ++rows_;
  }
  Finish(line, table, self);
}

void TableLoader::Finish(int64_t line, TypedTable* table, LoadedTable* self) {
  table->rows = rows_;
  if (rows_ == 0) {
    warnings_->push_back(absl::StrCat(spec_.name, " has no rows"));
  }
  if (refunds_ > 0) {
    warnings_->push_back(absl::StrCat(refunds_, " refund lines with negative quantity"));
  }
  for (ColumnBuilder& b : builders_) {
    if (b.target != nullptr) {
      // Each ref column keeps its own copy of the referenced ids.
      if (!account_->Charge(b.target->dictionary_bytes)) {
        OutOfMemory(line);
      } else {
        b.column.dictionary = *b.target->dictionary;
      }
    }
    if (b.spec->type == FieldType::kId) {
      // The index stays charged: later tables resolve refs through it.
      self->ids = std::move(b.dict);
      self->dictionary_bytes =
          static_cast<int64_t>(b.column.dictionary.size() * sizeof(std::string)) + b.string_bytes;
      if (!account_->Charge(static_cast<int64_t>(b.column.dictionary.size() * sizeof(int32_t)))) {
        OutOfMemory(line);
      } else {
        self->row_of_code.assign(b.column.dictionary.size(), -1);
        for (size_t r = 0; r < b.column.codes.size(); ++r) {
          int32_t code = b.column.codes[r];
          if (code >= 0 && self->row_of_code[code] < 0) {
            self->row_of_code[code] = static_cast<int32_t>(r);
          }
        }
      }
    } else {
      // The index and its copies of the strings go with the loader.
      temporary_bytes_ += b.dict_charge.bytes + b.string_bytes;
    }
    table->columns.push_back(std::move(b.column));
  }
  temporary_bytes_ += invoice_lines_charge_.bytes + odd_invoice_lines_charge_.bytes;
  for (const TypedColumn& c : table->columns) {
    if (c.type == FieldType::kId) self->dictionary = &c.dictionary;
  }
}

// ---------------------------------------------------------------------------
// Mapping JSON.

absl::Status MappingError(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("column mapping: ", path, ": ", what));
}

}  // namespace

absl::StatusOr<ColumnMapping> ParseColumnMapping(absl::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat("column mapping: $: malformed JSON at offset ", doc.GetErrorOffset(), ": ",
                     rapidjson::GetParseError_En(doc.GetParseError())));
  }
  if (!doc.IsObject()) return MappingError("$", "expected an object");
  ColumnMapping mapping;
  for (auto& top : doc.GetObject()) {
    std::string key(top.name.GetString(), top.name.GetStringLength());
    if (key != "tables") return MappingError("$." + key, "unknown key");
    if (!top.value.IsObject()) {
      return MappingError("$.tables", "expected an object");
    }
    for (auto& t : top.value.GetObject()) {
      std::string table(t.name.GetString(), t.name.GetStringLength());
      std::string tpath = "$.tables." + table;
      const TableSpec* spec = FindTable(table);
      if (spec == nullptr) return MappingError(tpath, "unknown table");
      if (!t.value.IsObject()) return MappingError(tpath, "expected an object");
      for (auto& section : t.value.GetObject()) {
        std::string name(section.name.GetString(), section.name.GetStringLength());
        std::string spath = absl::StrCat(tpath, ".", name);
        if (name != "columns" && name != "formats") {
          return MappingError(spath, "unknown key (columns, formats)");
        }
        if (!section.value.IsObject()) {
          return MappingError(spath, "expected an object");
        }
        std::map<std::string, std::string> canonical_seen;
        for (auto& entry : section.value.GetObject()) {
          std::string from(entry.name.GetString(), entry.name.GetStringLength());
          std::string epath = absl::StrCat(spath, ".", from);
          if (!entry.value.IsString()) {
            return MappingError(epath, "expected a string");
          }
          std::string value(entry.value.GetString(), entry.value.GetStringLength());
          if (name == "columns") {
            const ColumnSpec* column = spec->FindColumn(value);
            if (column == nullptr) {
              return MappingError(epath,
                                  absl::StrCat("unknown column ", value, " of table ", table));
            }
            if (!canonical_seen.emplace(value, from).second) {
              return MappingError(
                  epath, absl::StrCat(value, " is already mapped from ", canonical_seen[value]));
            }
            mapping.columns[table][from] = value;
          } else {
            const ColumnSpec* column = spec->FindColumn(from);
            if (column == nullptr) {
              return MappingError(epath, absl::StrCat("unknown column of ", table));
            }
            if (column->type != FieldType::kDate && column->type != FieldType::kDateTime) {
              return MappingError(epath, "not a date or datetime column");
            }
            if (value.empty()) return MappingError(epath, "empty format");
            mapping.formats[table][from] = value;
          }
        }
      }
    }
  }
  return mapping;
}

ImportOutcome ValidateImportDetailed(const std::map<std::string, std::string>& files,
                                     const ColumnMapping& mapping, const ImportOptions& options) {
  ImportOutcome outcome;
  Problems problems(&outcome, options.max_problems);
  MemoryAccount account(options.max_memory_bytes);
  for (const auto& [name, path] : files) {
    if (FindTable(name) == nullptr) {
      problems.Add(name, 0, "", "", "not a table of the schema");
    }
  }
  std::map<std::string, LoadedTable> loaded;
  // Stable addresses: loaders keep a pointer to the patients table.
  outcome.result.tables.reserve(CanonicalSchema().size());
  for (const TableSpec& spec : CanonicalSchema()) {
    TypedTable& table = outcome.result.tables.emplace_back();
    table.name = spec.name;
    auto file = files.find(spec.name);
    if (file == files.end()) {
      problems.Add(spec.name, 0, "", "", absl::StrCat("no file given for table ", spec.name));
      continue;
    }
    const TypedTable* patients = nullptr;
    auto patients_loaded = loaded.find("patients");
    for (const TypedTable& t : outcome.result.tables) {
      if (t.name == "patients" && patients_loaded != loaded.end() &&
          patients_loaded->second.usable) {
        patients = &t;
      }
    }
    TableLoader loader(spec, mapping, options, loaded, patients, &problems,
                       &outcome.result.warnings, &account);
    loader.Load(file->second, &table, &loaded[spec.name]);
    outcome.result.rows[spec.name] = table.rows;
    if (account.exhausted()) {
      // The tables after this one are not read: the import is refused.
      outcome.memory_limit_reached = true;
      break;
    }
  }
  outcome.peak_memory_bytes = account.peak();
  return outcome;
}

std::string FormatImportProblems(const ImportOutcome& outcome) {
  std::string out = absl::StrCat("import refused: ", outcome.total_problems,
                                 outcome.total_problems == 1 ? " problem" : " problems");
  for (const ImportProblem& p : outcome.problems) {
    absl::StrAppend(&out, "\n", p.table, " line ", p.line);
    if (!p.column.empty()) absl::StrAppend(&out, ", column ", p.column);
    if (!p.value.empty()) absl::StrAppend(&out, ", value \"", p.value, "\"");
    absl::StrAppend(&out, ": ", p.message);
  }
  int64_t more = outcome.total_problems - static_cast<int64_t>(outcome.problems.size());
  if (more > 0) absl::StrAppend(&out, "\n... and ", more, " more problems");
  return out;
}

absl::StatusOr<ImportResult> ValidateImport(const std::map<std::string, std::string>& files,
                                            const ColumnMapping& mapping,
                                            const ImportOptions& options) {
  ImportOutcome outcome = ValidateImportDetailed(files, mapping, options);
  if (outcome.total_problems == 0 && !outcome.memory_limit_reached) {
    return std::move(outcome.result);
  }
  // Each problem also as a violation a program can read: its place in the
  // upload ("clients.csv:12:email") and what is wrong.
  std::vector<FieldViolation> violations;
  for (const ImportProblem& p : outcome.problems) {
    std::string field = absl::StrCat(p.table, ".csv:", p.line);
    if (!p.column.empty()) absl::StrAppend(&field, ":", p.column);
    std::string description = p.message;
    if (!p.value.empty()) description = absl::StrCat("value \"", p.value, "\": ", p.message);
    violations.push_back({std::move(field), std::move(description)});
  }
  absl::Status refused =
      outcome.memory_limit_reached
          ? WithReason(absl::ResourceExhaustedError(FormatImportProblems(outcome)),
                       reason::kImportTooLarge)
          : WithReason(absl::InvalidArgumentError(FormatImportProblems(outcome)),
                       reason::kImportInvalid,
                       {{"problems", absl::StrCat(outcome.total_problems)}});
  return WithViolations(std::move(refused), violations);
}

}  // namespace vet::data
