// For tests and benchmarks only: builds a TypedTable from rows of CSV field
// text, column by column in the schema's types, so that one set of rows can be
// written both as CSV and in the columnar form. Not the import: it checks
// nothing, and an empty or unparsable field is a null.
#ifndef VET_CORE_DATA_TESTING_TYPED_TABLE_BUILDER_H_
#define VET_CORE_DATA_TESTING_TYPED_TABLE_BUILDER_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/types/span.h"
#include "core/data/schema.h"
#include "core/data/typed_table.h"

namespace vet::data::testing {

class TypedTableBuilder {
 public:
  // `header` names the fields of each row; every name must be a column of
  // `spec`. Schema columns missing from the header are all null.
  TypedTableBuilder(const TableSpec& spec, absl::Span<const std::string> header) {
    table_.name = spec.name;
    field_of_column_.assign(spec.columns.size(), -1);
    for (size_t i = 0; i < spec.columns.size(); ++i) {
      TypedColumn c;
      c.name = spec.columns[i].name;
      c.type = spec.columns[i].type;
      c.personal = spec.columns[i].personal;
      table_.columns.push_back(std::move(c));
      for (size_t f = 0; f < header.size(); ++f) {
        if (header[f] == spec.columns[i].name) {
          field_of_column_[i] = static_cast<int>(f);
        }
      }
    }
    dictionaries_.resize(spec.columns.size());
  }

  template <typename Field>
  void AddRow(absl::Span<const Field> fields) {
    for (size_t i = 0; i < table_.columns.size(); ++i) {
      const int f = field_of_column_[i];
      Add(i, f < 0 ? absl::string_view() : absl::string_view(fields[static_cast<size_t>(f)]));
    }
    ++table_.rows;
  }

  TypedTable Build() && { return std::move(table_); }

 private:
  static bool ParseDay(absl::string_view s, int64_t* days) {
    absl::CivilDay day;
    if (s.size() != 10 || !absl::ParseCivilTime(s, &day)) return false;
    *days = day - absl::CivilDay(1970, 1, 1);
    return true;
  }

  static bool ParseSecond(absl::string_view s, int64_t* seconds) {
    std::string text(s);
    if (text.size() > 10 && text[10] == ' ') text[10] = 'T';
    if (text.size() == 16) text += ":00";
    absl::CivilSecond second;
    if (text.size() != 19 || !absl::ParseCivilTime(text, &second)) return false;
    *seconds = second - absl::CivilSecond(1970, 1, 1, 0, 0, 0);
    return true;
  }

  void Add(size_t i, absl::string_view v) {
    TypedColumn& c = table_.columns[i];
    bool ok = !v.empty();
    switch (c.type) {
      case FieldType::kInt:
      case FieldType::kDate:
      case FieldType::kDateTime: {
        int64_t x = 0;
        if (ok) {
          ok = c.type == FieldType::kInt    ? absl::SimpleAtoi(v, &x)
               : c.type == FieldType::kDate ? ParseDay(v, &x)
                                            : ParseSecond(v, &x);
        }
        c.ints.push_back(ok ? x : 0);
        break;
      }
      case FieldType::kDecimal: {
        double x = 0;
        if (ok) ok = absl::SimpleAtod(v, &x);
        c.numbers.push_back(ok ? x : std::nan(""));
        break;
      }
      default: {
        int32_t code = 0;
        if (ok) {
          auto [it, inserted] = dictionaries_[i].try_emplace(
              std::string(v), static_cast<int32_t>(c.dictionary.size()));
          if (inserted) c.dictionary.emplace_back(v);
          code = it->second;
        }
        c.codes.push_back(code);
        break;
      }
    }
    // `valid` stays empty until the first null.
    if (!ok && c.valid.empty()) {
      c.valid.assign(static_cast<size_t>(table_.rows), 1);
      c.valid.push_back(0);
    } else if (!c.valid.empty()) {
      c.valid.push_back(ok ? 1 : 0);
    }
  }

  TypedTable table_;
  std::vector<int> field_of_column_;
  std::vector<absl::flat_hash_map<std::string, int32_t>> dictionaries_;
};

}  // namespace vet::data::testing

#endif  // VET_CORE_DATA_TESTING_TYPED_TABLE_BUILDER_H_
