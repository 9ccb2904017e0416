// The declarations of the semantic layer. Definitions follow DATA_SCHEMA.md;
// enum values are the schema's. Adding a metric, an attribute or a synonym
// here is all it takes for the planner to parse and answer it.
#include "core/codegen/semantic_layer.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace vet::codegen {
namespace {

constexpr Base kInvoices = Base::kInvoiceLines;
constexpr Base kAppointments = Base::kAppointments;
constexpr Base kClients = Base::kClients;
constexpr Base kPatients = Base::kPatients;

std::vector<Metric> BuildMetrics() {
  std::vector<Metric> metrics;
  auto add = [&metrics](Metric m) { metrics.push_back(std::move(m)); };

  {
    Metric m;
    m.id = "revenue";
    m.display = "Revenue";
    m.synonyms = {"revenue", "sale",  "income",        "turnover",        "takings", "earnings",
                  "billing", "money", "gross revenue", "invoiced amount", "fee"};
    m.base = kInvoices;
    m.date_column = "invoiced_on";
    m.definition = "sum of invoice_lines.amount by invoiced_on";
    m.components = {{"revenue", "amount", "sum"}};
    m.numerator = "{revenue}";
    m.unit = "USD";
    m.empty_noun = "invoices";
    m.reads = {"invoice_lines.invoiced_on", "invoice_lines.amount"};
    add(std::move(m));
  }
  {
    Metric m;
    m.id = "transactions";
    m.display = "Transactions";
    m.synonyms = {"transaction",   "invoice",           "visit",         "visit with a charge",
                  "charged visit", "transaction count", "invoice count", "number of invoices"};
    m.base = kInvoices;
    m.date_column = "invoiced_on";
    m.definition =
        "number of distinct invoice_lines.invoice_id by invoiced_on (a visit "
        "with a charge)";
    m.components = {{"invoices", "invoice_id", "nunique"}};
    m.numerator = "{invoices}";
    m.unit = "count";
    m.empty_noun = "invoices";
    m.reads = {"invoice_lines.invoiced_on", "invoice_lines.invoice_id"};
    add(std::move(m));
  }
  {
    Metric m;
    m.id = "average_transaction_charge";
    m.display = "Average transaction charge";
    m.synonyms = {"average transaction charge",
                  "atc",
                  "average transaction",
                  "average transaction value",
                  "average invoice",
                  "average invoice value",
                  "average spend",
                  "average charge",
                  "average ticket",
                  "average bill",
                  "average visit value",
                  "average spend per visit",
                  "average charge per visit",
                  "average spend per transaction",
                  "revenue per transaction",
                  "revenue per invoice",
                  "revenue per visit",
                  "spend per visit",
                  "average revenue per visit",
                  "average revenue per transaction",
                  "average revenue per invoice"};
    m.base = kInvoices;
    m.date_column = "invoiced_on";
    m.definition = "revenue / number of distinct invoice_id, by invoiced_on";
    m.components = {{"revenue", "amount", "sum"}, {"invoices", "invoice_id", "nunique"}};
    m.numerator = "{revenue}";
    m.denominator = "invoices";
    m.unit = "USD";
    m.empty_noun = "invoices";
    m.detail = " ({usd(m['revenue'])} over {count(m['invoices'])} invoices)";
    m.reads = {"invoice_lines.invoiced_on", "invoice_lines.amount", "invoice_lines.invoice_id"};
    add(std::move(m));
  }
  // Revenue per full-time-equivalent veterinarian (issue 14). The FTE is the
  // veterinarians' (staff.role), each 1.0 where fte is empty, hired by the
  // period's last day (the schema records no leaving date). It is all the
  // veterinarians' FTE, so a breakdown or filter by vet or role, and a time
  // breakdown (whose buckets would each need their own FTE), are declined.
  {
    Metric m;
    m.id = "revenue_per_fte_vet";
    m.display = "Revenue per FTE vet";
    m.synonyms = {"revenue per fte vet",
                  "revenue per fte veterinarian",
                  "revenue per fte doctor",
                  "revenue per fte",
                  "revenue per vet fte",
                  "revenue per full time equivalent vet",
                  "revenue per full time equivalent veterinarian",
                  "revenue per full time equivalent",
                  "sale per fte vet",
                  "sale per fte veterinarian",
                  "sale per fte",
                  "sale per full time equivalent vet",
                  "sale per full time equivalent veterinarian"};
    m.base = kInvoices;
    m.date_column = "invoiced_on";
    m.definition =
        "revenue / sum of staff.fte (1.0 where empty) of staff with role "
        "veterinarian hired on or before the period's last day (or with no "
        "hired_on), by invoiced_on";
    m.prepare = {
        "hired = pd.to_datetime(staff[\"hired_on\"]) if \"hired_on\" in staff "
        "else pd.Series(pd.NaT, index=staff.index)",
        "fte = pd.to_numeric(staff[\"fte\"]) if \"fte\" in staff "
        "else pd.Series(np.nan, index=staff.index)",
        "vets = (staff[\"role\"] == \"veterinarian\") & ~(hired > end)",
        "df[\"vet_fte\"] = float(fte[vets].fillna(1.0).sum())  # the same on "
        "every row"};
    m.components = {{"revenue", "amount", "sum"}, {"vet_fte", "vet_fte", "max"}};
    m.numerator = "{revenue}";
    m.denominator = "vet_fte";
    m.unit = "USD";
    m.empty_noun = "invoices";
    m.detail = " ({usd(m['revenue'])} over {count(m['vet_fte'])} veterinarian FTE)";
    m.reads = {"invoice_lines.invoiced_on", "invoice_lines.amount", "staff.role"};
    m.not_by = {"vet", "role", "day", "week", "month", "quarter", "year", "weekday", "hour"};
    add(std::move(m));
  }
  // Costs: unit_cost is optional; a line without one adds no cost, so its
  // whole amount counts as margin. Every margin answer says how many lines
  // that concerns.
  const std::vector<std::string> cost_prepare = {
      "df[\"cost\"] = df[\"quantity\"] * df[\"unit_cost\"]  # NaN where "
      "unit_cost is unknown",
      "df[\"cost_known\"] = df[\"unit_cost\"].notna()"};
  const std::vector<Component> cost_components = {{"revenue", "amount", "sum"},
                                                  {"cost", "cost", "sum"},
                                                  {"lines", "amount", "size"},
                                                  {"costed_lines", "cost_known", "sum"}};
  const std::string cost_note =
      " {count(m['lines'] - m['costed_lines'])} of {count(m['lines'])} invoice "
      "lines have no "
      "unit cost and count as zero cost.";
  const std::string cost_note_when = "m[\"costed_lines\"] < m[\"lines\"]";
  const std::vector<std::string> cost_reads = {"invoice_lines.invoiced_on", "invoice_lines.amount",
                                               "invoice_lines.quantity", "invoice_lines.unit_cost"};
  {
    Metric m;
    m.id = "gross_margin";
    m.display = "Gross margin";
    m.synonyms = {"gross margin", "margin", "gross profit", "profit"};
    m.base = kInvoices;
    m.date_column = "invoiced_on";
    m.definition =
        "revenue - sum(quantity * unit_cost) by invoiced_on; lines without "
        "unit_cost add no cost";
    m.prepare = cost_prepare;
    m.components = cost_components;
    m.numerator = "{revenue} - {cost}";
    m.unit = "USD";
    m.empty_noun = "invoices";
    m.detail = " (revenue {usd(m['revenue'])} less cost of goods {usd(m['cost'])})";
    m.note = cost_note;
    m.note_when = cost_note_when;
    m.reads = cost_reads;
    add(std::move(m));
  }
  {
    Metric m;
    m.id = "margin_percent";
    m.display = "Gross margin %";
    m.synonyms = {"margin percent",          "gross margin percent", "margin percentage",
                  "gross margin percentage", "margin rate",          "profit margin",
                  "profit margin percent",   "margin ratio"};
    m.base = kInvoices;
    m.date_column = "invoiced_on";
    m.definition = "100 * gross margin / revenue";
    m.prepare = cost_prepare;
    m.components = cost_components;
    m.numerator = "{revenue} - {cost}";
    m.denominator = "revenue";
    m.scale = 100;
    m.unit = "percent";
    m.empty_noun = "invoices";
    m.detail =
        " (margin {usd(m['revenue'] - m['cost'])} on revenue "
        "{usd(m['revenue'])})";
    m.note = cost_note;
    m.note_when = cost_note_when;
    m.reads = cost_reads;
    add(std::move(m));
  }
  {
    Metric m;
    m.id = "discounts";
    m.display = "Discounts";
    m.synonyms = {"discount", "discount given",  "discounts given",  "total discount",
                  "markdown", "price reduction", "discounted amount"};
    m.base = kInvoices;
    m.date_column = "invoiced_on";
    m.definition =
        "sum of invoice_lines.discount by invoiced_on (already deducted from "
        "amount)";
    m.components = {{"discounts", "discount", "sum"}};
    m.numerator = "{discounts}";
    m.unit = "USD";
    m.empty_noun = "invoices";
    m.reads = {"invoice_lines.invoiced_on", "invoice_lines.discount"};
    add(std::move(m));
  }
  {
    Metric m;
    m.id = "appointments";
    m.display = "Appointments";
    m.synonyms = {"appointment", "appt", "booking", "appointment count"};
    m.base = kAppointments;
    m.date_column = "starts_at";
    m.definition = "number of appointments by starts_at (any status unless one is named)";
    m.components = {{"appointments", "appointment_id", "size"}};
    m.numerator = "{appointments}";
    m.unit = "count";
    m.empty_noun = "appointments";
    m.reads = {"appointments.starts_at", "appointments.appointment_id"};
    add(std::move(m));
  }
  // No-show and cancellation rates differ only in the status they count:
  // 100 * status / (completed + no_show + cancelled) of appointments
  // starting in the period.
  auto status_rate = [&add](const char* id, const char* display, std::vector<std::string> synonyms,
                            const char* status, const char* flag, const char* count_name) {
    Metric m;
    m.id = id;
    m.display = display;
    m.synonyms = std::move(synonyms);
    m.base = kAppointments;
    m.date_column = "starts_at";
    m.definition = absl::StrCat("100 * ", status,
                                " / (completed + no_show + cancelled) of appointments "
                                "starting in the period");
    m.prepare = {absl::StrCat("df[\"", flag, "\"] = df[\"status\"].eq(\"", status, "\")")};
    m.components = {{count_name, flag, "sum"}, {"appointments", "appointment_id", "size"}};
    m.numerator = absl::StrCat("{", count_name, "}");
    m.denominator = "appointments";
    m.scale = 100;
    m.unit = "percent";
    m.implied_filters = {{"appointment_status", {"completed", "no_show", "cancelled"}}};
    m.empty_noun = "completed, no-show or cancelled appointments";
    m.detail = absl::StrCat(" ({count(m['", count_name,
                            "'])} of {count(m['appointments'])} completed, no-show or "
                            "cancelled appointments)");
    m.reads = {"appointments.starts_at", "appointments.status", "appointments.appointment_id"};
    m.row_metrics = {"appointments"};
    m.share_of = "appointments";
    m.share_filter = FilterClause{"appointment_status", {status}};
    add(std::move(m));
  };
  status_rate("no_show_rate", "No-show rate",
              {"no show rate", "noshow rate", "no show percentage", "no show percent",
               "no show ratio", "dna rate", "did not attend rate", "missed appointment rate"},
              "no_show", "is_no_show", "no_shows");
  status_rate("cancellation_rate", "Cancellation rate",
              {"cancellation rate", "cancel rate", "cancellation percentage",
               "cancellation percent", "cancellation ratio"},
              "cancelled", "is_cancelled", "cancellations");
  // Client retention, or bonding (issue 14): of the clients seen in the
  // period before, the share seen again in the period. "Seen" is a completed
  // appointment, as for active clients by visits. The rows are the period's
  // completed appointments; the clients of the period before come from the
  // whole appointments table, so nothing may filter or break the rows down
  // (a filter would keep this period's rows only, not the other's).
  {
    Metric m;
    m.id = "client_retention_rate";
    m.display = "Client retention rate";
    m.synonyms = {"retention",
                  "retention rate",
                  "client retention",
                  "client retention rate",
                  "customer retention",
                  "customer retention rate",
                  "bonding",
                  "bonding rate",
                  "client bonding",
                  "client bonding rate",
                  "returning client rate",
                  "client return rate",
                  "retained client percentage"};
    m.base = kAppointments;
    m.date_column = "starts_at";
    m.definition =
        "100 * clients with a completed appointment in the period who also had one in the "
        "period before / clients with a completed appointment in the period before (the "
        "whole calendar year, quarter, month or week before a calendar period, else as many "
        "days just before), by starts_at";
    m.looks_back = true;
    m.prepare = {
        "base_start, base_end, _ = period_before[start]",
        "base = appointments[(appointments[\"status\"] == \"completed\")",
        "                    & (appointments[\"starts_at\"] >= base_start)",
        "                    & (appointments[\"starts_at\"] < base_end + pd.Timedelta(days=1))]",
        "df[\"returning\"] = df[\"client_id\"].where(df[\"client_id\"].isin(base[\"client_id\"]))",
        "df[\"base_clients\"] = base[\"client_id\"].nunique()  # the same on every row"};
    m.components = {{"returning", "returning", "nunique"}, {"base_clients", "base_clients", "max"}};
    m.numerator = "{returning}";
    m.denominator = "base_clients";
    m.scale = 100;
    m.unit = "percent";
    m.implied_filters = {{"appointment_status", {"completed"}}};
    m.empty_noun = "completed appointments";
    m.detail =
        " ({count(m['returning'])} of the {count(m['base_clients'])} clients seen "
        "{period_before[start][2]} came back)";
    m.reads = {"appointments.starts_at", "appointments.status", "appointments.client_id"};
    m.not_by = {"vet",
                "role",
                "category",
                "item",
                "species",
                "breed",
                "sex",
                "appointment_type",
                "appointment_status",
                "patient_status",
                "client_status",
                "day_of_week",
                "appointment_link",
                "day",
                "week",
                "month",
                "quarter",
                "year",
                "weekday",
                "hour"};
    add(std::move(m));
  }
  // Appointments per vet per working day (issue 14). The schema has no
  // rota: a vet's working day is a day with at least one completed
  // appointment of theirs, so the figure is completed appointments over
  // (vet, day) pairs, overall or per vet.
  {
    Metric m;
    m.id = "appointments_per_vet_day";
    m.display = "Completed appointments per vet per working day";
    m.synonyms = {"appointments per vet per day",
                  "appointments per vet per working day",
                  "appointments per vet per day worked",
                  "appointments per vet day",
                  "appointments per doctor per day",
                  "appointments per veterinarian per day",
                  "appointments per veterinarian per working day",
                  "completed appointments per vet per day",
                  "completed appointments per vet per working day",
                  "daily appointments per vet",
                  "average appointments per vet per day"};
    m.base = kAppointments;
    m.date_column = "starts_at";
    m.definition =
        "number of completed appointments of veterinarians / number of "
        "distinct (staff_id, day) pairs among them (a working day: a day with "
        "a completed appointment), by starts_at";
    m.prepare = {
        "df[\"vet_day\"] = df[\"staff_id\"].astype(str) + \"/\" + "
        "df[\"starts_at\"].dt.strftime(\"%Y-%m-%d\")"};
    m.components = {{"appointments", "appointment_id", "size"}, {"vet_days", "vet_day", "nunique"}};
    m.numerator = "{appointments}";
    m.denominator = "vet_days";
    m.unit = "count";
    m.implied_filters = {{"appointment_status", {"completed"}}, {"role", {"veterinarian"}}};
    m.empty_noun = "completed appointments of veterinarians";
    m.detail =
        " ({count(m['appointments'])} completed appointments over "
        "{count(m['vet_days'])} vet working days)";
    m.reads = {"appointments.starts_at", "appointments.status", "appointments.appointment_id",
               "appointments.staff_id"};
    m.row_metrics = {"appointments", "completed_appointments"};
    add(std::move(m));
  }
  // Booking lead time: how far ahead appointments are booked. booked_at is
  // optional; appointments without one are left out (and counted).
  {
    Metric m;
    m.id = "booking_lead_time";
    m.display = "Booking lead time";
    m.synonyms = {"booking lead time",
                  "average booking lead time",
                  "lead time",
                  "average lead time",
                  "booking lead",
                  "booking window",
                  "advance booking time",
                  "days booked ahead",
                  "days booked in advance",
                  "days between booking and appointment",
                  "average days between booking and appointment",
                  "how far ahead",
                  "how far in advance"};
    m.base = kAppointments;
    m.date_column = "starts_at";
    m.definition =
        "average days from booked_at to starts_at of the appointments "
        "starting in the period that have a booked_at (any status unless one "
        "is named)";
    m.prepare = {
        "df[\"lead_days\"] = (df[\"starts_at\"] - pd.to_datetime(df[\"booked_at\"]))"
        ".dt.total_seconds() / 86400"};
    m.components = {{"lead_days", "lead_days", "sum"}, {"booked", "lead_days", "count"}};
    m.numerator = "{lead_days}";
    m.denominator = "booked";
    m.unit = "days";
    m.empty_noun = "appointments";
    m.detail =
        " days (the average over {count(m['booked'])} appointments with a "
        "booking time)";
    m.note =
        " Left out: {count(len(df) - m['booked'])} of {count(len(df))} "
        "appointments, without a booking time.";
    m.note_when = "m[\"booked\"] < len(df)";
    m.reads = {"appointments.starts_at", "appointments.booked_at"};
    m.row_metrics = {"appointments"};
    add(std::move(m));
  }
  // Procedures done. DATA_SCHEMA.md lists surgeries and dentals among the
  // KPIs; an appointment's type says what was booked and its status whether
  // it happened, so "how many surgeries did we do" counts completed
  // appointments of type surgery (the surgery and dental filter words imply
  // this metric). Invoice lines of category surgery are what was charged,
  // not how many were done: one surgery bills several lines.
  {
    Metric m;
    m.id = "completed_appointments";
    m.display = "Completed appointments";
    m.synonyms = {"procedure done", "procedure performed", "appointment done",
                  "appointment completed"};
    m.base = kAppointments;
    m.date_column = "starts_at";
    m.definition =
        "number of appointments with status completed by starts_at (with "
        "type surgery or dental: surgeries or dentals done)";
    m.components = {{"appointments", "appointment_id", "size"}};
    m.numerator = "{appointments}";
    m.unit = "count";
    m.implied_filters = {{"appointment_status", {"completed"}}};
    m.empty_noun = "completed appointments";
    m.reads = {"appointments.starts_at", "appointments.status", "appointments.appointment_id"};
    m.row_metrics = {"appointments"};
    add(std::move(m));
  }
  {
    Metric m;
    m.id = "new_clients";
    m.display = "New clients";
    m.synonyms = {"new client",
                  "new customer",
                  "new owner",
                  "client acquisition",
                  "new registration",
                  "new client registration",
                  "client registration",
                  "client registered",
                  "registration",
                  "signup",
                  "sign up"};
    m.base = kClients;
    m.date_column = "created_on";
    m.definition = "number of clients by created_on";
    m.components = {{"clients", "client_id", "size"}};
    m.numerator = "{clients}";
    m.unit = "count";
    m.empty_noun = "new clients";
    m.reads = {"clients.created_on", "clients.client_id"};
    add(std::move(m));
  }
  {
    Metric m;
    m.id = "active_clients";
    m.display = "Active clients";
    m.synonyms = {"active client", "active customer", "active owner", "active client count"};
    m.base = kClients;
    m.definition =
        "number of clients whose status is active now (clients.status); the "
        "answer also gives the clients of any status with a completed "
        "appointment in the last 12 and in the last 18 months to the as-of day";
    m.components = {{"clients", "client_id", "size"}};
    m.numerator = "{clients}";
    m.unit = "count";
    m.implied_filters = {{"client_status", {"active"}}};
    m.empty_noun = "active clients";
    m.reads = {"clients.status", "clients.client_id"};
    // DATA_SCHEMA.md: active by status, "or, where asked, clients with a
    // completed appointment in the last 18 months: say which". The status
    // reading answers; the visit readings come with it.
    m.uses_as_of = true;
    // Not in `reads`: without appointments (an export that has none) the
    // answer says it cannot count by visits rather than being declined.
    m.seen_months = {12, 18};
    m.seen_rows = "clients";
    m.seen_key = "client_id";
    m.seen_noun = "clients";
    add(std::move(m));
  }
  {
    Metric m;
    m.id = "clients";
    m.display = "Clients";
    m.synonyms = {"client", "customer", "owner", "client base", "client count"};
    m.base = kClients;
    m.definition = "number of clients on file now, any status; with a period, clients seen";
    m.components = {{"clients", "client_id", "size"}};
    m.numerator = "{clients}";
    m.unit = "count";
    m.empty_noun = "clients";
    m.reads = {"clients.client_id"};
    m.dated_alternative = "clients_seen";
    add(std::move(m));
  }
  // "Clients seen in the last 6 months" (issue 14): owners with a completed
  // appointment, as patients seen counts their animals.
  {
    Metric m;
    m.id = "clients_seen";
    m.display = "Clients seen";
    m.synonyms = {"clients seen",    "customers seen",  "owners seen",      "unique client",
                  "distinct client", "unique customer", "distinct customer"};
    m.base = kAppointments;
    m.date_column = "starts_at";
    m.definition = "number of distinct client_id of completed appointments by starts_at";
    m.components = {{"clients", "client_id", "nunique"}};
    m.numerator = "{clients}";
    m.unit = "count";
    m.implied_filters = {{"appointment_status", {"completed"}}};
    m.empty_noun = "completed appointments";
    m.reads = {"appointments.starts_at", "appointments.status", "appointments.client_id"};
    m.row_metrics = {"appointments"};
    add(std::move(m));
  }
  {
    Metric m;
    m.id = "patients_seen";
    m.display = "Patients seen";
    m.synonyms = {"patients seen", "unique patient", "distinct patient", "animals seen",
                  "pets seen",     "patient visit",  "unique pet",       "unique animal"};
    m.base = kAppointments;
    m.date_column = "starts_at";
    m.definition = "number of distinct patient_id of completed appointments by starts_at";
    m.components = {{"patients", "patient_id", "nunique"}};
    m.numerator = "{patients}";
    m.unit = "count";
    m.implied_filters = {{"appointment_status", {"completed"}}};
    m.empty_noun = "completed appointments";
    m.reads = {"appointments.starts_at", "appointments.status", "appointments.patient_id"};
    m.row_metrics = {"appointments"};
    add(std::move(m));
  }
  // New patients: patients.csv has no registration date, so a patient is new
  // in the period of their first completed appointment ever (issue 14). The
  // rows are the period's completed appointments; a patient counts once,
  // on the row that is their first visit.
  {
    Metric m;
    m.id = "new_patients";
    m.display = "New patients";
    m.synonyms = {"new patient",    "new pet",     "new animal",       "first time patient",
                  "first time pet", "first visit", "first time visit", "new patient visit"};
    m.base = kAppointments;
    m.date_column = "starts_at";
    m.definition =
        "number of distinct patients whose first completed appointment ever "
        "starts in the period, by starts_at";
    m.prepare = {
        "first = appointments[appointments[\"status\"] == \"completed\"]"
        ".groupby(\"patient_id\")[\"starts_at\"].min()",
        "df[\"new_patient\"] = df[\"patient_id\"].where(df[\"starts_at\"] == "
        "df[\"patient_id\"].map(first))  # NaN unless the first visit"};
    m.components = {{"patients", "new_patient", "nunique"}};
    m.numerator = "{patients}";
    m.unit = "count";
    m.implied_filters = {{"appointment_status", {"completed"}}};
    m.empty_noun = "completed appointments";
    m.reads = {"appointments.starts_at", "appointments.status", "appointments.patient_id"};
    m.row_metrics = {"appointments", "patients_seen"};
    add(std::move(m));
  }
  {
    Metric m;
    m.id = "visits_per_patient";
    m.display = "Visits per patient";
    m.synonyms = {"visits per patient",
                  "visit per patient",
                  "visits per pet",
                  "visits per animal",
                  "visits per pt",
                  "appointments per patient",
                  "average visits per patient",
                  "average visits per pet",
                  "visit frequency",
                  "average number of visits per patient"};
    m.base = kAppointments;
    m.date_column = "starts_at";
    m.definition =
        "number of completed appointments / number of distinct patient_id of "
        "them, by starts_at";
    m.components = {{"visits", "appointment_id", "size"}, {"patients", "patient_id", "nunique"}};
    m.numerator = "{visits}";
    m.denominator = "patients";
    m.unit = "count";
    m.implied_filters = {{"appointment_status", {"completed"}}};
    m.empty_noun = "completed appointments";
    m.detail =
        " ({count(m['visits'])} completed appointments of "
        "{count(m['patients'])} patients)";
    m.reads = {"appointments.starts_at", "appointments.status", "appointments.appointment_id",
               "appointments.patient_id"};
    m.row_metrics = {"appointments"};
    add(std::move(m));
  }
  {
    Metric m;
    m.id = "patients";
    m.display = "Active patients";
    // "Active patients" is the patients' own status, never their clients'
    // (client status is a filter word of its own).
    m.synonyms = {"patient",          "pet",           "animal",
                  "patients on file", "patient count", "patient base",
                  "active patient",   "active pet",    "active animal",
                  "living patient",   "live patient"};
    m.base = kPatients;
    m.definition =
        "number of living patients on file now (patients.status active); "
        "with a period, patients seen; the answer also gives the living "
        "patients with a completed appointment in the last 12 and in the last "
        "18 months to the as-of day";
    m.components = {{"patients", "patient_id", "size"}};
    m.numerator = "{patients}";
    m.unit = "count";
    m.implied_filters = {{"patient_status", {"active"}}};
    m.empty_noun = "living patients";
    m.reads = {"patients.status", "patients.patient_id"};
    m.dated_alternative = "patients_seen";
    m.uses_as_of = true;
    m.seen_months = {12, 18};
    m.seen_rows = "df";  // the living patients the question's filters keep
    m.seen_key = "patient_id";
    m.seen_noun = "living patients";
    add(std::move(m));
  }
  // Lapsed and lapsing patients (issue 14): living patients whose last
  // completed appointment falls in a band of rolling months before the as-of
  // day: 18 to 36 months (lapsed; longer ago counts as lost, not lapsed) or
  // 14 to 18 months (lapsing: due for a reminder before they lapse).
  auto last_seen_band = [&add](const char* id, const char* display,
                               std::vector<std::string> synonyms, int recent, int oldest) {
    Metric m;
    m.id = id;
    m.display = display;
    m.synonyms = std::move(synonyms);
    m.base = kPatients;
    m.definition = absl::StrCat(
        "number of living patients (patients.status active) whose last "
        "completed appointment falls in the last ",
        oldest, " rolling months to the as-of day but not in the last ", recent);
    m.uses_as_of = true;
    m.prepare = {
        "df[\"last_visit\"] = df[\"patient_id\"].map(done.groupby(\"patient_id\")"
        "[\"starts_at\"].max())",
        absl::StrCat("df[\"in_band\"] = (df[\"last_visit\"] >= window_start(", oldest,
                     ")) & (df[\"last_visit\"] < window_start(", recent, "))")};
    m.components = {{"patients", "in_band", "sum"}, {"living", "patient_id", "size"}};
    m.numerator = "{patients}";
    m.unit = "count";
    m.implied_filters = {{"patient_status", {"active"}}};
    m.empty_noun = "living patients";
    m.detail = absl::StrCat(
        " (of {count(m['living'])} living patients: last completed "
        "appointment from {window_start(",
        oldest, "):%Y-%m-%d} to before {window_start(", recent, "):%Y-%m-%d})");
    m.reads = {"patients.status", "patients.patient_id", "appointments.status",
               "appointments.starts_at", "appointments.patient_id"};
    // "How many of our patients have lapsed": the patients are its rows.
    m.row_metrics = {"patients"};
    add(std::move(m));
  };
  last_seen_band("lapsed_patients", "Lapsed patients",
                 {"lapsed", "lapsed patient", "lapsed pet", "lapsed animal"},
                 /*recent=*/18, /*oldest=*/36);
  last_seen_band("lapsing_patients", "Lapsing patients",
                 {"lapsing", "lapsing patient", "lapsing pet", "lapsing animal"},
                 /*recent=*/14, /*oldest=*/18);
  {
    Metric m;
    m.id = "items_sold";
    m.display = "Items sold";
    m.synonyms = {"items sold",    "item sold", "units sold", "quantity",
                  "quantity sold", "unit",      "volume"};
    m.base = kInvoices;
    m.date_column = "invoiced_on";
    m.definition = "sum of invoice_lines.quantity by invoiced_on (refunds are negative)";
    m.components = {{"quantity", "quantity", "sum"}};
    m.numerator = "{quantity}";
    m.unit = "count";
    m.empty_noun = "invoices";
    m.reads = {"invoice_lines.invoiced_on", "invoice_lines.quantity"};
    add(std::move(m));
  }
  return metrics;
}

Source Native(std::string column) { return Source{std::move(column), "", "", ""}; }
Source Lookup(std::string column, std::string table, std::string key, std::string value) {
  return Source{std::move(column), std::move(table), std::move(key), std::move(value)};
}

std::vector<Attribute> BuildAttributes() {
  std::vector<Attribute> attributes;
  const int inv = static_cast<int>(kInvoices);
  const int app = static_cast<int>(kAppointments);
  const int cli = static_cast<int>(kClients);
  const int pat = static_cast<int>(kPatients);
  {
    Attribute a;
    a.id = "vet";
    a.display = "vet";
    a.synonyms = {"vet",   "veterinarian", "doctor",   "clinician",   "provider",
                  "staff", "staff member", "employee", "team member", "who"};
    a.sources[inv] = Lookup("staff_id", "staff", "staff_id", "full_name");
    a.sources[app] = Lookup("staff_id", "staff", "staff_id", "full_name");
    a.missing_label = "(no staff)";
    a.names = ValueNames::kStaff;
    // Staff names are any role's; "which vet" means a veterinarian
    // (staff.role), not a technician.
    a.rank_filters = {{"role", {"veterinarian"}}};
    attributes.push_back(std::move(a));
  }
  {
    Attribute a;
    a.id = "role";
    a.display = "staff role";
    a.synonyms = {"role", "staff role", "job title", "position"};
    a.sources[inv] = Lookup("staff_id", "staff", "staff_id", "role");
    a.sources[app] = Lookup("staff_id", "staff", "staff_id", "role");
    a.values = {"veterinarian", "technician", "receptionist", "manager"};
    a.names = ValueNames::kEnum;
    a.missing_label = "(no staff)";
    a.filter_phrase = "for {} staff";
    attributes.push_back(std::move(a));
  }
  {
    Attribute a;
    a.id = "category";
    a.display = "category";
    a.synonyms = {"category",         "service category", "revenue category",
                  "product category", "department",       "revenue stream"};
    a.sources[inv] = Native("category");
    a.values = {"consultation", "vaccine",         "laboratory", "imaging", "surgery", "dental",
                "pharmacy",     "hospitalization", "retail",     "diet",    "other"};
    a.names = ValueNames::kEnum;
    a.value_words = true;
    a.filter_phrase = "in category {}";
    attributes.push_back(std::move(a));
  }
  {
    Attribute a;
    a.id = "item";
    a.display = "item";
    a.synonyms = {"item",      "service",   "product",     "procedure",
                  "treatment", "line item", "description", "item description"};
    a.sources[inv] = Native("description");
    attributes.push_back(std::move(a));
  }
  {
    Attribute a;
    a.id = "species";
    a.display = "species";
    a.synonyms = {"species",        "animal type", "type of animal",
                  "kind of animal", "pet type",    "type of pet"};
    a.sources[inv] = Lookup("patient_id", "patients", "patient_id", "species");
    a.sources[app] = Lookup("patient_id", "patients", "patient_id", "species");
    a.sources[pat] = Native("species");
    a.values = {"canine", "feline", "rabbit", "avian", "reptile", "rodent", "equine", "other"};
    a.names = ValueNames::kEnum;
    a.value_words = true;
    a.filter_phrase = "for {} patients";
    a.missing_label = "(no patient)";
    attributes.push_back(std::move(a));
  }
  {
    Attribute a;
    a.id = "breed";
    a.display = "breed";
    a.synonyms = {"breed"};
    a.sources[inv] = Lookup("patient_id", "patients", "patient_id", "breed");
    a.sources[app] = Lookup("patient_id", "patients", "patient_id", "breed");
    a.sources[pat] = Native("breed");
    a.missing_label = "(unknown)";
    attributes.push_back(std::move(a));
  }
  {
    Attribute a;
    a.id = "sex";
    a.display = "sex";
    a.synonyms = {"sex", "gender"};
    a.sources[inv] = Lookup("patient_id", "patients", "patient_id", "sex");
    a.sources[app] = Lookup("patient_id", "patients", "patient_id", "sex");
    a.sources[pat] = Native("sex");
    a.values = {"m", "f", "mn", "fs"};
    a.names = ValueNames::kEnum;
    a.value_names = {
        {"m", "Male"}, {"f", "Female"}, {"mn", "Male neutered"}, {"fs", "Female spayed"}};
    a.missing_label = "(unknown)";
    attributes.push_back(std::move(a));
  }
  {
    Attribute a;
    a.id = "appointment_type";
    a.display = "appointment type";
    a.synonyms = {"appointment type",   "type of appointment", "visit type", "type of visit",
                  "appointment reason", "reason for visit",    "type",       "reason"};
    a.sources[app] = Native("type");
    // Invoice lines reach the type through their appointment; walk-in sales
    // have none.
    a.sources[inv] = Lookup("appointment_id", "appointments", "appointment_id", "type");
    a.values = {"wellness", "vaccination", "sick",      "recheck",
                "surgery",  "dental",      "emergency", "grooming"};
    a.names = ValueNames::kEnum;
    a.value_words = true;
    a.filter_phrase = "for {} appointments";
    a.missing_label = "(no appointment)";
    attributes.push_back(std::move(a));
  }
  {
    Attribute a;
    a.id = "appointment_status";
    a.display = "appointment status";
    a.synonyms = {"appointment status", "status", "outcome", "appointment outcome"};
    a.sources[app] = Native("status");
    a.values = {"completed", "no_show", "cancelled", "scheduled"};
    a.names = ValueNames::kEnum;
    a.value_names = {{"no_show", "No-show"}};
    a.filter_phrase = "with status {}";
    a.future_values = {"scheduled"};
    attributes.push_back(std::move(a));
  }
  {
    Attribute a;
    a.id = "patient_status";
    a.display = "patient status";
    a.synonyms = {"patient status", "status"};
    a.sources[pat] = Native("status");
    a.values = {"active", "deceased"};
    a.names = ValueNames::kEnum;
    a.filter_phrase = "with patient status {}";
    attributes.push_back(std::move(a));
  }
  {
    Attribute a;
    a.id = "client_status";
    a.display = "client status";
    a.synonyms = {"client status", "status"};
    a.sources[cli] = Native("status");
    a.sources[inv] = Lookup("client_id", "clients", "client_id", "status");
    a.sources[app] = Lookup("client_id", "clients", "client_id", "status");
    a.values = {"active", "inactive"};
    a.names = ValueNames::kEnum;
    a.filter_phrase = "with client status {}";
    attributes.push_back(std::move(a));
  }
  // Computed from a date: "on Saturdays", "weekend revenue". A filter (and
  // the breakdown of "Saturdays vs Sundays"); "by weekday" is the time grain.
  {
    Attribute a;
    a.id = "day_of_week";
    a.display = "day of the week";
    // Named as the weekday breakdown names them: "Saturday".
    const std::string day = ".dt.day_name()";
    a.sources[inv] = Source{"invoiced_on", "", "", "", day};
    a.sources[app] = Source{"starts_at", "", "", "", day};
    a.values = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
    a.names = ValueNames::kEnum;
    a.proper_names = true;
    a.filter_phrase = "on {}";
    attributes.push_back(std::move(a));
  }
  // Invoice lines with and without an appointment: walk-in sales have none.
  {
    Attribute a;
    a.id = "appointment_link";
    a.display = "appointment link";
    a.sources[inv] =
        Source{"appointment_id", "", "", "",
               ".notna().map({True: \"with_appointment\", False: \"without_appointment\"})"};
    // Breakdown phrases, declared whole: "with" is a stop word, and dropping
    // it would leave "vs without an appointment" (a comparison of periods)
    // or "or without an appointment" (walk-ins only).
    a.synonyms = {"appointment link"};
    for (const char* join : {"vs", "versus", "or", "and", "compared to"}) {
      for (const char* an : {"an ", ""}) {
        a.synonyms.push_back(absl::StrCat("with ", join, " without ", an, "appointment"));
      }
    }
    a.values = {"with_appointment", "without_appointment"};
    a.names = ValueNames::kEnum;
    a.value_names = {{"with_appointment", "With an appointment"},
                     {"without_appointment", "Without an appointment"}};
    a.filter_phrase = "{}";
    attributes.push_back(std::move(a));
  }
  return attributes;
}

std::vector<TimeGrain> BuildTimeGrains() {
  std::vector<TimeGrain> grains;
  grains.push_back({"day",
                    {"day", "daily", "date", "day by day"},
                    "{d}.dt.strftime(\"%Y-%m-%d\")",
                    "pd.date_range(start, end, freq=\"D\").strftime(\"%Y-%m-%d\")",
                    "x",
                    "on",
                    /*line_chart=*/true,
                    /*needs_time_of_day=*/false,
                    "D"});
  grains.push_back({"week",
                    {"week", "weekly", "week by week", "week over week"},
                    "{d}.dt.to_period(\"W-SUN\").dt.start_time.dt.strftime(\"%Y-%m-%d\")",
                    "pd.period_range(start, end, "
                    "freq=\"W-SUN\").start_time.strftime(\"%Y-%m-%d\")",
                    "f\"the week of {x}\"",
                    "in",
                    /*line_chart=*/true,
                    /*needs_time_of_day=*/false,
                    "W-SUN"});
  grains.push_back({"month",
                    {"month", "monthly", "month by month", "month over month", "mom"},
                    "{d}.dt.to_period(\"M\").astype(str)",
                    "pd.period_range(start, end, freq=\"M\").astype(str)",
                    "pd.Period(x).strftime(\"%B %Y\")",
                    "in",
                    /*line_chart=*/true,
                    /*needs_time_of_day=*/false,
                    "M"});
  grains.push_back({"quarter",
                    {"quarter", "quarterly", "quarter by quarter", "quarter over quarter"},
                    "{d}.dt.to_period(\"Q\").astype(str)",
                    "pd.period_range(start, end, freq=\"Q\").astype(str)",
                    "x",
                    "in",
                    /*line_chart=*/true,
                    /*needs_time_of_day=*/false,
                    "Q"});
  grains.push_back({"year",
                    {"year", "yearly", "annual", "annually", "year by year"},
                    "{d}.dt.year.astype(str)",
                    "[str(y) for y in range(start.year, end.year + 1)]",
                    "x",
                    "in",
                    /*line_chart=*/true,
                    /*needs_time_of_day=*/false,
                    "Y"});
  grains.push_back({"weekday",
                    {"weekday", "day of week", "day of the week", "days of the week"},
                    "{d}.dt.day_name()",
                    "[\"Monday\", \"Tuesday\", \"Wednesday\", \"Thursday\", \"Friday\", "
                    "\"Saturday\", \"Sunday\"]",
                    "x",
                    "on",
                    /*line_chart=*/false});
  grains.push_back({"hour",
                    {"hour", "hour of day", "hour of the day", "time of day", "time of the day"},
                    "{d}.dt.hour",
                    "list(range(24))",
                    "f\"{x:02d}:00\"",
                    "at",
                    /*line_chart=*/false,
                    /*needs_time_of_day=*/true});
  return grains;
}

std::vector<FilterWord> BuildFilterWords() {
  std::vector<FilterWord> words;
  auto add = [&words](std::vector<std::string> phrases, std::vector<FilterClause> candidates,
                      std::string implied_metric = "", bool upcoming = false) {
    words.push_back(
        {std::move(phrases), std::move(candidates), std::move(implied_metric), upcoming});
  };
  // Species.
  add({"dog", "puppy", "canine"}, {{"species", {"canine"}}});
  add({"cat", "kitten", "kitty", "feline"}, {{"species", {"feline"}}});
  add({"rabbit", "bunny"}, {{"species", {"rabbit"}}});
  add({"bird", "parrot", "budgie", "avian"}, {{"species", {"avian"}}});
  add({"reptile", "snake", "lizard", "turtle", "tortoise"}, {{"species", {"reptile"}}});
  add({"rodent", "hamster", "guinea pig", "rat", "mouse", "mice", "gerbil"},
      {{"species", {"rodent"}}});
  add({"horse", "pony", "equine"}, {{"species", {"equine"}}});
  add({"exotic", "exotic animal", "exotic pet"},
      {{"species", {"rabbit", "avian", "reptile", "rodent"}}});
  // Invoice categories; where an appointment type means the same, it is the
  // second candidate (used for appointment metrics).
  add({"consultation", "consult", "exam", "examination"}, {{"category", {"consultation"}}});
  add({"vaccine", "vaccination", "shot", "jab", "immunization", "immunisation"},
      {{"category", {"vaccine"}}, {"appointment_type", {"vaccination"}}});
  add({"lab", "laboratory", "lab work", "bloodwork", "blood work", "lab test", "diagnostic"},
      {{"category", {"laboratory"}}});
  add({"imaging", "xray", "x ray", "radiology", "radiograph", "ultrasound"},
      {{"category", {"imaging"}}});
  // Named alone ("how many surgeries did we do") they count the procedures
  // done: completed appointments of that type.
  add({"surgery", "surgical", "operation"},
      {{"category", {"surgery"}}, {"appointment_type", {"surgery"}}}, "completed_appointments");
  add({"dental", "dentistry", "dental cleaning", "teeth cleaning"},
      {{"category", {"dental"}}, {"appointment_type", {"dental"}}}, "completed_appointments");
  add({"pharmacy", "medication", "medicine", "meds", "drug", "prescription", "rx"},
      {{"category", {"pharmacy"}}});
  add({"hospitalization", "hospitalisation", "inpatient", "hospital stay"},
      {{"category", {"hospitalization"}}});
  add({"retail", "shop", "merchandise"}, {{"category", {"retail"}}});
  add({"diet", "food", "pet food", "nutrition", "prescription diet"}, {{"category", {"diet"}}});
  // Appointment types.
  // Appointment types; named alone ("emergencies last month") they count
  // appointments.
  add({"wellness", "wellness exam", "wellness visit", "checkup", "check up", "annual exam"},
      {{"appointment_type", {"wellness"}}}, "appointments");
  add({"sick", "sick visit", "illness"}, {{"appointment_type", {"sick"}}}, "appointments");
  add({"recheck", "re check", "follow up", "followup"}, {{"appointment_type", {"recheck"}}},
      "appointments");
  add({"emergency", "er", "urgent", "urgent care"}, {{"appointment_type", {"emergency"}}},
      "appointments");
  add({"grooming", "groom"}, {{"appointment_type", {"grooming"}}}, "appointments");
  // Appointment status; naming one means counting appointments.
  add({"completed", "complete", "attended", "kept"}, {{"appointment_status", {"completed"}}},
      "appointments");
  add({"no show", "noshow", "missed", "missed appointment", "did not attend", "dna"},
      {{"appointment_status", {"no_show"}}}, "appointments");
  add({"cancelled", "canceled", "cancellation", "cancelled appointment"},
      {{"appointment_status", {"cancelled"}}}, "appointments");
  add({"scheduled"}, {{"appointment_status", {"scheduled"}}}, "appointments");
  // Booked ahead: status scheduled, starting after the as-of day.
  add({"upcoming", "future", "coming up", "booked ahead"}, {{"appointment_status", {"scheduled"}}},
      "appointments",
      /*upcoming=*/true);
  // Client status ("active clients" is a metric of its own). Not "lapsed":
  // lapsed patients are a metric of visits (lapsed_patients), not a status.
  add({"inactive"}, {{"client_status", {"inactive"}}});
  add({"active"}, {{"client_status", {"active"}}});
  // Days of the week ("on Saturdays", "Saturday appointments").
  for (const char* day :
       {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}) {
    std::string word = day;
    word[0] = static_cast<char>(word[0] - 'A' + 'a');
    add({word}, {{"day_of_week", {day}}});
  }
  add({"weekend"}, {{"day_of_week", {"Saturday", "Sunday"}}});
  // Invoice lines not linked to an appointment.
  add({"walk in", "walkin", "without an appointment", "without appointment",
       "without any appointment", "with no appointment", "no appointment",
       "not linked to an appointment", "not linked to any appointment",
       "unlinked to an appointment", "over the counter", "otc"},
      {{"appointment_link", {"without_appointment"}}});
  add({"with an appointment", "linked to an appointment"},
      {{"appointment_link", {"with_appointment"}}});
  // Staff roles.
  add({"technician", "tech", "nurse"}, {{"role", {"technician"}}});
  add({"receptionist"}, {{"role", {"receptionist"}}});
  // "Dental appointments", "surgery visits": an appointment type before a
  // word for the appointment is one filter on the type (for invoice lines:
  // the lines of that visit, whatever their category), not a filter and a
  // metric; alone it counts appointments. "average invoice for dental
  // appointments" is the visits' invoices.
  {
    std::vector<std::string> declared;
    for (const FilterWord& w : words) {
      declared.insert(declared.end(), w.phrases.begin(), w.phrases.end());
    }
    for (const std::string& type : FindAttribute("appointment_type")->values) {
      std::vector<std::string> phrases;
      for (const char* noun : {"appointment", "appt", "visit"}) {
        std::string phrase = absl::StrCat(type, " ", noun);
        if (std::find(declared.begin(), declared.end(), phrase) == declared.end())
          phrases.push_back(std::move(phrase));
      }
      add(std::move(phrases), {{"appointment_type", {type}}}, "appointments");
    }
  }
  // "feline patients", "dog pets": a species word before a word for the
  // animal is one filter, not a filter and a metric.
  const size_t declared = words.size();
  for (size_t k = 0; k < declared; ++k) {
    if (words[k].candidates[0].attribute != "species") continue;
    std::vector<std::string> phrases;
    for (const std::string& p : words[k].phrases) {
      for (const char* animal : {"patient", "pet", "animal"}) {
        phrases.push_back(absl::StrCat(p, " ", animal));
      }
    }
    add(std::move(phrases), words[k].candidates);
  }
  // Every enum value of a value_words attribute is a filter word too, except
  // "other", which means nothing on its own.
  for (const Attribute& a : Attributes()) {
    if (!a.value_words) continue;
    for (const std::string& v : a.values) {
      if (v == "other") continue;
      std::string phrase = v;
      for (char& c : phrase) {
        if (c == '_') c = ' ';
      }
      add({phrase}, {{a.id, {v}}});
    }
  }
  return words;
}

std::vector<Cue> BuildCues() {
  std::vector<Cue> cues;
  cues.push_back({{"what",    "whats",      "which",       "was",        "were",      "is",
                   "are",     "be",         "been",        "being",      "our",       "ours",
                   "my",      "the",        "a",           "an",         "how",       "much",
                   "many",    "did",        "do",          "does",       "done",      "we",
                   "i",       "us",         "you",         "your",       "show",      "me",
                   "give",    "tell",       "list",        "get",        "got",       "by",
                   "per",     "in",         "for",         "of",         "on",        "at",
                   "to",      "from",       "with",        "and",        "or",        "each",
                   "every",   "all",        "total",       "number",     "count",     "amount",
                   "value",   "clinic",     "practice",    "hospital",   "please",    "can",
                   "could",   "would",      "will",        "there",      "it",        "its",
                   "that",    "this",       "those",       "these",      "so",        "far",
                   "up",      "breakdown",  "break",       "broken",     "down",      "split",
                   "grouped", "group",      "across",      "during",     "within",    "over",
                   "about",   "only",       "just",        "instead",    "then",      "same",
                   "now",     "currently",  "current",     "into",       "as",        "well",
                   "also",    "data",       "figure",      "stat",       "statistic", "kpi",
                   "report",  "summary",    "let",         "know",       "want",      "need",
                   "check",   "find",       "compute",     "calculate",  "have",      "has",
                   "had",     "having",     "performance", "performing", "perform",   "doing",
                   "look",    "looking",    "like",        "dollar",     "usd",       "period",
                   "time",    "what about", "how about",   "where",      "chart",     "graph",
                   "plot",    "table",      "come",        "came",       "coming",    "gave",
                   "given",   "giving"},
                  CueKind::kStop});
  // "What share of revenue came from pharmacy", "what percentage of
  // appointments were no-shows".
  cues.push_back({{"share", "percentage", "percent", "proportion", "fraction", "portion", "pct"},
                  CueKind::kShare});
  // A follow-up that undoes part of the previous question: "and overall?"
  // after "revenue by vet last quarter", "all animals" after "only cats".
  cues.push_back(
      {{"overall", "in total", "altogether", "all together", "as a whole", "without the breakdown",
        "without breakdown", "no breakdown", "not broken down", "without breaking it down"},
       CueKind::kOverall});
  cues.push_back(
      {{"all animals", "all pets", "all species", "every species", "any species", "every animal",
        "without the filter", "without filter", "without any filter", "no filter", "unfiltered",
        "everyone", "whole practice", "whole clinic", "entire practice", "entire clinic"},
       CueKind::kAllRows});
  cues.push_back(
      {{"trend", "trending", "over time", "evolution", "history", "progression", "time series"},
       CueKind::kTrend});
  cues.push_back({{"most", "highest", "largest", "biggest", "greatest", "leading", "maximum", "max",
                   "top performing"},
                  CueKind::kRankHighest});
  // "Our best month", "the worst quarter": with no metric named, the
  // practice's revenue (the answer names the metric it ranked by).
  cues.push_back({{"best", "best performing"}, CueKind::kRankHighest, "revenue"});
  cues.push_back({{"top"}, CueKind::kRankHighest, "", /*count=*/10});
  cues.push_back({{"busiest"}, CueKind::kRankHighest, "appointments"});
  cues.push_back(
      {{"best selling", "top selling", "bestselling", "most sold", "most popular", "popular"},
       CueKind::kRankHighest,
       "items_sold"});
  cues.push_back(
      {{"least", "lowest", "fewest", "smallest", "minimum", "min"}, CueKind::kRankLowest});
  cues.push_back({{"worst", "worst performing"}, CueKind::kRankLowest, "revenue"});
  cues.push_back({{"bottom"}, CueKind::kRankLowest, "", /*count=*/10});
  cues.push_back({{"quietest", "slowest"}, CueKind::kRankLowest, "appointments"});
  cues.push_back({{"growth", "grow", "grew", "growing", "change", "changed", "increase",
                   "increased", "decrease", "decreased", "difference", "compare", "compared",
                   "comparison", "vs", "versus", "year over year", "year on year", "yoy"},
                  CueKind::kCompare});
  cues.push_back(
      {{"make", "made", "earn", "earned", "bring in", "brought in", "bill", "billed", "generate",
        "generated", "take in", "took in", "charge", "charged",
        // "invoice" as a verb is an amount, the noun a count.
        "we invoice", "we invoiced", "invoiced",
        // "How much did we sell" is money; "how many did we sell"
        // units (the sell hint below).
        "how much did we sell", "how much we sold", "how much have we sold", "how much was sold"},
       CueKind::kHint,
       "revenue"});
  // "Vets ranked by revenue": every value, highest first.
  cues.push_back({{"ranked", "rank", "ranking", "sorted", "sorted by", "ordered by", "in order of"},
                  CueKind::kRankHighest});
  // Words whose meaning the planner cannot honour: declined, never dropped.
  cues.push_back({{"should", "ought"},
                  CueKind::kUnsupported,
                  "",
                  0,
                  "The planner reports what the data shows; it does not advise what "
                  "to do."});
  cues.push_back({{"see", "saw", "seen", "treat", "treated"}, CueKind::kHint, "patients_seen"});
  cues.push_back({{"sell", "sold"}, CueKind::kHint, "items_sold"});
  cues.push_back({{"book", "booked"}, CueKind::kHint, "appointments"});
  cues.push_back({{"register", "registered", "join", "joined", "sign", "signed"},
                  CueKind::kHint,
                  "new_clients"});
  return cues;
}

}  // namespace

