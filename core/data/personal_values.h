// The values of a practice's personal-data columns (the schema's personal
// marks: client names, e-mails, phones, postal codes, animal names), read
// from its dataset so that they can be kept from ever reaching a model
// (core/codegen/personal_data_shield.h). Never logged, never described,
// never sent: only compared against text that is about to leave.
#ifndef VET_CORE_DATA_PERSONAL_VALUES_H_
#define VET_CORE_DATA_PERSONAL_VALUES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vet::data {

// One personal column's distinct non-empty values, as stored (case and
// spacing kept), in no particular order.
struct PersonalColumn {
  std::string table;   // "clients"
  std::string column;  // "first_name"
  std::vector<std::string> values;
};

// Every personal column of the canonical schema the dataset has, in schema
// order. Reads an imported (columnar) version's dictionaries (<table>/
// <column>.dict), or the CSV form's <table>.csv files (only the personal
// columns are kept; an optional column the file lacks is left out). Returns
// kNotFound when the folder or a table with personal columns is missing,
// kDataLoss naming the file (never a value) when one is malformed.
// Blocking I/O; thread-safe.
absl::StatusOr<std::vector<PersonalColumn>> ReadPersonalValues(const std::string& data_dir);

}  // namespace vet::data

#endif  // VET_CORE_DATA_PERSONAL_VALUES_H_
