// The canonical schema v1 as data, transcribed from DATA_SCHEMA.md: every
// table, column, type, personal-data flag, optional flag, reference and enum
// value. Change it only together with that document.
#include "core/data/schema.h"

#include <utility>

namespace vet::data {
namespace {

// Builders that keep the table below readable: one line per column.
ColumnSpec Column(std::string name, FieldType type, std::string description) {
  ColumnSpec c;
  c.name = std::move(name);
  c.type = type;
  c.description = std::move(description);
  return c;
}

ColumnSpec Personal(ColumnSpec c) {
  c.personal = true;
  return c;
}

ColumnSpec Optional(ColumnSpec c) {
  c.optional = true;
  return c;
}

ColumnSpec Ref(std::string name, std::string table, std::string description) {
  ColumnSpec c = Column(std::move(name), FieldType::kRef, std::move(description));
  c.references = std::move(table);
  return c;
}

ColumnSpec Enum(std::string name, std::vector<std::string> values, std::string description) {
  ColumnSpec c = Column(std::move(name), FieldType::kEnum, std::move(description));
  c.allowed_values = std::move(values);
  return c;
}

std::vector<TableSpec> BuildSchema() {
  using T = FieldType;
  std::vector<TableSpec> tables;

  tables.push_back(
      TableSpec{"clients",
                "the animal owners",
                {
                    Column("client_id", T::kId, "the client's id"),
                    Personal(Column("first_name", T::kText, "the owner's first name")),
                    Personal(Column("last_name", T::kText, "the owner's last name")),
                    Optional(Personal(Column("email", T::kText, "the owner's email address"))),
                    Optional(Personal(Column("phone", T::kText, "the owner's phone number"))),
                    Optional(Personal(Column("postal_code", T::kText, "the owner's postal code"))),
                    Optional(Column("created_on", T::kDate,
                                    "the day the client registered (empty where the "
                                    "export does not say)")),
                    Enum("status", {"active", "inactive"}, "whether the client is still active"),
                }});

  tables.push_back(TableSpec{
      "patients",
      "the animals",
      {
          Column("patient_id", T::kId, "the animal's id"),
          Ref("client_id", "clients", "the owner"),
          Personal(Column("name", T::kText, "the animal's name (identifies its owner)")),
          Enum("species",
               {"canine", "feline", "rabbit", "avian", "reptile", "rodent", "equine", "other"},
               "the animal's species"),
          Optional(Column("breed", T::kText, "the breed")),
          Optional(Enum("sex", {"m", "f", "mn", "fs"},
                        "male, female, male neutered, female spayed; upper "
                        "case tolerated; empty where the export does not "
                        "say")),
          Optional(Column("birth_date", T::kDate, "the animal's date of birth")),
          Enum("status", {"active", "deceased"}, "whether the animal is alive"),
      }});

  tables.push_back(
      TableSpec{"staff",
                "the practice's staff",
                {
                    Column("staff_id", T::kId, "the staff member's id"),
                    Column("full_name", T::kText,
                           "the staff member's name (not personal data here: managers ask "
                           "which vet and expect names)"),
                    Optional(Enum("role", {"veterinarian", "technician", "receptionist", "manager"},
                                  "the staff member's role (empty where the export "
                                  "does not say)")),
                    Optional(Column("hired_on", T::kDate, "the day the staff member was hired")),
                    Optional(Column("fte", T::kDecimal,
                                    "full-time equivalent, 0 < fte <= 1.5 (default 1.0)")),
                }});

  tables.push_back(
      TableSpec{"appointments",
                "booked visits",
                {
                    Column("appointment_id", T::kId, "the appointment's id"),
                    Ref("patient_id", "patients", "the animal seen"),
                    Ref("client_id", "clients", "the patient's owner"),
                    Ref("staff_id", "staff", "the attending vet"),
                    Column("starts_at", T::kDateTime, "when the appointment starts"),
                    Column("duration_min", T::kInt, "length in minutes, > 0"),
                    Enum("type",
                         {"wellness", "vaccination", "sick", "recheck", "surgery", "dental",
                          "emergency", "grooming"},
                         "the kind of visit"),
                    Enum("status", {"completed", "no_show", "cancelled", "scheduled"},
                         "what became of the appointment"),
                    Optional(Column("booked_at", T::kDateTime, "when the booking was made")),
                }});

  tables.push_back(TableSpec{
      "invoice_lines",
      "revenue, one row per invoice line",
      {
          Column("invoice_id", T::kText, "the invoice, repeated across its lines"),
          Column("line_no", T::kInt, "the line number, unique within an invoice"),
          Column("invoiced_on", T::kDate, "the day of the invoice"),
          Ref("client_id", "clients", "the client charged"),
          Optional(Ref("patient_id", "patients", "the animal (walk-in retail may have none)")),
          Optional(Ref("staff_id", "staff", "the staff member (walk-in sales have none)")),
          Optional(
              Ref("appointment_id", "appointments", "the appointment (walk-in sales have none)")),
          Column("item_code", T::kText, "the product or service code"),
          Column("description", T::kText, "the service or product, e.g. \"Dental cleaning\""),
          Enum("category",
               {"consultation", "vaccine", "laboratory", "imaging", "surgery", "dental", "pharmacy",
                "hospitalization", "retail", "diet", "other"},
               "the kind of service or product"),
          Column("quantity", T::kDecimal, "units; negative for refunds"),
          Column("unit_price", T::kDecimal, "price per unit"),
          Column("discount", T::kDecimal, "discount for the whole line, >= 0"),
          Column("amount", T::kDecimal,
                 "quantity * unit_price - discount, to the cent: the revenue "
                 "of the "
                 "line"),
          Optional(Column("unit_cost", T::kDecimal, "cost of goods per unit, for margins")),
      }});

  return tables;
}

}  // namespace

absl::string_view FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kId:
      return "id";
    case FieldType::kRef:
      return "ref";
    case FieldType::kDate:
      return "date";
    case FieldType::kDateTime:
      return "datetime";
    case FieldType::kInt:
      return "int";
    case FieldType::kDecimal:
      return "decimal";
    case FieldType::kEnum:
      return "enum";
    case FieldType::kText:
      return "text";
  }
  return "unknown";
}

const ColumnSpec* TableSpec::FindColumn(absl::string_view column) const {
  for (const ColumnSpec& c : columns) {
    if (c.name == column) return &c;
  }
  return nullptr;
}

const std::vector<TableSpec>& CanonicalSchema() {
  // Built once, never destroyed (no exit-time destructor ordering issues).
  static const std::vector<TableSpec>* const schema = new std::vector<TableSpec>(BuildSchema());
  return *schema;
}

std::map<std::string, std::vector<std::string>> DateColumnsByTable() {
  std::map<std::string, std::vector<std::string>> out;
  for (const TableSpec& table : CanonicalSchema()) {
    auto& columns = out[table.name];
    for (const ColumnSpec& c : table.columns) {
      if (c.type == FieldType::kDate || c.type == FieldType::kDateTime) columns.push_back(c.name);
    }
  }
  return out;
}

const TableSpec* FindTable(absl::string_view name) {
  for (const TableSpec& t : CanonicalSchema()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace vet::data