absl::string_view BaseTable(Base base) {
  switch (base) {
    case Base::kInvoiceLines:
      return "invoice_lines";
    case Base::kAppointments:
      return "appointments";
    case Base::kPatients:
      return "patients";
    case Base::kClients:
      break;
  }
  return "clients";
}

const std::vector<Metric>& Metrics() {
  static const auto* metrics = new std::vector<Metric>(BuildMetrics());
  return *metrics;
}

const std::vector<Attribute>& Attributes() {
  static const auto* attributes = new std::vector<Attribute>(BuildAttributes());
  return *attributes;
}

const std::vector<TimeGrain>& TimeGrains() {
  static const auto* grains = new std::vector<TimeGrain>(BuildTimeGrains());
  return *grains;
}

const std::vector<FilterWord>& FilterWords() {
  static const auto* words = new std::vector<FilterWord>(BuildFilterWords());
  return *words;
}

const std::vector<Cue>& Cues() {
  static const auto* cues = new std::vector<Cue>(BuildCues());
  return *cues;
}

std::string DisplayValue(const Attribute& attribute, absl::string_view value) {
  if (attribute.names != ValueNames::kEnum ||
      std::find(attribute.values.begin(), attribute.values.end(), value) ==
          attribute.values.end()) {
    return std::string(value);
  }
  for (const auto& [v, name] : attribute.value_names) {
    if (v == value) return name;
  }
  std::string name = absl::StrReplaceAll(value, {{"_", " "}});
  if (!name.empty()) name[0] = absl::ascii_toupper(static_cast<unsigned char>(name[0]));
  return name;
}

