// The demo practice, simulated day by day: clients arrive and leave, their
// animals are born, age and die, and each open day books appointments whose
// completed visits are invoiced from a price list that rises every January.
//
// Determinism: one splitmix64 stream per concern, integer money (cents) and
// quantities (thousandths), only +,-,*,/ and comparisons on doubles (exact
// IEEE operations, unlike std distributions or libm), sorts on total orders.
// The same options therefore give the same bytes on every platform.
#include "core/data/demo_generator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "core/common/log.h"
#include "core/common/status_macros.h"
#include "core/data/csv.h"
#include "core/data/demo_csv.h"
#include "core/data/demo_world.h"
#include "core/data/schema.h"

namespace vet::data {
namespace demo {
namespace {

// Days and minutes as int64_t, the type of civil-day arithmetic
// (absl::civil_diff_t) and of Rng::Range, so products of them do not
// overflow int first.
constexpr int64_t kDaysPerYear = 365;
constexpr int64_t kMinutesPerHour = 60;

// ---------------------------------------------------------------------------
// Randomness

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); n > 0. Lemire's multiply-shift (bias < 2^-40 here).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  // Uniform in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo + 1)));
  }
  // Uniform in [0, 1), 53 bits.
  double Unit() { return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0); }
  bool Chance(double p) { return Unit() < p; }
  // floor(x) or floor(x) + 1, with mean x (x >= 0).
  int64_t RoundRandomly(double x) {
    if (x <= 0) return 0;
    int64_t n = static_cast<int64_t>(x);
    return n + (Unit() < x - static_cast<double>(n) ? 1 : 0);
  }
  // An index drawn with probability proportional to weights[i] (>= 0, sum > 0).
  size_t Pick(const double* weights, size_t n) {
    double total = 0;
    for (size_t i = 0; i < n; ++i) total += weights[i];
    double x = Unit() * total;
    for (size_t i = 0; i < n; ++i) {
      if (x < weights[i]) return i;
      x -= weights[i];
    }
    for (size_t i = n; i > 0; --i) {
      if (weights[i - 1] > 0) return i - 1;
    }
    return 0;
  }
  template <size_t N>
  size_t Pick(const std::array<double, N>& weights) {
    return Pick(weights.data(), N);
  }
  template <typename T, size_t N>
  const T& OneOf(const T (&items)[N]) {
    return items[Below(N)];
  }

 private:
  uint64_t state_;
};

// Rounds a / b to the nearest integer, halves away from zero; b > 0.
int64_t DivRound(int64_t a, int64_t b) { return a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b); }

struct StaffMember {
  std::string id;
  std::string name;
  const char* role;
  absl::CivilDay hired;
  const char* fte;
  uint8_t weekdays;  // bit 0 = Monday
  double workload;   // relative share of the appointments, 0 = none
};

struct Client {
  std::string id;
  absl::CivilDay created;
  absl::CivilDay leaves;  // far future when the client stays
  std::string first_name, last_name, email, phone, postal_code;
  std::vector<int> patients;
  bool inactive = false;
};

struct Patient {
  std::string id;
  int client = 0;
  int pet_index = 0;
  std::string name;
  Species species = kCanine;
  const char* breed = "";
  const char* sex = "m";
  bool neutered = false;
  absl::CivilDay birth;
  bool birth_known = true;
  absl::CivilDay registered;  // for id order
  absl::CivilDay from, to;    // may visit on [from, to)
  bool deceased = false;
  int64_t last_visit = -1;  // day offset
};

enum Flags : uint8_t { kFirstVisit = 1, kNeuter = 2 };

// An appointment decided before its day: a new client's first visit, a
// recheck, a young animal's neutering.
struct Planned {
  int patient;
  ApptType type;
  int staff;       // preferred, -1 for any
  int64_t booked;  // day offset of the booking
  int booked_min;  // minute of that day
  uint8_t flags;
};

struct Appointment {
  int patient;
  int staff;
  int start_min;
  int duration;
  ApptType type;
  ApptStatus status;
  int64_t booked;  // day offset; meaningful when booked_min >= 0
  int booked_min;  // -1: booked_at unknown
  uint8_t flags;
  int seq;  // tiebreak for sorting
};

struct Refund {
  int client;
  int patient;  // -1 for none
  int item;
  int64_t quantity_milli;
  int64_t price;
  int64_t cost;
};

class Generator {
 public:
  explicit Generator(const DemoOptions& options)
      : options_(options),
        scale_(Scale(options)),
        end_(options.end_day),
        start_(absl::CivilDay(options.end_day.year() - 3, 1, 1)),
        horizon_(options.end_day + kScheduledDays),
        days_(horizon_ - start_ + 1),
        clients_rng_(options.seed ^ 0x436c69656e7473ULL),
        days_rng_(options.seed ^ 0x446179732121ULL),
        money_rng_(options.seed ^ 0x4d6f6e6579ULL),
        planned_(static_cast<size_t>(days_) + 1),
        refunds_(static_cast<size_t>(days_) + 1) {}

  // Volume relative to the calibration run: 60000 lines over the 1426 days
  // of 2023-01-01..2026-11-26. A shorter period (an end day early in a year)
  // gets proportionally more per day.
  static double Scale(const DemoOptions& options) {
    const absl::CivilDay start(options.end_day.year() - 3, 1, 1);
    const double days = static_cast<double>(options.end_day - start + 1);
    return static_cast<double>(options.invoice_lines) / 60000.0 * (1426.0 / days);
  }

  void Run() {
    BuildPrices();
    BuildStaff();
    BuildClients();
    AssignIds();
    out_appointments_.reserve(static_cast<size_t>(options_.invoice_lines) * 40 + 4096);
    out_lines_.reserve(static_cast<size_t>(options_.invoice_lines) * 120 + 4096);
    AppendHeader("appointments", &out_appointments_);
    AppendHeader("invoice_lines", &out_lines_);
    SimulateDays();
    WriteClients();
    WritePatients();
    WriteStaff();
  }

