// Conversion with a preset into a temporary folder, and its report. The
// folder goes when the upload is done: the vendor files stay the practice's
// record, the converted ones are only what travels.
#include "clients/import_preset.h"

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/format.h"

namespace vet::cli {
namespace {

std::string Line(absl::string_view text) {
  return SanitizeForTerminal(text, /*keep_newlines=*/false);
}

std::string Where(const vet::data::PresetReport::ColumnNote& n) {
  if (n.column.empty()) return n.table;
  return absl::StrCat(n.table, ".", n.column);
}

std::string NotesJson(
    const std::vector<vet::data::PresetReport::ColumnNote>& notes) {
  std::vector<std::string> out;
  out.reserve(notes.size());
  for (const auto& n : notes) {
    out.push_back(absl::StrCat("{\"table\":", JsonQuote(n.table),
                               ",\"column\":", JsonQuote(n.column),
                               ",\"note\":", JsonQuote(n.note), "}"));
  }
  return absl::StrCat("[", absl::StrJoin(out, ","), "]");
}

}  // namespace

ConvertedExports::~ConvertedExports() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

absl::StatusOr<std::unique_ptr<ConvertedExports>> ConvertExports(
    const std::string& preset, const std::string& dir) {
  absl::StatusOr<vet::data::Preset> loaded = vet::data::LoadPreset(preset);
  if (!loaded.ok()) {
    return absl::FailedPreconditionError(loaded.status().message());
  }
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) {
    return absl::FailedPreconditionError(
        absl::StrCat("import: ", dir, " is not a directory"));
  }
  std::filesystem::path tmp = std::filesystem::temp_directory_path(error);
  if (error) tmp = "/tmp";
  std::string templ = (tmp / "vetctl-preset-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("cannot make a temporary folder in ", tmp.string()));
  }
  std::unique_ptr<ConvertedExports> converted(new ConvertedExports(templ));
  absl::StatusOr<vet::data::PresetReport> report =
      vet::data::ConvertWithPreset(*loaded, dir, templ);
  if (!report.ok()) {
    if (report.status().code() == absl::StatusCode::kNotFound) {
      return absl::FailedPreconditionError(report.status().message());
    }
    return report.status();
  }
  converted->report_ = *std::move(report);
  return converted;
}

std::string FormatPresetReport(const vet::data::PresetReport& report,
                               bool color) {
  std::string out = absl::StrCat(
      Paint(color, Style::kBold, absl::StrCat("preset ", Line(report.preset))),
      ": read ", report.recognised.size(),
      report.recognised.size() == 1 ? " file" : " files", ", ignored ",
      report.ignored.size(), "\n");
  std::vector<std::vector<std::string>> files;
  for (const auto& f : report.recognised) {
    std::string what = Line(f.description);
    if (!f.note.empty()) {
      absl::StrAppend(&what, ": not imported, ", Line(f.note));
    } else {
      absl::StrAppend(&what, ", ", FormatInteger(f.rows),
                      f.rows == 1 ? " row" : " rows");
    }
    files.push_back({Line(f.path), what});
  }
  for (const auto& f : report.ignored) {
    files.push_back(
        {Line(f.path),
         Paint(color, Style::kDim, absl::StrCat("ignored: ", Line(f.reason)))});
  }
  absl::StrAppend(&out, LayoutColumns(files, {false, false}, "  "));
  std::vector<std::string> rows;
  for (const auto& [table, count] : report.rows) {
    rows.push_back(absl::StrCat(table, " ", FormatInteger(count)));
  }
  absl::StrAppend(&out, "converted: ", absl::StrJoin(rows, ", "), "\n");
  auto section =
      [&](absl::string_view title,
          const std::vector<vet::data::PresetReport::ColumnNote>& notes,
          bool warn) {
        if (notes.empty()) return;
        absl::StrAppend(&out, title, ":\n");
        for (const auto& n : notes) {
          absl::StrAppend(
              &out, "  ",
              warn ? absl::StrCat(Paint(color, Style::kYellow, "⚠"), " ") : "",
              Line(Where(n)), ": ", Line(n.note), "\n");
        }
      };
  section("not filled", report.unfilled, /*warn=*/true);
  section("assumed", report.assumed, /*warn=*/false);
  section("notes", report.notes, /*warn=*/false);
  return out;
}

std::string PresetReportJson(const vet::data::PresetReport& report) {
  std::vector<std::string> recognised;
  for (const auto& f : report.recognised) {
    recognised.push_back(absl::StrCat(
        "{\"path\":", JsonQuote(f.path), ",\"source\":", JsonQuote(f.source),
        ",\"description\":", JsonQuote(f.description), ",\"rows\":\"", f.rows,
        "\",\"note\":", JsonQuote(f.note), "}"));
  }
  std::vector<std::string> ignored;
  for (const auto& f : report.ignored) {
    ignored.push_back(absl::StrCat("{\"path\":", JsonQuote(f.path),
                                   ",\"reason\":", JsonQuote(f.reason), "}"));
  }
  std::vector<std::string> rows;
  for (const auto& [table, count] : report.rows) {
    rows.push_back(absl::StrCat(JsonQuote(table), ":\"", count, "\""));
  }
  return absl::StrCat("{\"preset\":{\"name\":", JsonQuote(report.preset),
                      ",\"recognised\":[", absl::StrJoin(recognised, ","),
                      "],\"ignored\":[", absl::StrJoin(ignored, ","),
                      "],\"rows\":{", absl::StrJoin(rows, ","),
                      "},\"unfilled\":", NotesJson(report.unfilled),
                      ",\"assumed\":", NotesJson(report.assumed),
                      ",\"notes\":", NotesJson(report.notes), "}}\n");
}

}  // namespace vet::cli
