// Encoding of the runner's spec and decoding of its result document with
// RapidJSON. The document comes from a process running untrusted code, so
// every field is checked before use and nothing is assumed about its shape.
#include "core/sandbox/runner_protocol.h"

#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace vet::sandbox::internal {
namespace {

using rapidjson::Value;

absl::Status ProtocolError(absl::string_view what) {
  return absl::InternalError(absl::StrCat("the sandbox runner broke the protocol: ", what));
}

void WriteString(rapidjson::Writer<rapidjson::StringBuffer>& w, absl::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Optional string member; absent or null is "".
absl::StatusOr<std::string> StringMember(const Value& object, const char* name) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || it->value.IsNull()) return std::string();
  if (!it->value.IsString()) return ProtocolError(absl::StrCat("`", name, "` is not a string"));
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

absl::StatusOr<CodeError> DecodeError(const Value& doc) {
  auto it = doc.FindMember("error");
  if (it == doc.MemberEnd() || !it->value.IsObject()) {
    return ProtocolError("`error` is missing or not an object");
  }
  const Value& error = it->value;
  CodeError out;
  VET_ASSIGN_OR_RETURN(out.type, StringMember(error, "type"));
  VET_ASSIGN_OR_RETURN(out.message, StringMember(error, "message"));
  auto line = error.FindMember("line");
  if (line != error.MemberEnd() && line->value.IsInt()) out.line = line->value.GetInt();
  return out;
}

absl::StatusOr<ColumnType> DecodeColumnType(absl::string_view name) {
  if (name == "integer") return ColumnType::kInteger;
  if (name == "number") return ColumnType::kNumber;
  if (name == "text") return ColumnType::kText;
  if (name == "date") return ColumnType::kDate;
  if (name == "datetime") return ColumnType::kDateTime;
  if (name == "bool") return ColumnType::kBool;
  if (name == "month") return ColumnType::kMonth;
  return ProtocolError("unknown column type");
}

absl::StatusOr<Cell> DecodeCell(const Value& v, ColumnType type) {
  if (v.IsNull()) return Cell(absl::monostate());
  switch (type) {
    case ColumnType::kInteger:
      if (v.IsInt64()) return Cell(v.GetInt64());
      // Beyond int64 (a uint64 from numpy): keep the magnitude.
      if (v.IsNumber()) return Cell(v.GetDouble());
      break;
    case ColumnType::kNumber:
      if (v.IsNumber()) return Cell(v.GetDouble());
      break;
    case ColumnType::kText:
    case ColumnType::kDate:
    case ColumnType::kDateTime:
    case ColumnType::kMonth:
      if (v.IsString()) return Cell(std::string(v.GetString(), v.GetStringLength()));
      break;
    case ColumnType::kBool:
      if (v.IsBool()) return Cell(v.GetBool());
      break;
  }
  return ProtocolError("a cell does not match its column's type");
}

absl::StatusOr<ResultTable> DecodeTable(const Value& result) {
  ResultTable table;
  auto columns = result.FindMember("columns");
  auto rows = result.FindMember("rows");
  auto total = result.FindMember("total_rows");
  if (columns == result.MemberEnd() || !columns->value.IsArray() || rows == result.MemberEnd() ||
      !rows->value.IsArray() || total == result.MemberEnd() || !total->value.IsInt64()) {
    return ProtocolError("a table needs `columns`, `rows` and `total_rows`");
  }
  for (const Value& c : columns->value.GetArray()) {
    if (!c.IsObject()) return ProtocolError("a column is not an object");
    VET_ASSIGN_OR_RETURN(auto name, StringMember(c, "name"));
    VET_ASSIGN_OR_RETURN(auto type_name, StringMember(c, "type"));
    VET_ASSIGN_OR_RETURN(auto type, DecodeColumnType(type_name));
    std::string unit;
    if (auto u = c.FindMember("unit"); u != c.MemberEnd()) {
      if (!u->value.IsString()) return ProtocolError("a column's `unit` is not a string");
      unit.assign(u->value.GetString(), u->value.GetStringLength());
    }
    table.columns.push_back(ResultColumn{std::move(name), type, std::move(unit)});
  }
  table.rows.reserve(rows->value.Size());
  for (const Value& r : rows->value.GetArray()) {
    if (!r.IsArray() || r.Size() != table.columns.size()) {
      return ProtocolError("a row does not have one cell per column");
    }
    std::vector<Cell> row;
    row.reserve(r.Size());
    for (rapidjson::SizeType i = 0; i < r.Size(); ++i) {
      VET_ASSIGN_OR_RETURN(auto cell, DecodeCell(r[i], table.columns[i].type));
      row.push_back(std::move(cell));
    }
    table.rows.push_back(std::move(row));
  }
  table.total_rows = total->value.GetInt64();
  if (table.total_rows < static_cast<int64_t>(table.rows.size())) {
    return ProtocolError("`total_rows` is smaller than the rows sent");
  }
  auto cut = result.FindMember("cut_cells");
  if (cut != result.MemberEnd()) {
    if (!cut->value.IsInt64() || cut->value.GetInt64() < 0)
      return ProtocolError("`cut_cells` is not a count");
    table.cut_cells = cut->value.GetInt64();
  }
  return table;
}

absl::StatusOr<std::vector<std::string>> StringList(const Value& object, const char* key) {
  std::vector<std::string> out;
  auto m = object.FindMember(key);
  if (m == object.MemberEnd()) return out;
  if (!m->value.IsArray()) return ProtocolError(absl::StrCat("`", key, "` is not a list"));
  for (const Value& v : m->value.GetArray()) {
    if (!v.IsString()) return ProtocolError(absl::StrCat("`", key, "` holds a non-string"));
    out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

absl::StatusOr<std::string> OptionalString(const Value& object, const char* key) {
  auto m = object.FindMember(key);
  if (m == object.MemberEnd()) return std::string();
  if (!m->value.IsString()) return ProtocolError(absl::StrCat("`", key, "` is not a string"));
  return std::string(m->value.GetString(), m->value.GetStringLength());
}

absl::StatusOr<ExplainedPeriod> DecodePeriod(const Value& object, const char* key) {
  ExplainedPeriod out;
  auto m = object.FindMember(key);
  if (m == object.MemberEnd()) return out;
  if (!m->value.IsObject()) return ProtocolError(absl::StrCat("`", key, "` is not an object"));
  VET_ASSIGN_OR_RETURN(out.start, OptionalString(m->value, "start"));
  VET_ASSIGN_OR_RETURN(out.end, OptionalString(m->value, "end"));
  VET_ASSIGN_OR_RETURN(out.text, OptionalString(m->value, "text"));
  return out;
}

// The runner's "explanation" (runner.py _explanation); absent is empty.
absl::StatusOr<Explanation> DecodeExplanation(const Value& doc) {
  Explanation out;
  auto m = doc.FindMember("explanation");
  if (m == doc.MemberEnd()) return out;
  if (!m->value.IsObject()) return ProtocolError("`explanation` is not an object");
  const Value& e = m->value;
  VET_ASSIGN_OR_RETURN(out.metric, OptionalString(e, "metric"));
  VET_ASSIGN_OR_RETURN(out.definition, OptionalString(e, "definition"));
  VET_ASSIGN_OR_RETURN(out.counted, OptionalString(e, "counted"));
  VET_ASSIGN_OR_RETURN(out.period, DecodePeriod(e, "period"));
  VET_ASSIGN_OR_RETURN(out.compared, DecodePeriod(e, "compared"));
  VET_ASSIGN_OR_RETURN(out.filters, StringList(e, "filters"));
  VET_ASSIGN_OR_RETURN(out.excluded, StringList(e, "excluded"));
  VET_ASSIGN_OR_RETURN(out.notes, StringList(e, "notes"));
  return out;
}

absl::StatusOr<ResultValue> DecodeResult(const Value& doc) {
  auto it = doc.FindMember("result");
  if (it == doc.MemberEnd() || !it->value.IsObject()) {
    return ProtocolError("`result` is missing or not an object");
  }
  const Value& result = it->value;
  ResultValue out;
  VET_ASSIGN_OR_RETURN(out.unit, StringMember(result, "unit"));
  VET_ASSIGN_OR_RETURN(auto kind, StringMember(result, "kind"));
  if (kind == "number") {
    out.kind = ResultValue::Kind::kNumber;
    auto number = result.FindMember("number");
    if (number == result.MemberEnd()) return ProtocolError("a number result has no `number`");
    if (number->value.IsNumber()) {
      out.number = number->value.GetDouble();
    } else if (number->value.IsNull()) {
      out.number = std::numeric_limits<double>::quiet_NaN();
    } else {
      return ProtocolError("`number` is not a number");
    }
  } else if (kind == "text") {
    out.kind = ResultValue::Kind::kText;
    VET_ASSIGN_OR_RETURN(out.text, StringMember(result, "text"));
  } else if (kind == "table") {
    out.kind = ResultValue::Kind::kTable;
    VET_ASSIGN_OR_RETURN(out.table, DecodeTable(result));
  } else {
    return ProtocolError("unknown result kind");
  }
  return out;
}

absl::StatusOr<std::vector<Chart>> DecodeCharts(const Value& doc) {
  std::vector<Chart> charts;
  auto it = doc.FindMember("charts");
  if (it == doc.MemberEnd() || it->value.IsNull()) return charts;
  if (!it->value.IsArray()) return ProtocolError("`charts` is not an array");
  for (const Value& c : it->value.GetArray()) {
    if (!c.IsObject()) return ProtocolError("a chart is not an object");
    Chart chart;
    VET_ASSIGN_OR_RETURN(chart.name, StringMember(c, "name"));
    VET_ASSIGN_OR_RETURN(chart.mime_type, StringMember(c, "mime_type"));
    VET_ASSIGN_OR_RETURN(std::string data, StringMember(c, "data"));
    if (!absl::Base64Unescape(data, &chart.data)) {
      return ProtocolError("a chart's data is not base64");
    }
    charts.push_back(std::move(chart));
  }
  return charts;
}

absl::StatusOr<absl::optional<TableCsv>> DecodeTableCsv(const Value& doc) {
  auto it = doc.FindMember("table_csv");
  if (it == doc.MemberEnd() || it->value.IsNull()) return absl::optional<TableCsv>();
  if (!it->value.IsObject()) return ProtocolError("`table_csv` is not an object");
  auto rows = it->value.FindMember("rows");
  if (rows == it->value.MemberEnd() || !rows->value.IsInt64() || rows->value.GetInt64() < 0) {
    return ProtocolError("`table_csv` has no row count");
  }
  TableCsv csv;
  csv.rows = rows->value.GetInt64();
  VET_ASSIGN_OR_RETURN(std::string data, StringMember(it->value, "data"));
  if (!absl::Base64Unescape(data, &csv.data)) {
    return ProtocolError("`table_csv` data is not base64");
  }
  return absl::optional<TableCsv>(std::move(csv));
}

}  // namespace

namespace {

// The members of a RunSpec, into an object already started.
void WriteRunSpecMembers(const RunSpec& spec, rapidjson::Writer<rapidjson::StringBuffer>& w) {
  w.Key("data_dir");
  WriteString(w, spec.data_dir);
  w.Key("tables");
  w.StartObject();
  for (const auto& [table, date_columns] : spec.tables) {
    WriteString(w, table);
    w.StartArray();
    for (const auto& column : date_columns) WriteString(w, column);
    w.EndArray();
  }
  w.EndObject();
  w.Key("max_rows");
  w.Int(spec.max_rows);
  w.Key("max_charts");
  w.Int(spec.max_charts);
  w.Key("max_chart_bytes");
  w.Int64(spec.max_chart_bytes);
  w.Key("max_result_bytes");
  w.Int64(spec.max_result_bytes);
  w.Key("max_csv_rows");
  w.Int(spec.max_csv_rows);
  w.Key("max_csv_bytes");
  w.Int64(spec.max_csv_bytes);
}

}  // namespace

std::string EncodeRunSpec(const RunSpec& spec) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  WriteRunSpecMembers(spec, w);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string EncodeZygoteSpec(const ZygoteSpec& spec) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("mode");
  w.String("zygote");
  WriteRunSpecMembers(spec.run, w);
  w.Key("control_fd");
  w.Int(spec.control_fd);
  w.Key("data_fd");
  w.Int(spec.data_fd);
  w.Key("limits");
  w.StartObject();
  w.Key("cpu_seconds");
  w.Int(spec.cpu_seconds);
  w.Key("address_space_bytes");
  w.Int64(spec.address_space_bytes);
  w.Key("file_bytes");
  w.Int64(spec.file_bytes);
  w.Key("open_files");
  w.Int(spec.open_files);
  w.Key("processes");
  w.Int(spec.processes);
  w.EndObject();
  w.Key("seccomp");
  w.StartObject();
  w.Key("base");
  WriteString(w, absl::Base64Escape(spec.seccomp_base));
  w.Key("signal_self");
  WriteString(w, absl::Base64Escape(spec.seccomp_signal_self));
  w.Key("pid_offset");
  w.Int(spec.seccomp_pid_offset);
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string EncodeZygoteRun(uint64_t id) { return absl::StrCat(R"({"type":"run","id":)", id, "}"); }

std::string EncodeZygoteKill(uint64_t id) {
  return absl::StrCat(R"({"type":"kill","id":)", id, "}");
}

absl::StatusOr<ZygoteMessage> ParseZygoteMessage(absl::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return ProtocolError("a zygote message is not a JSON object");
  }
  ZygoteMessage out;
  VET_ASSIGN_OR_RETURN(std::string type, StringMember(doc, "type"));
  if (type == "ready") {
    out.type = ZygoteMessage::Type::kReady;
    auto versions = doc.FindMember("versions");
    if (versions != doc.MemberEnd() && versions->value.IsObject()) {
      for (const auto& m : versions->value.GetObject()) {
        if (m.value.IsString()) out.versions[m.name.GetString()] = m.value.GetString();
      }
    }
    auto load = doc.FindMember("load_ms");
    if (load != doc.MemberEnd() && load->value.IsInt64()) out.load_ms = load->value.GetInt64();
    auto rss = doc.FindMember("rss_kb");
    if (rss != doc.MemberEnd() && rss->value.IsInt64()) out.rss_kb = rss->value.GetInt64();
    auto landlock = doc.FindMember("landlock_abi");
    if (landlock != doc.MemberEnd() && landlock->value.IsInt())
      out.landlock_abi = landlock->value.GetInt();
    return out;
  }
  if (type == "fatal") {
    out.type = ZygoteMessage::Type::kFatal;
    VET_ASSIGN_OR_RETURN(out.stage, StringMember(doc, "stage"));
    VET_ASSIGN_OR_RETURN(out.error, DecodeError(doc));
    return out;
  }
  auto id = doc.FindMember("id");
  if (id == doc.MemberEnd() || !id->value.IsUint64()) {
    return ProtocolError("a zygote message has no numeric `id`");
  }
  out.id = id->value.GetUint64();
  if (type == "exited") {
    out.type = ZygoteMessage::Type::kExited;
    auto status = doc.FindMember("status");
    auto cpu = doc.FindMember("cpu_us");
    if (status == doc.MemberEnd() || !status->value.IsInt()) {
      return ProtocolError("an `exited` message has no integer `status`");
    }
    out.wait_status = status->value.GetInt();
    if (cpu != doc.MemberEnd() && cpu->value.IsInt64())
      out.cpu_time = absl::Microseconds(cpu->value.GetInt64());
    return out;
  }
  if (type == "refused") {
    out.type = ZygoteMessage::Type::kRefused;
    VET_ASSIGN_OR_RETURN(out.error.message, StringMember(doc, "error"));
    return out;
  }
  return ProtocolError("a zygote message has an unknown `type`");
}

std::string EncodeProbeSpec() { return R"({"probe":true})"; }

absl::StatusOr<RunnerOutput> ParseRunnerOutput(absl::string_view json) {
  rapidjson::Document doc;
  // Python's json writes NaN and Infinity for non-finite scalar results.
  doc.Parse<rapidjson::kParseNanAndInfFlag | rapidjson::kParseValidateEncodingFlag>(json.data(),
                                                                                    json.size());
  if (doc.HasParseError()) {
    return ProtocolError(absl::StrCat("invalid JSON at offset ", doc.GetErrorOffset(), ": ",
                                      rapidjson::GetParseError_En(doc.GetParseError())));
  }
  if (!doc.IsObject()) return ProtocolError("the document is not an object");
  VET_ASSIGN_OR_RETURN(auto status, StringMember(doc, "status"));

  RunnerOutput out;
  if (status == "ok") {
    out.status = RunnerOutput::Status::kOk;
    auto versions = doc.FindMember("versions");
    if (versions != doc.MemberEnd()) {  // a probe
      if (!versions->value.IsObject()) return ProtocolError("`versions` is not an object");
      for (const auto& m : versions->value.GetObject()) {
        if (!m.value.IsString()) return ProtocolError("a version is not a string");
        out.versions.emplace(m.name.GetString(), m.value.GetString());
      }
      return out;
    }
    VET_ASSIGN_OR_RETURN(out.execution.result, DecodeResult(doc));
    VET_ASSIGN_OR_RETURN(out.execution.answer, StringMember(doc, "answer"));
    VET_ASSIGN_OR_RETURN(out.execution.explanation, DecodeExplanation(doc));
    VET_ASSIGN_OR_RETURN(out.execution.declined, OptionalString(doc, "declined"));
    VET_ASSIGN_OR_RETURN(out.execution.charts, DecodeCharts(doc));
    VET_ASSIGN_OR_RETURN(out.table_csv, DecodeTableCsv(doc));
  } else if (status == "error") {
    out.status = RunnerOutput::Status::kCodeError;
    VET_ASSIGN_OR_RETURN(out.execution.error, DecodeError(doc));
  } else if (status == "fatal") {
    out.status = RunnerOutput::Status::kFatal;
    VET_ASSIGN_OR_RETURN(out.fatal_stage, StringMember(doc, "stage"));
    VET_ASSIGN_OR_RETURN(out.fatal_error, DecodeError(doc));
  } else {
    return ProtocolError("unknown `status`");
  }
  return out;
}

}  // namespace vet::sandbox::internal