  int64_t invoice_lines() const { return line_count_; }

  std::vector<std::pair<std::string, const std::string*>> Files() const {
    return {{"clients.csv", &out_clients_},
            {"patients.csv", &out_patients_},
            {"staff.csv", &out_staff_},
            {"appointments.csv", &out_appointments_},
            {"invoice_lines.csv", &out_lines_}};
  }

 private:
  int64_t Offset(absl::CivilDay d) const { return d - start_; }
  absl::CivilDay DayAt(int64_t offset) const { return start_ + offset; }
  static int Weekday(absl::CivilDay d) { return static_cast<int>(absl::GetWeekday(d)); }
  static bool IsClosed(absl::CivilDay d) {
    return Weekday(d) == 6 || (d.month() == 1 && d.day() == 1) ||
           (d.month() == 12 && d.day() == 25);
  }
  absl::CivilDay NextOpen(absl::CivilDay d) const {
    while (IsClosed(d)) d += 1;
    return d;
  }
  // 1.0 in the first year, rising kGrowthPerYear a year.
  double Growth(absl::CivilDay d) const {
    return 1.0 + kGrowthPerYear * static_cast<double>(Offset(d)) / 365.25;
  }
  int YearIndex(absl::CivilDay d) const { return static_cast<int>(d.year() - start_.year()); }

  // Prices -----------------------------------------------------------------

  static int64_t RoundPrice(int64_t cents) {
    // Prices end in round numbers the way a price list does.
    if (cents >= 10000) return DivRound(cents, 50) * 50;
    if (cents >= 500) return DivRound(cents, 5) * 5;
    return cents;
  }

  void BuildPrices() {
    const int years = static_cast<int>(horizon_.year() - start_.year()) + 1;
    prices_.assign(kItemCount, std::vector<int64_t>(years));
    costs_.assign(kItemCount, std::vector<int64_t>(years));
    for (int i = 0; i < kItemCount; ++i) {
      int64_t exact_price = kItems[i].price_cents * 100;  // hundredths of a cent
      int64_t exact_cost = kItems[i].cost_cents * 100;
      for (int y = 0; y < years; ++y) {
        prices_[i][y] = RoundPrice(DivRound(exact_price, 100));
        costs_[i][y] = DivRound(exact_cost, 100);
        exact_price = DivRound(exact_price * 104, 100);
        exact_cost = DivRound(exact_cost * 103, 100);
      }
    }
  }

  // Staff ------------------------------------------------------------------

  void BuildStaff() {
    const int64_t y = start_.year();
    constexpr uint8_t kMonFri = 0x1f, kMonSat = 0x3f, kTueThu = 0x0e;
    staff_ = {
        {"S01", "Elena Marsh", "veterinarian", absl::CivilDay(y - 9, 3, 3), "1.0", kMonSat, 1.2},
        {"S02", "Daniel Okafor", "veterinarian", absl::CivilDay(y - 6, 8, 14), "1.0", kMonFri, 1.0},
        {"S03", "Priya Raman", "veterinarian", absl::CivilDay(y - 4, 1, 7), "0.6", kTueThu, 0.9},
        // Joins in the second autumn: the practice grows.
        {"S04", "Tomasz Nowak", "veterinarian", absl::CivilDay(y + 1, 9, 2), "1.0", kMonSat, 0.8},
        {"S05", "Grace Liu", "technician", absl::CivilDay(y - 3, 5, 11), "1.0", kMonSat, 0},
        {"S06", "Sam Porter", "receptionist", absl::CivilDay(y - 2, 2, 20), "0.8", kMonSat, 0},
        {"S07", "Maria Gonzalez", "manager", absl::CivilDay(y - 11, 6, 1), "1.0", kMonFri, 0},
    };
    technician_ = 4;
    // Three weeks of leave a year for each vet, not always the same weeks.
    const int weeks = static_cast<int>(days_ / 7) + 2;
    leave_.assign(staff_.size(), std::vector<bool>(weeks, false));
    for (size_t s = 0; s < staff_.size(); ++s) {
      if (staff_[s].workload == 0) continue;
      for (int w0 = 0; w0 < weeks; w0 += 52) {
        for (int k = 0; k < 3; ++k) {
          int w = w0 + static_cast<int>(clients_rng_.Below(52));
          if (w < weeks) leave_[s][w] = true;
        }
      }
    }
  }

  bool Works(int s, absl::CivilDay d) const {
    const StaffMember& m = staff_[s];
    if (d < m.hired) return false;
    if (((m.weekdays >> Weekday(d)) & 1) == 0) return false;
    // Weeks count from the Monday on or before start_.
    int64_t week = (Offset(d) + Weekday(start_)) / 7;
    return !leave_[s][static_cast<size_t>(week)];
  }

  // Clients and patients --------------------------------------------------

  std::string Surname(Rng& rng) {
    // Separate statements: the order in which arguments are evaluated is
    // unspecified, and the draws must happen in a fixed order.
    const char* head = rng.OneOf(kSurnameHeads);
    return absl::StrCat(head, rng.OneOf(kSurnameTails));
  }

