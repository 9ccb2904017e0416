// The demo practice: a deterministic generator (fixed seed) of a small-animal
// clinic's exports in the canonical schema, for `--demo`, tests and
// `vetctl demo-data`: clients, patients and staff, appointments with
// seasonality and yearly growth, invoices from a price list that rises every
// January (demo_generator.cc says how each table is made).
#ifndef VET_CORE_DATA_DEMO_GENERATOR_H_
#define VET_CORE_DATA_DEMO_GENERATOR_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"

namespace vet::data {

struct DemoOptions {
  // The last day with data; the data covers the three full years before it
  // plus the current year up to this day.
  absl::CivilDay end_day;
  // Approximate number of invoice lines to produce.
  int64_t invoice_lines = 60000;
  uint64_t seed = 20240601;
};

// Writes clients.csv, patients.csv, staff.csv, appointments.csv and
// invoice_lines.csv into `dir` (created if missing), replacing them
// atomically file by file. Same options, same bytes. Returns kInvalidArgument
// for invoice_lines outside [1, 20000000] or an end_day outside the years
// 1903..9990, kInternal with the path on an I/O failure. Thread-compatible;
// takes about 0.1 s per 60000 invoice lines.
absl::Status WriteDemoDataset(const DemoOptions& options, const std::string& dir);

}  // namespace vet::data

#endif  // VET_CORE_DATA_DEMO_GENERATOR_H_