std::string PhraseValue(const Attribute& attribute, absl::string_view value) {
  std::string name = DisplayValue(attribute, value);
  if (attribute.names == ValueNames::kEnum && !attribute.proper_names && !name.empty())
    name[0] = absl::ascii_tolower(static_cast<unsigned char>(name[0]));
  return name;
}

const Metric* FindMetric(absl::string_view id) {
  for (const Metric& m : Metrics()) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

const Attribute* FindAttribute(absl::string_view id) {
  for (const Attribute& a : Attributes()) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

const TimeGrain* FindTimeGrain(absl::string_view id) {
  for (const TimeGrain& g : TimeGrains()) {
    if (g.id == id) return &g;
  }
  return nullptr;
}

bool AttributeApplies(const Metric& metric, absl::string_view attribute) {
  const Attribute* a = FindAttribute(attribute);
  return a != nullptr && a->sources[static_cast<int>(metric.base)].has_value() &&
         std::find(metric.not_by.begin(), metric.not_by.end(), attribute) == metric.not_by.end();
}

bool DimensionApplies(const Metric& metric, absl::string_view dimension) {
  if (const TimeGrain* grain = FindTimeGrain(dimension)) {
    if (metric.date_column.empty()) return false;
    if (std::find(metric.not_by.begin(), metric.not_by.end(), dimension) != metric.not_by.end()) {
      return false;
    }
    // Only appointments carry a time of day.
    return !grain->needs_time_of_day || metric.base == Base::kAppointments;
  }
  return AttributeApplies(metric, dimension);
}

std::string MetricDefinitionsForPrompt() {
  std::string out;
  for (const Metric& m : Metrics()) {
    absl::StrAppend(&out, "- ", m.id, " (", m.unit, "): ", m.definition, ".\n");
  }
  return out;
}

const std::vector<std::string>& ExampleQuestions() {
  static const auto* examples = new std::vector<std::string>{
      "What was our revenue trend last quarter?",
      "Top 5 services by revenue this year",
      "No-show rate by vet last month",
  };
  return *examples;
}

}  // namespace vet::codegen