  void MakeClient(absl::CivilDay created, absl::CivilDay first_visit, bool is_new, Rng& rng) {
    Client c;
    c.created = created;
    const absl::CivilDay never = horizon_ + kDaysPerYear * 50;
    if (is_new) {
      c.leaves = rng.Chance(0.5) ? never : created + rng.Range(60, 10 * kDaysPerYear);
    } else {
      c.leaves = rng.Chance(0.55) ? never : start_ + rng.Range(20, 12 * kDaysPerYear);
    }
    c.first_name = rng.OneOf(kFirstNames);
    c.last_name = Surname(rng);
    if (!rng.Chance(0.08)) {
      c.email = absl::AsciiStrToLower(
          absl::StrCat(c.first_name, ".", c.last_name, ".", clients_.size() + 1, "@example.com"));
    }
    if (!rng.Chance(0.04)) {
      const int64_t exchange = rng.Range(100, 999);
      c.phone = absl::StrCat("+1-555-", exchange, "-", rng.Range(1000, 9999));
    }
    if (!rng.Chance(0.03)) {
      // Nearby areas are more common.
      int area = static_cast<int>(rng.Below(6) + rng.Below(6) + rng.Below(6) + 1);
      c.postal_code = Id("DEMO-", area, 2);
    }
    const int client_index = static_cast<int>(clients_.size());
    constexpr std::array<double, 4> kPetsPerClient = {0.58, 0.28, 0.10, 0.04};
    const int pets = static_cast<int>(rng.Pick(kPetsPerClient)) + 1;
    for (int k = 0; k < pets; ++k) {
      MakePatient(client_index, k, c, first_visit, is_new, rng);
    }
    clients_.push_back(std::move(c));
  }

