// `vetctl import --preset`: converts a folder of a practice system's exports
// into the five canonical CSVs in a temporary folder (vet::data presets),
// which import then uploads as it uploads any folder; and the conversion's
// report, for people and as a JSON line. No gRPC here.
#ifndef VET_CLIENTS_IMPORT_PRESET_H_
#define VET_CLIENTS_IMPORT_PRESET_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/data/preset.h"

namespace vet::cli {

// The converted folder; removed, with its files, when this is destroyed.
class ConvertedExports {
 public:
  ~ConvertedExports();
  ConvertedExports(const ConvertedExports&) = delete;
  ConvertedExports& operator=(const ConvertedExports&) = delete;

  // Holds clients.csv, patients.csv, staff.csv, appointments.csv and
  // invoice_lines.csv.
  const std::string& dir() const { return dir_; }
  const vet::data::PresetReport& report() const { return report_; }

 private:
  friend absl::StatusOr<std::unique_ptr<ConvertedExports>> ConvertExports(
      const std::string&, const std::string&);
  explicit ConvertedExports(std::string dir) : dir_(std::move(dir)) {}

  std::string dir_;
  vet::data::PresetReport report_;
};

// Loads `preset` (vet::data::LoadPreset) and converts `dir` into a fresh
// folder under $TMPDIR (or /tmp). Errors: kFailedPrecondition for a preset
// that cannot be loaded or a `dir` that is not a folder (bad usage: nothing
// was read); kInvalidArgument for exports the preset cannot convert, naming
// file, line and column (vet::data::ConvertWithPreset); kInternal when the
// temporary folder cannot be made or written.
absl::StatusOr<std::unique_ptr<ConvertedExports>> ConvertExports(
    const std::string& preset, const std::string& dir);

// The report for people: files read and ignored, rows written, columns not
// filled or assumed, date formats chosen. Ends with a newline.
std::string FormatPresetReport(const vet::data::PresetReport& report,
                               bool color);

// The report as one JSON line: {"preset": {"name": ..., "recognised": [...],
// "ignored": [...], "rows": {...}, "unfilled": [...], "assumed": [...],
// "notes": [...]}}; counts are strings, as proto3 JSON writes int64.
std::string PresetReportJson(const vet::data::PresetReport& report);

}  // namespace vet::cli

#endif  // VET_CLIENTS_IMPORT_PRESET_H_
