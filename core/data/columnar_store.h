// The columnar on-disk form of a practice's dataset: what the sandbox loads
// instead of parsing CSV (core/sandbox/runner.py reads it with numpy alone),
// and what DescribeColumnarDataset describes without scanning any data.
//
// Layout of a dataset folder:
//   manifest.json                 written last: a folder without it is not a
//                                 dataset (an interrupted write)
//   <table>/<column>.npy          NumPy format 1.0, one-dimensional,
//                                 little-endian:
//                                   '<i8' int (as is), date (days since
//                                         1970-01-01), datetime (seconds since
//                                         1970-01-01T00:00, practice local
//                                         time)
//                                   '<f8' decimal (NaN where null)
//                                   '<i4' id, ref, enum, text: codes into the
//                                         dictionary; -1 where null
//   <table>/<column>.dict         id/ref/enum/text only: the dictionary, a
//                                 JSON array of strings (UTF-8, as given)
//   <table>/<column>.valid.npy    '|u1', 1 = present, 0 = null; only when the
//                                 column has a null
//
// manifest.json:
//   {"format": "vet-columnar", "format_version": 1, "schema_version": "v1",
//    "tables": [{"name": "invoice_lines", "rows": 5000000,
//                "columns": [{"name": "invoiced_on", "type": "date",
//                             "storage": "int64", "has_nulls": false,
//                             "min": "2023-01-01", "max": "2026-11-25"}, ...]},
//               ...]}
//   type is the schema type name (schema.h FieldTypeName); storage is
//   "int64", "float64" or "dict"; min/max appear on date ("YYYY-MM-DD") and
//   datetime ("YYYY-MM-DDTHH:MM:SS") columns with at least one value.
//
// Files are 0644 and folders 0755 whatever the umask (the sandbox may run as
// another uid); every file and folder is fsynced.
#ifndef VET_CORE_DATA_COLUMNAR_STORE_H_
#define VET_CORE_DATA_COLUMNAR_STORE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/data/dataset.h"
#include "core/data/typed_table.h"

namespace vet::data {

inline constexpr char kColumnarManifestFile[] = "manifest.json";
inline constexpr int kColumnarFormatVersion = 1;

// Writes `tables` into `dir` in the form above. A column's `valid` may be
// empty, meaning no nulls; values under a null are ignored. `dir` is created
// (with its parents) if missing and must otherwise be an empty folder. Returns
//   kFailedPrecondition  `dir` exists and is not an empty folder
//   kInvalidArgument     a table or column name that is empty, ".", "..",
//                        holds '/' or repeats; a value vector whose length is
//                        not `rows`; a code outside the dictionary
//   kPermissionDenied    a folder or file cannot be made for lack of
//                        permission (naming the path)
//   kInternal            another I/O failure (naming the path)
// On an error the folder may hold part of the dataset but no manifest.json.
// Messages never contain values. Blocking I/O. Thread-compatible.
absl::Status WriteColumnarDataset(const std::vector<TypedTable>& tables, const std::string& dir);

// Describes the dataset in `dir` from manifest.json alone, as DescribeDataset
// does for the CSV form: the canonical schema's five tables in schema order,
// each column's spec (personal, enum values...), row counts, date ranges.
// A schema column the manifest lacks has present = false; manifest columns
// the schema does not know are ignored. Returns kNotFound when the folder,
// its manifest or one of the five tables is missing, kDataLoss naming the
// file when the manifest is malformed or of another format version.
// Thread-safe.
absl::StatusOr<DatasetDescription> DescribeColumnarDataset(const std::string& dir);

}  // namespace vet::data

#endif  // VET_CORE_DATA_COLUMNAR_STORE_H_
