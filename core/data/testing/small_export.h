// A small valid export of every table, one CSV text per table name, whose
// references all resolve: tests and fuzz targets break one thing in it.
#ifndef VET_CORE_DATA_TESTING_SMALL_EXPORT_H_
#define VET_CORE_DATA_TESTING_SMALL_EXPORT_H_

#include <map>
#include <string>

namespace vet::data::testing {

inline std::map<std::string, std::string> SmallValidExport() {
  return {
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
}

}  // namespace vet::data::testing

#endif  // VET_CORE_DATA_TESTING_SMALL_EXPORT_H_
