// ReadPersonalValues: the columnar dictionaries hold each text column's
// distinct values already; the CSV form is read once, personal columns only.
#include "core/data/personal_values.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/data/csv.h"
#include "core/data/schema.h"
#include "rapidjson/document.h"

namespace vet::data {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Distinct, trimmed, non-empty.
class Collector {
 public:
  void Add(absl::string_view value) {
    value = absl::StripAsciiWhitespace(value);
    if (value.empty() || !seen_.insert(std::string(value)).second) return;
    values_.emplace_back(value);
  }
  std::vector<std::string> Take() { return std::move(values_); }

 private:
  absl::flat_hash_set<std::string> seen_;
  std::vector<std::string> values_;
};

absl::StatusOr<std::vector<std::string>> ReadDictionary(const std::string& table,
                                                        const std::string& column,
                                                        const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("the dataset has no dictionary for ", table, ".", column));
  }
  std::stringstream text;
  text << in.rdbuf();
  rapidjson::Document doc;
  doc.Parse(text.str().c_str(), text.str().size());
  if (doc.HasParseError() || !doc.IsArray()) {
    return absl::DataLossError(
        absl::StrCat("the dictionary of ", table, ".", column, " is not a JSON array"));
  }
  Collector values;
  for (const rapidjson::Value& v : doc.GetArray()) {
    if (!v.IsString()) {
      return absl::DataLossError(absl::StrCat("the dictionary of ", table, ".", column,
                                              " holds something other than strings"));
    }
    values.Add(absl::string_view(v.GetString(), v.GetStringLength()));
  }
  return values.Take();
}

absl::Status ReadCsvTable(const TableSpec& table, const std::string& path,
                          std::vector<PersonalColumn>& out) {
  VET_ASSIGN_OR_RETURN(std::unique_ptr<CsvReader> reader, CsvReader::Open(path));
  VET_ASSIGN_OR_RETURN(bool has_header, reader->Next());
  if (!has_header) return absl::OkStatus();
  std::vector<std::pair<size_t, size_t>> wanted;  // field index, out index
  const std::vector<absl::string_view>& header = reader->fields();
  for (size_t i = 0; i < header.size(); ++i) {
    absl::string_view name = absl::StripAsciiWhitespace(header[i]);
    const ColumnSpec* spec = table.FindColumn(name);
    if (spec == nullptr || !spec->personal) continue;
    wanted.emplace_back(i, out.size());
    out.push_back({table.name, spec->name, {}});
  }
  if (wanted.empty()) return absl::OkStatus();
  std::vector<Collector> collectors(wanted.size());
  while (true) {
    VET_ASSIGN_OR_RETURN(bool more, reader->Next());
    if (!more) break;
    const std::vector<absl::string_view>& fields = reader->fields();
    for (size_t k = 0; k < wanted.size(); ++k) {
      if (wanted[k].first < fields.size()) collectors[k].Add(fields[wanted[k].first]);
    }
  }
  for (size_t k = 0; k < wanted.size(); ++k) out[wanted[k].second].values = collectors[k].Take();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<PersonalColumn>> ReadPersonalValues(const std::string& data_dir) {
  if (!Exists(data_dir)) {
    return absl::NotFoundError(absl::StrCat("practice has no data yet: ", data_dir, " missing"));
  }
  const bool columnar = Exists(absl::StrCat(data_dir, "/manifest.json"));
  std::vector<PersonalColumn> out;
  for (const TableSpec& table : CanonicalSchema()) {
    bool any = false;
    for (const ColumnSpec& c : table.columns) any = any || c.personal;
    if (!any) continue;
    if (!columnar) {
      const std::string path = absl::StrCat(data_dir, "/", table.name, ".csv");
      VET_RETURN_IF_ERROR(ReadCsvTable(table, path, out));
      continue;
    }
    for (const ColumnSpec& c : table.columns) {
      if (!c.personal) continue;
      const std::string path = absl::StrCat(data_dir, "/", table.name, "/", c.name, ".dict");
      // An optional column the export did not have is not in the dataset.
      if (c.optional && !Exists(path)) continue;
      VET_ASSIGN_OR_RETURN(std::vector<std::string> values,
                           ReadDictionary(table.name, c.name, path));
      out.push_back({table.name, c.name, std::move(values)});
    }
  }
  return out;
}

}  // namespace vet::data