  void MakePatient(int client_index, int k, Client& c, absl::CivilDay first_visit, bool is_new,
                   Rng& rng) {
    Patient p;
    p.client = client_index;
    p.pet_index = k;
    p.species = static_cast<Species>(rng.Pick(kSpeciesWeights));
    const int life_days = static_cast<int>(
        rng.Range(kLifespan[p.species][0] * kDaysPerYear, kLifespan[p.species][1] * kDaysPerYear));
    // The first animal comes with the client; later ones half the time
    // already lived with them, half the time arrive later.
    const bool acquired_later = k > 0 && rng.Chance(0.5);
    if (acquired_later) {
      const int64_t span = (end_ - 60) - (c.created - 60);
      if (span <= 0) return;
      p.birth = c.created - 60 + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(span)));
    } else {
      int64_t age;
      if (rng.Chance(0.25)) {
        age = rng.Range(60, 180);  // a puppy or kitten's first visits
      } else {
        const double u = rng.Unit();
        age = 60 + static_cast<int64_t>(u * u * static_cast<double>(life_days));
      }
      age = std::min<int64_t>(age, life_days - 120);
      p.birth = c.created - age;
    }
    p.registered = std::max(c.created, p.birth + 56);
    p.name = rng.OneOf(kPetNames);
    switch (p.species) {
      case kCanine:
        p.breed = rng.OneOf(kCanineBreeds);
        break;
      case kFeline:
        p.breed = rng.OneOf(kFelineBreeds);
        break;
      case kRabbit:
        p.breed = rng.OneOf(kRabbitBreeds);
        break;
      case kAvian:
        p.breed = rng.OneOf(kAvianBreeds);
        break;
      case kReptile:
        p.breed = rng.OneOf(kReptileBreeds);
        break;
      case kRodent:
        p.breed = rng.OneOf(kRodentBreeds);
        break;
      case kOtherSpecies:
        p.breed = rng.OneOf(kOtherBreeds);
        break;
    }
    if (rng.Chance(0.05)) p.breed = "";
    const bool female = rng.Chance(0.5);
    const double neuter_rate = (p.species == kCanine || p.species == kFeline) ? 0.72
                               : p.species == kRabbit                         ? 0.35
                                                                              : 0.03;
    p.neutered = rng.Chance(neuter_rate);
    p.sex = female ? (p.neutered ? "fs" : "f") : (p.neutered ? "mn" : "m");
    p.birth_known = !rng.Chance(0.04);

    const absl::CivilDay death = p.birth + life_days;
    p.deceased = death <= end_;
    absl::CivilDay from = std::max(p.registered, start_);
    if (is_new) from = std::max(from, k == 0 ? first_visit : first_visit + 1);
    p.from = from;
    p.to = std::min(death, c.leaves);

    const int patient_index = static_cast<int>(patients_.size());
    if (is_new && k == 0) {
      // The visit the new client registered for.
      constexpr std::array<double, 4> kFirst = {0.45, 0.25, 0.25, 0.05};
      constexpr ApptType kFirstTypes[] = {kWellness, kVaccination, kSick, kEmergency};
      ApptType type = kFirstTypes[rng.Pick(kFirst)];
      if (type == kVaccination && !Vaccinable(p.species)) type = kWellness;
      Plan(first_visit,
           Planned{patient_index, type, -1, Offset(c.created),
                   static_cast<int>(rng.Range(7 * kMinutesPerHour, 20 * kMinutesPerHour)),
                   kFirstVisit});
    } else if (acquired_later && p.from < p.to) {
      // A new animal in the household comes in for its first checks.
      const absl::CivilDay day = NextOpen(p.from + rng.Range(0, 30));
      if (day < p.to) {
        Plan(day, Planned{patient_index, Vaccinable(p.species) ? kVaccination : kWellness, -1,
                          Offset(day) - rng.Range(1, 14),
                          static_cast<int>(rng.Range(7 * kMinutesPerHour, 20 * kMinutesPerHour)),
                          kFirstVisit});
      }
    }
    if (p.neutered && (p.species == kCanine || p.species == kFeline)) {
      const absl::CivilDay day = NextOpen(p.birth + rng.Range(170, 300));
      if (day >= p.from && day < p.to) {
        Plan(day, Planned{patient_index, kSurgery, -1, Offset(day) - rng.Range(7, 28),
                          static_cast<int>(rng.Range(7 * kMinutesPerHour, 20 * kMinutesPerHour)),
                          kNeuter});
      }
    }
    c.patients.push_back(patient_index);
    patients_.push_back(std::move(p));
  }

  static bool Vaccinable(Species s) { return s == kCanine || s == kFeline || s == kRabbit; }

  void Plan(absl::CivilDay day, Planned planned) {
    if (day < start_ || day > horizon_) return;
    planned_[static_cast<size_t>(Offset(day))].push_back(planned);
  }

  void BuildClients() {
    Rng& rng = clients_rng_;
    // Clients of the years before the data starts; more recent ones are more
    // likely to still be around.
    const int preexisting = std::max(
        3, static_cast<int>(std::lround(static_cast<double>(kPreexistingClients) * scale_)));
    std::vector<absl::CivilDay> created;
    created.reserve(preexisting);
    for (int i = 0; i < preexisting; ++i) {
      // Density falls from 2 to 2/3 of uniform over the eight years.
      const double u = rng.Unit();
      created.push_back(start_ - 1 - static_cast<int64_t>((u + u * u) / 2 * 8 * 365));
    }
    std::sort(created.begin(), created.end());
    for (absl::CivilDay d : created) MakeClient(d, d, /*is_new=*/false, rng);
    // New clients on open days, registered when they book their first visit.
    for (absl::CivilDay d = start_; d <= end_; d += 1) {
      if (IsClosed(d)) continue;
      const double expected = kBaseNewClientsPerDay * scale_ * Growth(d) * kSeason[d.month() - 1] *
                              kWeekdayDemand[Weekday(d)];
      const int64_t n = rng.RoundRandomly(expected);
      for (int64_t i = 0; i < n; ++i) {
        const absl::CivilDay visit = NextOpen(d + (rng.Chance(0.35) ? 0 : rng.Range(1, 10)));
        MakeClient(d, visit, /*is_new=*/true, rng);
      }
    }
    for (Client& c : clients_) {
      bool all_dead = true;
      for (int p : c.patients) all_dead = all_dead && patients_[p].deceased;
      c.inactive = c.leaves <= end_ || all_dead;
    }
  }

  void AssignIds() {
    for (size_t i = 0; i < clients_.size(); ++i) {
      clients_[i].id = Id("C", static_cast<int64_t>(i) + 1, 5);
    }
    // Patients are numbered in the order they were registered.
    std::vector<int> order(patients_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    std::sort(order.begin(), order.end(), [this](int a, int b) {
      const Patient& pa = patients_[a];
      const Patient& pb = patients_[b];
      if (pa.registered != pb.registered) return pa.registered < pb.registered;
      return a < b;
    });
    patient_order_ = order;
    for (size_t i = 0; i < order.size(); ++i) {
      patients_[order[i]].id = Id("P", static_cast<int64_t>(i) + 1, 5);
    }
    // The pool of animals that may come in, by the day they may first come.
    pool_order_ = order;
    std::sort(pool_order_.begin(), pool_order_.end(), [this](int a, int b) {
      if (patients_[a].from != patients_[b].from) return patients_[a].from < patients_[b].from;
      return a < b;
    });
  }

  // Days ------------------------------------------------------------------

  void SimulateDays() {
    size_t next_in_pool = 0;
    for (int64_t i = 0; i < days_; ++i) {
      const absl::CivilDay d = DayAt(i);
      while (next_in_pool < pool_order_.size() && patients_[pool_order_[next_in_pool]].from <= d) {
        const Patient& p = patients_[pool_order_[next_in_pool]];
        if (p.from < p.to) pool_.push_back(pool_order_[next_in_pool]);
        ++next_in_pool;
      }
      if (IsClosed(d)) {
        // Whatever was planned for a closed day moves to the next day.
        auto& today = planned_[static_cast<size_t>(i)];
        auto& tomorrow = planned_[static_cast<size_t>(i + 1)];
        tomorrow.insert(tomorrow.end(), today.begin(), today.end());
        auto& r_today = refunds_[static_cast<size_t>(i)];
        auto& r_tomorrow = refunds_[static_cast<size_t>(i + 1)];
        r_tomorrow.insert(r_tomorrow.end(), r_today.begin(), r_today.end());
        continue;
      }
      SimulateDay(i, d);
    }
  }

  // A random animal that may come in on day i, or -1.
  int PickPatient(int64_t i, absl::CivilDay d) {
    for (int attempt = 0; attempt < 20 && !pool_.empty(); ++attempt) {
      const size_t k = days_rng_.Below(pool_.size());
      const int p = pool_[k];
      if (patients_[p].to <= d) {
        pool_[k] = pool_.back();
        pool_.pop_back();
        continue;
      }
      if (patients_[p].last_visit == i) continue;
      return p;
    }
    return -1;
  }

  ApptType PickType(const Patient& p, absl::CivilDay d, bool future) {
    // wellness, vaccination, sick, recheck, surgery, dental, emergency,
    // grooming
    std::array<double, kApptTypeCount> w = {24, 20, 27, 3, 5, 5, 4, 6};
    const int64_t age = d - p.birth;
    switch (p.species) {
      case kCanine:
        w[kGrooming] = 9;
        break;
      case kFeline:
        w[kGrooming] = 1;
        w[kVaccination] = 16;
        break;
      case kRabbit:
        w[kGrooming] = 1;
        w[kVaccination] = 10;
        w[kDental] = 3;
        w[kSurgery] = 2;
        break;
      default:
        w[kGrooming] = 0;
        w[kVaccination] = 0;
        w[kDental] = 0.5;
        w[kSurgery] = 1.5;
        w[kWellness] = 30;
        break;
    }
    if (age < 365) {
      w[kVaccination] *= 2.5;
      w[kWellness] *= 1.5;
      w[kDental] = 0;
    } else if (age > 8 * kDaysPerYear) {
      w[kSick] *= 1.5;
      w[kDental] *= 1.6;
    }
    if (d.month() == 2) w[kDental] *= 2;  // dental health month promotions
    if (Weekday(d) == 5) {                // Saturday: no theatre list
      w[kSurgery] *= 0.1;
      w[kDental] *= 0.1;
    }
    if (future) {  // nobody books an emergency ahead
      w[kEmergency] = 0;
      w[kSick] *= 0.3;
    }
    return static_cast<ApptType>(days_rng_.Pick(w));
  }

  int Duration(ApptType type) {
    static constexpr int kChoices[][4] = {
        {20, 30, 30, 30},    // wellness
        {15, 15, 20, 20},    // vaccination
        {20, 30, 30, 40},    // sick
        {15, 15, 20, 20},    // recheck
        {60, 90, 120, 180},  // surgery
        {60, 90, 90, 120},   // dental
        {30, 45, 60, 60},    // emergency
        {45, 60, 60, 90},    // grooming
    };
    return kChoices[type][days_rng_.Below(4)];
  }

  // Chooses who attends and when, avoiding double booking where possible.
  void Schedule(Appointment& a, absl::CivilDay d, int preferred, std::vector<uint64_t>& busy) {
    const bool saturday = Weekday(d) == 5;
    const int open = saturday ? 9 * 60 : 8 * 60;
    const int close = saturday ? 13 * 60 : 18 * 60;
    const int slots = (close - open) / kSlotMinutes;
    const int need = std::min(slots, (a.duration + kSlotMinutes - 1) / kSlotMinutes);
    int last_start = slots - need;
    if ((a.type == kSurgery || a.type == kDental) && !saturday) {
      last_start = std::min(last_start, (10 * 60 + 30 - open) / kSlotMinutes);
    }
    std::vector<int> candidates;
    std::vector<double> weights;
    if (a.type == kGrooming) {
      candidates.push_back(technician_);
      weights.push_back(1);
    } else {
      for (int s = 0; s < static_cast<int>(staff_.size()); ++s) {
        if (staff_[s].workload > 0 && Works(s, d)) {
          candidates.push_back(s);
          weights.push_back(s == preferred ? staff_[s].workload * 20 : staff_[s].workload);
        }
      }
      if (candidates.empty()) {  // everyone away: the senior vet comes in
        candidates.push_back(0);
        weights.push_back(1);
      }
    }
    const size_t first = days_rng_.Pick(weights.data(), weights.size());
    const int start_slot = static_cast<int>(days_rng_.Below(last_start + 1));
    const uint64_t mask = ((uint64_t{1} << need) - 1);
    for (size_t c = 0; c < candidates.size(); ++c) {
      const int s = candidates[(first + c) % candidates.size()];
      for (int k = 0; k <= last_start; ++k) {
        const int slot = (start_slot + k) % (last_start + 1);
        if ((busy[s] & (mask << slot)) == 0) {
          busy[s] |= mask << slot;
          a.staff = s;
          a.start_min = open + slot * kSlotMinutes;
          return;
        }
      }
    }
    // A full day: double-booked, as busy clinics do.
    a.staff = candidates[first];
    a.start_min = open + start_slot * kSlotMinutes;
  }

  // When the booking was made, for appointments not planned ahead.
  void Book(Appointment& a, int64_t i) {
    if (days_rng_.Chance(0.02)) {
      a.booked_min = -1;
      return;
    }
    int64_t lead;
    switch (a.type) {
      case kEmergency:
        lead = 0;
        break;
      case kSick:
        lead = days_rng_.Chance(0.5) ? 0 : days_rng_.Range(1, 3);
        break;
      case kSurgery:
      case kDental:
        lead = days_rng_.Range(5, 35);
        break;
      default:
        lead = days_rng_.Range(2, 40);
        break;
    }
    const int64_t end_offset = Offset(end_);
    lead = std::max(lead, i - end_offset);  // future visits were booked by now
    a.booked = i - lead;
    if (lead == 0) {
      a.booked_min = std::max(7 * 60, a.start_min - static_cast<int>(days_rng_.Range(10, 180)));
    } else {
      a.booked_min =
          static_cast<int>(days_rng_.Range(7 * kMinutesPerHour, 21 * kMinutesPerHour + 59));
    }
  }

  ApptStatus Outcome(ApptType type, bool future) {
    if (future) return kScheduled;
    if (type == kEmergency) return kCompleted;
    const double no_show = type == kSurgery ? 0.01 : 0.055;
    const double cancelled = type == kSurgery ? 0.05 : 0.075;
    const double u = days_rng_.Unit();
    if (u < no_show) return kNoShow;
    if (u < no_show + cancelled) return kCancelled;
    return kCompleted;
  }

  void SimulateDay(int64_t i, absl::CivilDay d) {
    const bool future = d > end_;
    std::vector<uint64_t> busy(staff_.size(), 0);
    std::vector<Appointment> today;

    for (const Planned& plan : planned_[static_cast<size_t>(i)]) {
      Patient& p = patients_[plan.patient];
      if (d < p.from || d >= p.to || p.last_visit == i) continue;
      Appointment a{};
      a.patient = plan.patient;
      a.type = plan.type;
      a.duration = Duration(plan.type);
      a.flags = plan.flags;
      a.seq = static_cast<int>(today.size());
      Schedule(a, d, plan.staff, busy);
      a.booked = std::min(plan.booked, i);
      a.booked_min = plan.booked_min;
      if (a.booked == i) a.booked_min = std::max(7 * 60, a.start_min - 30);
      if (future && a.booked > Offset(end_)) a.booked = Offset(end_);
      a.status = Outcome(a.type, future);
      p.last_visit = i;
      today.push_back(a);
    }

    double expected = kBaseAppointmentsPerDay * scale_ * Growth(d) * kSeason[d.month() - 1] *
                      kWeekdayDemand[Weekday(d)];
    if (future) {
      // Fewer bookings the further ahead.
      const double k = static_cast<double>(d - end_);
      expected *= std::max(0.0, 0.85 - 0.05 * k);
    }
    // Planned visits count towards the day's demand; when they exceed it (a
    // small practice), the excess is taken from the following days so that
    // the size still follows invoice_lines.
    const double open_slots = expected - static_cast<double>(today.size()) - overbooked_;
    overbooked_ = open_slots < 0 ? -open_slots : 0;
    const int64_t random = days_rng_.RoundRandomly(open_slots);
    for (int64_t n = 0; n < random; ++n) {
      const int patient = PickPatient(i, d);
      if (patient < 0) break;
      Patient& p = patients_[patient];
      Appointment a{};
      a.patient = patient;
      a.type = PickType(p, d, future);
      a.duration = Duration(a.type);
      a.seq = static_cast<int>(today.size());
      Schedule(a, d, -1, busy);
      Book(a, i);
      a.status = Outcome(a.type, future);
      p.last_visit = i;
      today.push_back(a);
    }

    std::sort(today.begin(), today.end(), [](const Appointment& a, const Appointment& b) {
      if (a.start_min != b.start_min) return a.start_min < b.start_min;
      if (a.staff != b.staff) return a.staff < b.staff;
      return a.seq < b.seq;
    });
    for (const Appointment& a : today) {
      const std::string id = Id("A", ++appointment_count_, 6);
      const Patient& p = patients_[a.patient];
      const Client& c = clients_[p.client];
      {
        Row row(&out_appointments_);
        row.Text(id)
            .Text(p.id)
            .Text(c.id)
            .Text(staff_[a.staff].id)
            .DateTime(d, a.start_min)
            .Int(a.duration)
            .Text(kApptTypeNames[a.type])
            .Text(kApptStatusNames[a.status]);
        if (a.booked_min >= 0) {
          row.DateTime(DayAt(a.booked), a.booked_min);
        } else {
          row.Text("");
        }
      }
      if (a.status == kCompleted) {
        Invoice(a, id, d);
        FollowUp(a, i, d);
      }
    }
    if (future) return;
    WalkIns(i, d);
    for (const Refund& r : refunds_[static_cast<size_t>(i)]) {
      StartInvoice();
      AddLine(r.client, r.patient, -1, "", d, r.item, r.quantity_milli, r.price, 0, r.cost);
    }
  }

  void FollowUp(const Appointment& a, int64_t i, absl::CivilDay d) {
    double p_recheck = 0;
    int64_t lo = 7, hi = 14;
    switch (a.type) {
      case kSick:
        p_recheck = 0.3;
        break;
      case kSurgery:
        p_recheck = 0.7;
        lo = 10;
        break;
      case kDental:
        p_recheck = 0.25;
        break;
      case kEmergency:
        p_recheck = 0.5;
        lo = 2;
        hi = 5;
        break;
      default:
        return;
    }
    if (!days_rng_.Chance(p_recheck)) return;
    Plan(d + days_rng_.Range(lo, hi),
         Planned{a.patient, kRecheck, a.staff, i, a.start_min + a.duration, 0});
  }

  // Invoices --------------------------------------------------------------

  void StartInvoice() {
    invoice_id_ = Id("INV", ++invoice_count_, 7);
    line_no_ = 0;
  }

  // Adds one line at the list price of day d, with an occasional discount.
  void AddItem(int client, int patient, int staff, absl::string_view appointment, absl::CivilDay d,
               int item, int64_t quantity_milli) {
    const int y = YearIndex(d);
    const int64_t price = prices_[item][y];
    const int64_t cost = costs_[item][y];
    int64_t discount = 0;
    if (money_rng_.Chance(0.04)) {
      constexpr int kPercents[] = {10, 15, 20};
      const int64_t gross = DivRound(quantity_milli * price, 1000);
      discount = DivRound(gross * money_rng_.OneOf(kPercents), 100);
    }
    AddLine(client, patient, staff, appointment, d, item, quantity_milli, price, discount, cost);
    const Category cat = kItems[item].category;
    if ((cat == kRetail || cat == kDiet || item == kRxFlea || item == kRxHeartworm) &&
        money_rng_.Chance(0.015)) {
      const absl::CivilDay when = d + money_rng_.Range(1, 21);
      if (when <= end_) {
        refunds_[static_cast<size_t>(Offset(when))].push_back(
            Refund{client, patient, item, -std::min<int64_t>(quantity_milli, 1000), price, cost});
      }
    }
  }

  void AddLine(int client, int patient, int staff, absl::string_view appointment, absl::CivilDay d,
               int item, int64_t quantity_milli, int64_t price, int64_t discount, int64_t cost) {
    const int64_t amount = DivRound(quantity_milli * price, 1000) - discount;
    Row row(&out_lines_);
    row.Text(invoice_id_)
        .Int(++line_no_)
        .Day(d)
        .Text(clients_[client].id)
        .Text(patient >= 0 ? absl::string_view(patients_[patient].id) : "")
        .Text(staff >= 0 ? absl::string_view(staff_[staff].id) : "")
        .Text(appointment)
        .Text(kItems[item].code)
        .Text(kItems[item].description)
        .Text(kCategoryNames[kItems[item].category])
        .Milli(quantity_milli)
        .Cents(price)
        .Cents(discount)
        .Cents(amount);
    if (cost > 0) {
      row.Cents(cost);
    } else {
      row.Text("");
    }
    ++line_count_;
  }

  // Whole units.
  static int64_t Units(int64_t n) { return n * 1000; }

  void Invoice(const Appointment& a, const std::string& appointment_id, absl::CivilDay d) {
    Rng& r = money_rng_;
    const Patient& p = patients_[a.patient];
    const int client = p.client;
    const bool dog = p.species == kCanine;
    const bool cat = p.species == kFeline;
    const bool senior = d - p.birth > 8 * kDaysPerYear;
    StartInvoice();
    auto add = [&](int item, int64_t quantity_milli) {
      AddItem(client, a.patient, a.staff, appointment_id, d, item, quantity_milli);
    };
    auto pharmacy = [&]() {
      // A course of tablets, a bottle, or an injection dosed in ml.
      constexpr int kDog[] = {kRxAmox, kRxCarp, kRxGaba, kRxMaro, kRxOtic, kRxApoq};
      constexpr int kOther[] = {kRxAmox, kRxMelox, kRxGaba, kRxMaro, kRxOtic};
      int item = dog ? r.OneOf(kDog) : r.OneOf(kOther);
      // Allergy season.
      if (dog && d.month() >= 5 && d.month() <= 8 && r.Chance(0.2)) item = kRxApoq;
      switch (item) {
        case kRxAmox:
        case kRxCarp:
        case kRxGaba:
        case kRxApoq:
          add(item, Units(r.Range(7, 30)));
          break;
        case kRxMaro:
          add(item, r.Range(2, 30) * 100);  // 0.2 to 3.0 ml
          break;
        default:
          add(item, Units(1));
          break;
      }
    };
    auto labs = [&](int max_tests) {
      constexpr int kTests[] = {kLabCbc, kLabChem, kLabUa, kLabFecal};
      const int n = static_cast<int>(r.Range(1, max_tests));
      const int first = static_cast<int>(r.Below(4));
      for (int k = 0; k < n; ++k) add(kTests[(first + k) % 4], Units(1));
      if (senior && cat && r.Chance(0.3)) add(kLabT4, Units(1));
    };
    auto imaging = [&]() { add(r.Chance(0.8) ? kImgXr : kImgUs, Units(1)); };
    auto prevention = [&]() {
      if (dog || cat) add(kRxFlea, Units(r.Range(1, 2)));
      if (dog && r.Chance(0.4)) add(kRxHeartworm, Units(1));
    };
    auto diet = [&]() {
      constexpr int kDiets[] = {kDietRenal, kDietGi, kDietWeight, kDietUrinary, kDietCans};
      const int item = r.OneOf(kDiets);
      add(item, Units(r.Range(1, 2)));
    };
    const bool first = (a.flags & kFirstVisit) != 0;

    switch (a.type) {
      case kWellness:
        add(first ? kConsNew : kConsWell, Units(1));
        if (Vaccinable(p.species) && r.Chance(0.45)) Vaccines(p, add, /*max=*/1);
        if (dog && r.Chance(0.35)) add(kLabHw, Units(1));
        if (r.Chance(0.15)) add(kLabFecal, Units(1));
        if (r.Chance(0.35)) prevention();
        if (senior && r.Chance(0.25)) labs(2);
        if (r.Chance(0.06)) diet();
        if (r.Chance(0.05)) add(kRetTreats, Units(1));
        if (first && (dog || cat) && r.Chance(0.3)) add(kMicrochip, Units(1));
        break;
      case kVaccination:
        add(first ? kConsNew : kConsVac, Units(1));
        Vaccines(p, add, /*max=*/3);
        if (r.Chance(0.2)) prevention();
        break;
      case kSick:
        add(first ? kConsNew : kConsStd, Units(1));
        if (r.Chance(0.45)) labs(3);
        if (r.Chance(0.2)) imaging();
        if (r.Chance(0.7)) pharmacy();
        if (r.Chance(0.25)) pharmacy();
        if (r.Chance(0.08)) add(r.Chance(0.7) ? kDietGi : kDietCans, Units(1));
        if (r.Chance(0.03)) add(kHospDay, Units(1));
        break;
      case kRecheck:
        add(kConsRecheck, Units(1));
        if (r.Chance(0.2)) labs(1);
        if (r.Chance(0.3)) pharmacy();
        break;
      case kSurgery: {
        add(kConsSurg, Units(1));
        if (r.Chance(0.7)) add(kLabPrea, Units(1));
        add(kSurgAnes, Units(1));
        int procedure;
        if ((a.flags & kNeuter) != 0) {
          procedure = p.sex[0] == 'f' ? kSurgSpay : kSurgNeuter;
        } else {
          constexpr std::array<double, 5> kWeights = {40, 28, 12, 8, 10};
          constexpr int kProcedures[] = {kSurgMass, kSurgLac, kSurgFb, kSurgCruciate, kSurgCysto};
          procedure = kProcedures[r.Pick(kWeights)];
          if (procedure == kSurgCruciate && !dog) procedure = kSurgMass;
        }
        add(procedure, Units(1));
        const int64_t days = r.Chance(0.7) ? 1 : (r.Chance(0.8) ? 2 : 3);
        add(kHospDay, Units(days));
        if (r.Chance(0.4)) add(kHospIv, Units(days));
        if (r.Chance(0.6)) add(kRxBup, r.Range(3, 10) * 100);  // 0.3 to 1.0 ml
        add(dog ? kRxCarp : kRxMelox, dog ? Units(r.Range(5, 14)) : Units(1));
        if (r.Chance(0.5)) add(kRxAmox, Units(r.Range(10, 20)));
        if (r.Chance(0.25)) add(kRetCone, Units(1));
        break;
      }
      case kDental:
        add(kConsDent, Units(1));
        if (r.Chance(0.3)) add(kLabPrea, Units(1));
        add(kDentAnes, Units(1));
        add(kDentClean, Units(1));
        if (r.Chance(0.6)) add(kImgDental, Units(1));
        if (r.Chance(0.45)) add(kDentExt, Units(r.Range(1, 5)));
        if (r.Chance(0.5)) pharmacy();
        if (r.Chance(0.15)) add(kRetTreats, Units(1));
        break;
      case kEmergency: {
        add(kConsEmer, Units(1));
        if (r.Chance(0.6)) labs(3);
        if (r.Chance(0.4)) imaging();
        if (r.Chance(0.3)) {
          const int64_t days = r.Range(1, 3);
          add(kHospDay, Units(days));
          add(kHospIv, Units(days));
        }
        if (r.Chance(0.75)) pharmacy();
        if (r.Chance(0.35)) add(kRxBup, r.Range(3, 10) * 100);
        break;
      }
      case kGrooming:
        add(r.Chance(0.6) ? kGroomFull : kGroomBath, Units(1));
        if (r.Chance(0.2)) add(kNailTrim, Units(1));
        if (r.Chance(0.15)) add(kRetShampoo, Units(1));
        if (r.Chance(0.08)) add(kRetBrush, Units(1));
        break;
      default:
        break;
    }
  }

  template <typename Add>
  void Vaccines(const Patient& p, Add& add, int max) {
    Rng& r = money_rng_;
    std::vector<int> due;
    switch (p.species) {
      case kCanine:
        if (r.Chance(0.6)) due.push_back(kVacDhpp);
        if (r.Chance(0.55)) due.push_back(kVacRabies);
        if (r.Chance(0.4)) due.push_back(kVacLepto);
        if (r.Chance(0.3)) due.push_back(kVacBord);
        if (due.empty()) due.push_back(kVacDhpp);
        break;
      case kFeline:
        if (r.Chance(0.7)) due.push_back(kVacFvrcp);
        if (r.Chance(0.4)) due.push_back(kVacRabies);
        if (r.Chance(0.3)) due.push_back(kVacFelv);
        if (due.empty()) due.push_back(kVacFvrcp);
        break;
      case kRabbit:
        due.push_back(kVacRhdv);
        break;
      default:
        return;
    }
    for (size_t k = 0; k < due.size() && static_cast<int>(k) < max; ++k) {
      add(due[k], Units(1));
    }
  }

  void WalkIns(int64_t i, absl::CivilDay d) {
    Rng& r = money_rng_;
    const double expected = kBaseWalkInsPerDay * scale_ * Growth(d) * kSeason[d.month() - 1] *
                            kWeekdayDemand[Weekday(d)];
    const int64_t n = r.RoundRandomly(expected);
    for (int64_t k = 0; k < n; ++k) {
      const int patient = PickPatient(i, d);
      if (patient < 0) return;
      const int client = patients_[patient].client;
      StartInvoice();
      const int lines = r.Chance(0.75) ? 1 : 2;
      for (int l = 0; l < lines; ++l) {
        constexpr std::array<double, 3> kKinds = {45, 30, 25};
        switch (r.Pick(kKinds)) {
          case 0: {
            constexpr int kDiets[] = {kDietRenal, kDietGi, kDietWeight, kDietUrinary, kDietCans};
            const int item = r.OneOf(kDiets);
            AddItem(client, -1, -1, "", d, item, Units(r.Range(1, 3)));
            break;
          }
          case 1: {
            constexpr int kRetail[] = {kRetLeash, kRetToy,     kRetShampoo,
                                       kRetBrush, kRetCarrier, kRetTreats};
            const int item = r.OneOf(kRetail);
            AddItem(client, -1, -1, "", d, item, Units(r.Range(1, 2)));
            break;
          }
          default:
            AddItem(client, -1, -1, "", d, r.Chance(0.7) ? kRxFlea : kRxHeartworm, Units(1));
            break;
        }
      }
    }
  }

  // Master data -----------------------------------------------------------

  void WriteClients() {
    AppendHeader("clients", &out_clients_);
    for (const Client& c : clients_) {
      Row(&out_clients_)
          .Text(c.id)
          .Text(c.first_name)
          .Text(c.last_name)
          .Text(c.email)
          .Text(c.phone)
          .Text(c.postal_code)
          .Day(c.created)
          .Text(c.inactive ? "inactive" : "active");
    }
  }

  void WritePatients() {
    AppendHeader("patients", &out_patients_);
    for (int index : patient_order_) {
      const Patient& p = patients_[index];
      Row row(&out_patients_);
      row.Text(p.id)
          .Text(clients_[p.client].id)
          .Text(p.name)
          .Text(kSpeciesNames[p.species])
          .Text(p.breed)
          .Text(p.sex);
      if (p.birth_known) {
        row.Day(p.birth);
      } else {
        row.Text("");
      }
      row.Text(p.deceased ? "deceased" : "active");
    }
  }

  void WriteStaff() {
    AppendHeader("staff", &out_staff_);
    for (const StaffMember& s : staff_) {
      Row(&out_staff_).Text(s.id).Text(s.name).Text(s.role).Day(s.hired).Text(s.fte);
    }
  }

  const DemoOptions options_;
  const double scale_;
  const absl::CivilDay end_, start_, horizon_;
  const int64_t days_;
  Rng clients_rng_, days_rng_, money_rng_;

  std::vector<std::vector<int64_t>> prices_, costs_;  // [item][year index]
  std::vector<StaffMember> staff_;
  int technician_ = 0;
  std::vector<std::vector<bool>> leave_;  // [staff][week]
  std::vector<Client> clients_;
  std::vector<Patient> patients_;
  std::vector<int> patient_order_, pool_order_, pool_;
  std::vector<std::vector<Planned>> planned_;  // by day offset
  std::vector<std::vector<Refund>> refunds_;   // by day offset

  double overbooked_ = 0;  // planned visits beyond past days' demand
  int64_t appointment_count_ = 0;
  int64_t invoice_count_ = 0;
  int64_t line_count_ = 0;
  std::string invoice_id_;
  int line_no_ = 0;

  std::string out_clients_, out_patients_, out_staff_, out_appointments_, out_lines_;
};

}  // namespace
}  // namespace demo

absl::Status WriteDemoDataset(const DemoOptions& options, const std::string& dir) {
  if (options.invoice_lines < 1 || options.invoice_lines > 20'000'000) {
    return absl::InvalidArgumentError("demo data: invoice_lines must be in [1, 20000000]");
  }
  if (options.end_day.year() < 1903 || options.end_day.year() > 9990) {
    return absl::InvalidArgumentError("demo data: end_day must be in the years 1903..9990");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("demo data: cannot create ", dir, ": ", ec.message()));
  }
  demo::Generator generator(options);
  generator.Run();
  LogInfo("demo data: ", generator.invoice_lines(), " invoice lines for ", dir);
  for (const auto& [name, content] : generator.Files()) {
    VET_RETURN_IF_ERROR(WriteFileAtomically(absl::StrCat(dir, "/", name), *content));
  }
  return absl::OkStatus();
}

}  // namespace vet::data
