// The planner's declared enum values must be the schema's, so that a filter
// the planner writes can match the data the import accepts.
#include "core/codegen/semantic_layer.h"

#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/data/schema.h"
#include "gtest/gtest.h"

namespace vet::codegen {
namespace {

TEST(SemanticLayerTest, AttributeValuesAreTheSchemaEnumValues) {
  int checked = 0;
  for (const Attribute& attribute : Attributes()) {
    if (attribute.values.empty()) continue;
    for (int b = 0; b < kBaseCount; ++b) {
      const absl::optional<Source>& source = attribute.sources[b];
      if (!source.has_value()) continue;
      std::string table =
          source->table.empty() ? std::string(BaseTable(static_cast<Base>(b))) : source->table;
      std::string column = source->table.empty() ? source->column : source->value;
      SCOPED_TRACE(absl::StrCat(attribute.id, " from ", table, ".", column));
      const data::TableSpec* spec = data::FindTable(table);
      ASSERT_NE(spec, nullptr);
      const data::ColumnSpec* col = spec->FindColumn(column);
      ASSERT_NE(col, nullptr);
      // A computed attribute (the day of the week of a date, whether an
      // invoice line has an appointment) has values of its own; only its
      // column must exist. PlannerExecTest runs its filters.
      if (!source->transform.empty()) {
        EXPECT_NE(col->type, data::FieldType::kEnum);
        continue;
      }
      ASSERT_EQ(col->type, data::FieldType::kEnum);
      EXPECT_EQ(std::set<std::string>(attribute.values.begin(), attribute.values.end()),
                std::set<std::string>(col->allowed_values.begin(), col->allowed_values.end()));
      ++checked;
    }
  }
  EXPECT_GT(checked, 3);
}

TEST(SemanticLayerTest, EveryFilterWordNamesValuesItsAttributeHas) {
  for (const FilterWord& word : FilterWords()) {
    for (const FilterClause& clause : word.candidates) {
      SCOPED_TRACE(absl::StrCat(word.phrases.at(0), " -> ", clause.attribute));
      const Attribute* attribute = FindAttribute(clause.attribute);
      ASSERT_NE(attribute, nullptr);
      if (attribute->values.empty()) continue;  // free text, e.g. a staff name
      std::set<std::string> known(attribute->values.begin(), attribute->values.end());
      for (const std::string& v : clause.values) EXPECT_TRUE(known.count(v)) << v;
    }
  }
}

// docs/KPIS.md lists every metric the planner knows, with the definition it
// computes, so the page cannot drift from the semantic layer.
TEST(SemanticLayerTest, DocsListEveryMetricWithItsDefinition) {
  std::ifstream in(VET_SOURCE_DIR "/docs/KPIS.md");
  ASSERT_TRUE(in) << "docs/KPIS.md is missing";
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const Metric& m : Metrics()) {
    SCOPED_TRACE(m.id);
    const std::string row = absl::StrCat("| `", m.id, "` | ", m.display, " | ", m.definition, " | ",
                                         absl::StrJoin(m.synonyms, ", "), " |");
    EXPECT_TRUE(absl::StrContains(
        doc, absl::StrCat("| `", m.id, "` | ", m.display, " | ", m.definition, " |")))
        << "add or correct this row:\n"
        << row;
  }
}

}  // namespace
}  // namespace vet::codegen
