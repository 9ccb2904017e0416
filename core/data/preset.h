// Import presets: how to turn one practice management system's own exports
// (ezyVet's report exports, the Covetrus conversion files) into the five
// canonical CSVs, described as data (a JSON file, docs/PRESETS.md) rather
// than code per vendor. A preset names the vendor files it reads by their
// columns, and says how each canonical column is filled: from a vendor
// column, a constant, the first or last date of a key, a line number within
// a key, a value map, or not at all (and why).
#ifndef VET_CORE_DATA_PRESET_H_
#define VET_CORE_DATA_PRESET_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vet::data {

// One kind of vendor file ("ezyVet Invoice Lines Report").
struct PresetSource {
  // A vendor column the preset reads, under the name fills refer to it by.
  struct Column {
    std::string name;
    // Header names that are this column, in order of preference: matched
    // ignoring case and surrounding spaces; '*' matches any run of
    // characters ("Discount(*)").
    std::vector<std::string> headers;
    // A file without it is still this source (its values are then empty).
    bool optional = false;
  };

  std::string name;
  std::string description;
  std::vector<Column> columns;
  // The preset can import without a file of this source.
  bool optional = false;
  // Non-empty: the file is recognised, but nothing is imported from it; why.
  std::string unused;

  const Column* FindColumn(absl::string_view column) const;
};

// How one canonical column is filled.
struct PresetFill {
  enum class Kind {
    kColumn,    // the value of `source_column`
    kValue,     // the constant `value`
    kMin,       // the earliest date of `source_column` over the key's rows
    kMax,       // the latest
    kSequence,  // 1, 2, 3... over the rows with the same `source_column`
    kSum,       // the sum of `sum_columns`, divided by `divided_by` if set
  };

  std::string column;  // the canonical column
  Kind kind = Kind::kColumn;
  std::string source_column;
  std::string value;
  std::vector<std::string> sum_columns;
  std::string divided_by;
  // Vendor value -> canonical value, matched ignoring case and surrounding
  // spaces, '*' as in headers; exact keys are tried before patterns.
  std::vector<std::pair<std::string, std::string>> map;
  bool has_default = false;
  std::string default_value;
  // What an empty vendor value becomes (before the map); unset: empty.
  bool has_if_empty = false;
  std::string if_empty;
  // Date and datetime columns: the candidate absl::ParseTime formats; the
  // first that parses every value of the vendor column is used.
  std::vector<std::string> formats;
  // Non-empty: the value is an assumption, reported with this text.
  std::string assumed;
};

// How one canonical table is made.
struct PresetTable {
  std::string name;
  // Non-empty: the preset writes the table with no rows; why.
  std::string none;
  // The source whose rows make the table: one canonical row per vendor row,
  // or, with `one_row_per`, one per distinct non-empty value of that vendor
  // column (rows with it empty are skipped).
  std::string from;
  std::string one_row_per;
  std::vector<PresetFill> fills;  // schema order
  // Canonical column -> why the preset leaves it empty (optional columns
  // only).
  std::map<std::string, std::string> unfilled;
};

struct Preset {
  std::string name;
  std::string description;
  // Default candidate formats of date and datetime columns.
  std::vector<std::string> date_formats;
  std::vector<std::string> datetime_formats;
  std::vector<PresetSource> sources;
  // The five canonical tables, in schema order.
  std::vector<PresetTable> tables;

  const PresetSource* FindSource(absl::string_view source) const;
};

// True when `text`, trimmed of ASCII spaces, matches `pattern`, ignoring
// ASCII case; '*' in the pattern matches any run of characters (so
// "Discount(*)" matches "Discount($)" and "discount(€) ").
bool MatchesPresetPattern(absl::string_view pattern, absl::string_view text);

// Parses and checks a preset (docs/PRESETS.md). Returns kInvalidArgument
// naming the JSON path that is wrong ("$.tables.patients.columns.species.map:
// ...") for malformed JSON, a value of the wrong type, an unknown key, a
// canonical table missing or unknown, a required canonical column left
// unfilled, a fill naming a vendor column its source does not declare, a map
// value or constant that is not one of an enum column's values, a kind of
// fill the table cannot have (a min without one_row_per, a sequence with
// it, formats on a column that is not a date).
absl::StatusOr<Preset> ParsePreset(absl::string_view json);

// The presets built into the binary (core/data/presets/*.json), by name.
std::vector<std::string> BuiltinPresetNames();

// A built-in preset by name, or, when `name_or_path` ends in ".json" or
// holds a '/', the preset file at that path. kInvalidArgument for an unknown
// name (listing the known ones), an unreadable file (naming it) or a preset
// ParsePreset refuses.
absl::StatusOr<Preset> LoadPreset(absl::string_view name_or_path);

// What a conversion read, wrote and could not do: for people, before the
// upload.
struct PresetReport {
  struct File {
    std::string path;
    std::string source;       // the source's name
    std::string description;  // the source's description
    int64_t rows = 0;         // data rows read (0 for unused sources)
    std::string note;         // e.g. why nothing is imported from it
  };
  struct Ignored {
    std::string path;
    std::string reason;
  };
  struct ColumnNote {
    std::string table;
    std::string column;  // empty: the whole table
    std::string note;
  };

  std::string preset;
  std::vector<File> recognised;
  std::vector<Ignored> ignored;
  // Canonical table -> rows written, in schema order.
  std::vector<std::pair<std::string, int64_t>> rows;
  // Canonical columns (and tables) left empty, and why.
  std::vector<ColumnNote> unfilled;
  // Canonical columns filled by an assumption, and which.
  std::vector<ColumnNote> assumed;
  // The date format chosen for each vendor date column, values a map did not
  // know and took its default for, and the like.
  std::vector<ColumnNote> notes;
};

// Reads every regular file in `in_dir`, recognises the preset's sources by
// their header (a file whose header holds all of a source's required
// columns is that source; several files may be one source, and are read in
// name order), and writes clients.csv, patients.csv, staff.csv,
// appointments.csv and invoice_lines.csv into `out_dir` (which must exist).
// The output is for the import's validation (import_validator.h) to judge:
// the converter checks only what it needs to convert.
//
// Memory: vendor files are streamed twice (once to choose date formats),
// record by record; what is held grows with the distinct keys of the
// one_row_per tables and the distinct values of sequence columns (e.g.
// clients, animals, staff and invoices), not with the rows.
//
// Returns kInvalidArgument, naming file, line and column where there is
// one, for: a folder with no recognisable file; a file matching two
// sources; a required source with no file (naming the file that looks like
// it and the column it lacks, if any); a value that parses in none of a
// date column's formats; a number that is not one; a value a map does not
// know when it has no default. kNotFound when `in_dir` is not a folder;
// kInternal for an I/O failure writing `out_dir`.
absl::StatusOr<PresetReport> ConvertWithPreset(const Preset& preset, const std::string& in_dir,
                                               const std::string& out_dir);

}  // namespace vet::data

#endif  // VET_CORE_DATA_PRESET_H_
