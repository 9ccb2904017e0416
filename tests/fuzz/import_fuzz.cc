// Fuzz target: the import validation (core/data/import_validator.h). The
// first byte picks the table the rest of the input stands for; the other
// tables are one small valid export each (written once to a temporary
// folder), so the fuzzed file is checked against real references.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "core/data/import_validator.h"
#include "core/data/schema.h"

namespace {

struct Fixture {
  std::string dir;
  std::vector<std::string> tables;
  std::map<std::string, std::string> files;  // table -> path of its valid export
};

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// A small valid export of each table (core/data/import_validator_test.cc),
// so that the fuzzed table's references resolve.
const std::map<std::string, std::string>& ValidExports() {
  static const auto* exports = new std::map<std::string, std::string>{
      {"clients",
       "client_id,first_name,last_name,email,phone,postal_code,created_on,status\n"
       "C1,Ann,Lee,ann@example.com,555,12345,2024-01-02,active\n"
       "C2,Bob,Ray,,,,2025-03-04,inactive\n"},
      {"patients",
       "patient_id,client_id,name,species,breed,sex,birth_date,status\n"
       "P1,C1,Rex,canine,Collie,MN,2020-05-06,active\n"
       "P2,C2,Tom,feline,,f,,active\n"},
      {"staff",
       "staff_id,full_name,role,hired_on,fte\n"
       "S1,Dr Vet,veterinarian,2019-01-01,\n"
       "S2,Tech Person,technician,,0.5\n"},
      {"appointments",
       "appointment_id,patient_id,client_id,staff_id,starts_at,duration_min,"
       "type,status,booked_at\n"
       "A1,P1,C1,S1,2026-03-04T09:30,30,wellness,completed,2026-03-01 10:00:00\n"
       "A2,P2,C2,S1,2026-12-20T10:00,20,sick,scheduled,2026-12-01T08:00\n"},
      {"invoice_lines",
       "invoice_id,line_no,invoiced_on,client_id,patient_id,staff_id,"
       "appointment_id,item_code,description,category,quantity,unit_price,"
       "discount,amount,unit_cost\n"
       "I1,1,2026-03-04,C1,P1,S1,A1,EXAM,Exam,consultation,1,50.00,0,50.00,\n"
       "I1,2,2026-03-04,C1,P1,S1,A1,VAC,\"Rabies, 1 year\",vaccine,2,20.5,1,40.00,5.25\n"
       "I2,1,2026-03-05,C2,,,,FOOD,Diet food,diet,-1,30,0,-30,\n"},
  };
  return *exports;
}

Fixture& GetFixture() {
  static Fixture* fixture = [] {
    auto* f = new Fixture;
    char tmpl[] = "/tmp/vet-import-fuzz-XXXXXX";
    const char* dir = mkdtemp(tmpl);
    if (dir == nullptr) std::abort();
    f->dir = dir;
    for (const auto& table : vet::data::CanonicalSchema()) {
      f->tables.push_back(table.name);
      std::string path = f->dir + "/" + table.name + ".csv";
      WriteFile(path, ValidExports().at(table.name));
      f->files[table.name] = path;
    }
    return f;
  }();
  return *fixture;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Fixture& fixture = GetFixture();
  const std::string& table = fixture.tables[data[0] % fixture.tables.size()];
  std::string path = fixture.dir + "/fuzzed.csv";
  WriteFile(path, std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  std::map<std::string, std::string> files = fixture.files;
  files[table] = path;
  vet::data::ImportOptions options;
  options.as_of = absl::CivilDay(2026, 12, 1);
  options.max_memory_bytes = int64_t{256} << 20;
  vet::data::ImportOutcome outcome =
      vet::data::ValidateImportDetailed(files, vet::data::ColumnMapping(), options);
  if (outcome.total_problems > 0) (void)vet::data::FormatImportProblems(outcome);
  return 0;
}
