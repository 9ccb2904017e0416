// The tiny clinic the executor tests run code against: four invoice lines
// (one without an amount, "0001" an id that must stay a string) and three
// appointments (one without a start). Written as CSV into each test's data
// folder.
#ifndef VET_CORE_SANDBOX_TESTING_CLINIC_TABLES_H_
#define VET_CORE_SANDBOX_TESTING_CLINIC_TABLES_H_

namespace vet::sandbox {

inline constexpr char kInvoiceLines[] =
    "invoice_id,line_no,invoiced_on,client_id,amount,category\n"
    "0001,1,2026-01-05,c007,100.50,dental\n"
    "0001,2,2026-01-05,c007,20.00,pharmacy\n"
    "0002,1,2026-02-10,c008,,vaccine\n"
    "0003,1,2026-02-11,c009,55.25,dental\n";
inline constexpr char kAppointments[] =
    "appointment_id,starts_at,status\n"
    "a1,2026-01-05T09:30,completed\n"
    "a2,2026-01-06T10:15:30,no_show\n"
    "a3,,cancelled\n";

}  // namespace vet::sandbox

#endif  // VET_CORE_SANDBOX_TESTING_CLINIC_TABLES_H_
