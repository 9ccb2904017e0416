// The demo practice's world (core/data/demo_generator.cc): species and
// breeds, names, appointment types and statuses, the price list, and the
// demand curve the generator is calibrated with. Data, not logic; internal
// to the generator.
#ifndef VET_CORE_DATA_DEMO_WORLD_H_
#define VET_CORE_DATA_DEMO_WORLD_H_

#include <array>
#include <cstdint>

namespace vet::data::demo {

// ---------------------------------------------------------------------------
// The practice's world.

enum Species { kCanine, kFeline, kRabbit, kAvian, kReptile, kRodent, kOtherSpecies };
inline constexpr const char* kSpeciesNames[] = {"canine",  "feline", "rabbit", "avian",
                                                "reptile", "rodent", "other"};
inline constexpr std::array<double, 7> kSpeciesWeights = {52, 36, 4.5, 2.5, 2, 2.5, 0.5};
// Lifespan in years, [min, max].
inline constexpr int kLifespan[][2] = {{10, 15}, {12, 19}, {7, 11}, {8, 20},
                                       {10, 22}, {2, 4},   {6, 9}};

inline constexpr const char* kCanineBreeds[] = {"Mixed breed",
                                                "Mixed breed",
                                                "Mixed breed",
                                                "Labrador Retriever",
                                                "Labrador Retriever",
                                                "Golden Retriever",
                                                "French Bulldog",
                                                "German Shepherd",
                                                "Dachshund",
                                                "Beagle",
                                                "Cocker Spaniel",
                                                "Border Collie",
                                                "Miniature Poodle",
                                                "Shih Tzu",
                                                "Boxer",
                                                "Jack Russell Terrier",
                                                "Cavalier King Charles Spaniel",
                                                "Staffordshire Bull Terrier"};
inline constexpr const char* kFelineBreeds[] = {"Domestic Shorthair",
                                                "Domestic Shorthair",
                                                "Domestic Shorthair",
                                                "Domestic Shorthair",
                                                "Domestic Longhair",
                                                "Maine Coon",
                                                "Siamese",
                                                "British Shorthair",
                                                "Ragdoll",
                                                "Bengal"};
inline constexpr const char* kRabbitBreeds[] = {"Netherland Dwarf", "Holland Lop", "Lionhead",
                                                "Mixed breed"};
inline constexpr const char* kAvianBreeds[] = {"Budgerigar", "Cockatiel", "African Grey",
                                               "Lovebird"};
inline constexpr const char* kReptileBreeds[] = {"Bearded Dragon", "Leopard Gecko", "Ball Python",
                                                 "Red-eared Slider"};
inline constexpr const char* kRodentBreeds[] = {"Guinea Pig", "Syrian Hamster", "Fancy Rat",
                                                "Chinchilla"};
inline constexpr const char* kOtherBreeds[] = {"Ferret"};

// Synthetic on purpose: surnames are made of syllables, e-mail addresses use
// example.com, phone numbers the fictional 555 exchange, postal codes say
// DEMO. No value can be mistaken for a real person's.
inline constexpr const char* kFirstNames[] = {
    "Olivia",   "Amelia",    "Isabella", "Sophia",    "Charlotte", "Harriet",  "Eleanor",
    "Matilda",  "Beatrix",   "Rosalind", "Imogen",    "Juliet",    "Priyanka", "Mei",
    "Yasmin",   "Ingrid",    "Noemi",    "Zofia",     "Anneliese", "Marisol",  "Oliver",
    "Theodore", "Sebastian", "Jasper",   "Frederick", "Rupert",    "Ambrose",  "Leopold",
    "Desmond",  "Ignatius",  "Rohan",    "Kenji",     "Mateo",     "Lorcan",   "Casimir",
    "Tobias",   "Alistair",  "Barnaby",  "Emeric",    "Florian"};
inline constexpr const char* kSurnameHeads[] = {
    "Ash",    "Bram", "Cor",  "Dun",  "Elm",  "Fenn", "Gorm", "Hask", "Ivel", "Kest", "Lorn",
    "Mardle", "Norr", "Pell", "Quen", "Rusk", "Sarn", "Tavi", "Umbe", "Vane", "Wyck", "Yarr"};
inline constexpr const char* kSurnameTails[] = {
    "bury",  "combe", "dale", "field", "ford", "gate",  "holme",  "ley",  "more",
    "ridge", "stead", "ton",  "vale",  "wick", "worth", "ington", "acre", "brook"};
inline constexpr const char* kPetNames[] = {
    "Bella",    "Luna",    "Milo",    "Nala",    "Simba",   "Loki",       "Willow",    "Biscuit",
    "Mochi",    "Pippin",  "Juniper", "Ziggy",   "Waffles", "Clementine", "Hazel",     "Marzipan",
    "Obi",      "Tofu",    "Nugget",  "Pudding", "Dottie",  "Fergus",     "Winnie",    "Archie",
    "Bonnie",   "Cosmo",   "Figaro",  "Gizmo",   "Hamish",  "Indigo",     "Jellybean", "Kiki",
    "Lulu",     "Mabel",   "Noodle",  "Ollie",   "Paprika", "Quincy",     "Rolo",      "Sushi",
    "Teddy",    "Umami",   "Vinnie",  "Wasabi",  "Yoshi",   "Zelda",      "Bramble",   "Crumpet",
    "Dumpling", "Fudge",   "Gnocchi", "Huxley",  "Inky",    "Kipper",     "Lentil",    "Muffin",
    "Nutmeg",   "Oatcake", "Peanut",  "Raisin",  "Sprout",  "Truffle",    "Wiggles"};

enum ApptType {
  kWellness,
  kVaccination,
  kSick,
  kRecheck,
  kSurgery,
  kDental,
  kEmergency,
  kGrooming,
  kApptTypeCount
};
inline constexpr const char* kApptTypeNames[] = {
    "wellness", "vaccination", "sick", "recheck", "surgery", "dental", "emergency", "grooming"};

enum ApptStatus { kCompleted, kNoShow, kCancelled, kScheduled };
inline constexpr const char* kApptStatusNames[] = {"completed", "no_show", "cancelled",
                                                   "scheduled"};

enum Category {
  kConsultation,
  kVaccine,
  kLaboratory,
  kImaging,
  kSurgeryCat,
  kDentalCat,
  kPharmacy,
  kHospitalization,
  kRetail,
  kDiet,
  kOtherCat
};
inline constexpr const char* kCategoryNames[] = {
    "consultation", "vaccine",         "laboratory", "imaging", "surgery", "dental",
    "pharmacy",     "hospitalization", "retail",     "diet",    "other"};

// The price list in the first year of data; prices rise 4% each January,
// costs 3%. cost 0 means no unit_cost (services).
struct Item {
  const char* code;
  const char* description;
  Category category;
  int64_t price_cents;
  int64_t cost_cents;
};

enum ItemId {
  kConsWell,
  kConsStd,
  kConsVac,
  kConsRecheck,
  kConsEmer,
  kConsNew,
  kConsSurg,
  kConsDent,
  kVacDhpp,
  kVacRabies,
  kVacLepto,
  kVacBord,
  kVacFvrcp,
  kVacFelv,
  kVacRhdv,
  kLabCbc,
  kLabChem,
  kLabUa,
  kLabFecal,
  kLabHw,
  kLabPrea,
  kLabT4,
  kImgXr,
  kImgUs,
  kImgDental,
  kSurgSpay,
  kSurgNeuter,
  kSurgMass,
  kSurgLac,
  kSurgFb,
  kSurgCruciate,
  kSurgCysto,
  kSurgAnes,
  kDentClean,
  kDentExt,
  kDentAnes,
  kHospDay,
  kHospIv,
  kRxAmox,
  kRxCarp,
  kRxGaba,
  kRxMaro,
  kRxMelox,
  kRxApoq,
  kRxOtic,
  kRxBup,
  kRxFlea,
  kRxHeartworm,
  kRetLeash,
  kRetToy,
  kRetShampoo,
  kRetBrush,
  kRetCarrier,
  kRetTreats,
  kRetCone,
  kDietRenal,
  kDietGi,
  kDietWeight,
  kDietUrinary,
  kDietCans,
  kGroomFull,
  kGroomBath,
  kNailTrim,
  kMicrochip,
  kItemCount
};

inline constexpr Item kItems[] = {
    {"CONS-WELL", "Wellness examination", kConsultation, 6800, 0},
    {"CONS-STD", "Consultation", kConsultation, 7200, 0},
    {"CONS-VAC", "Vaccination examination", kConsultation, 4800, 0},
    {"CONS-RCHK", "Recheck examination", kConsultation, 4200, 0},
    {"CONS-EMER", "Emergency consultation", kConsultation, 14500, 0},
    {"CONS-NEW", "New patient examination", kConsultation, 7800, 0},
    {"CONS-SURG", "Pre-surgical examination", kConsultation, 5500, 0},
    {"CONS-DENT", "Dental assessment", kConsultation, 5500, 0},
    {"VAC-DHPP", "DHPP vaccine", kVaccine, 3800, 950},
    {"VAC-RAB", "Rabies vaccine", kVaccine, 3200, 600},
    {"VAC-LEPTO", "Leptospirosis vaccine", kVaccine, 3400, 800},
    {"VAC-BORD", "Bordetella vaccine", kVaccine, 3000, 700},
    {"VAC-FVRCP", "FVRCP vaccine", kVaccine, 3600, 850},
    {"VAC-FELV", "FeLV vaccine", kVaccine, 3800, 1000},
    {"VAC-RHDV", "RHDV2 vaccine", kVaccine, 4500, 1400},
    {"LAB-CBC", "Complete blood count", kLaboratory, 6500, 1800},
    {"LAB-CHEM", "Chemistry panel", kLaboratory, 9500, 2800},
    {"LAB-UA", "Urinalysis", kLaboratory, 4800, 1200},
    {"LAB-FEC", "Fecal flotation", kLaboratory, 3500, 600},
    {"LAB-HW", "Heartworm test", kLaboratory, 4200, 1100},
    {"LAB-PREA", "Pre-anesthetic bloodwork", kLaboratory, 11000, 3200},
    {"LAB-T4", "Thyroid panel (T4)", kLaboratory, 5500, 1600},
    {"IMG-XR2", "Radiographs, 2 views", kImaging, 18500, 0},
    {"IMG-US", "Abdominal ultrasound", kImaging, 32000, 0},
    {"IMG-DXR", "Dental radiographs", kImaging, 12000, 0},
    {"SURG-SPAY", "Ovariohysterectomy (spay)", kSurgeryCat, 42000, 0},
    {"SURG-NEUT", "Castration (neuter)", kSurgeryCat, 31000, 0},
    {"SURG-MASS", "Mass removal", kSurgeryCat, 48000, 0},
    {"SURG-LAC", "Laceration repair", kSurgeryCat, 36000, 0},
    {"SURG-FB", "Foreign body removal", kSurgeryCat, 165000, 0},
    {"SURG-CCL", "Cruciate ligament repair", kSurgeryCat, 320000, 0},
    {"SURG-CYST", "Cystotomy", kSurgeryCat, 125000, 0},
    {"SURG-ANES", "General anesthesia", kSurgeryCat, 19000, 0},
    {"DENT-CLEAN", "Dental cleaning", kDentalCat, 29500, 0},
    {"DENT-EXT", "Tooth extraction", kDentalCat, 8500, 0},
    {"DENT-ANES", "Dental anesthesia", kDentalCat, 16500, 0},
    {"HOSP-DAY", "Hospitalization, per day", kHospitalization, 9500, 0},
    {"HOSP-IV", "IV fluid therapy, per day", kHospitalization, 12000, 0},
    {"RX-AMOX", "Amoxicillin-clavulanate 250 mg tablet", kPharmacy, 145, 38},
    {"RX-CARP", "Carprofen 75 mg tablet", kPharmacy, 120, 30},
    {"RX-GABA", "Gabapentin 100 mg capsule", kPharmacy, 85, 15},
    {"RX-MARO", "Maropitant injection, per ml", kPharmacy, 1800, 450},
    {"RX-MELOX", "Meloxicam oral suspension", kPharmacy, 2400, 700},
    {"RX-APOQ", "Oclacitinib 16 mg tablet", kPharmacy, 240, 130},
    {"RX-OTIC", "Otic drops", kPharmacy, 2600, 800},
    {"RX-BUP", "Buprenorphine injection, per ml", kPharmacy, 2200, 500},
    {"RX-FLEA", "Flea and tick chewable, 3 months", kPharmacy, 6800, 3800},
    {"RX-HWP", "Heartworm preventive, 6 months", kPharmacy, 7200, 3600},
    {"RET-LEASH", "Leash", kRetail, 2200, 900},
    {"RET-TOY", "Chew toy", kRetail, 1250, 450},
    {"RET-SHAM", "Medicated shampoo", kRetail, 1900, 700},
    {"RET-BRUSH", "Grooming brush", kRetail, 1600, 600},
    {"RET-CARR", "Pet carrier", kRetail, 4800, 2200},
    {"RET-TREAT", "Dental treats", kRetail, 1400, 550},
    {"RET-CONE", "Recovery cone", kRetail, 1800, 600},
    {"DIET-RENAL", "Renal support diet, 4 kg", kDiet, 6200, 3800},
    {"DIET-GI", "Gastrointestinal diet, 4 kg", kDiet, 5800, 3500},
    {"DIET-WT", "Weight management diet, 4 kg", kDiet, 5600, 3300},
    {"DIET-URI", "Urinary care diet, 4 kg", kDiet, 6000, 3600},
    {"DIET-CAN", "Gastrointestinal diet, case of 12 cans", kDiet, 4400, 2600},
    {"GRM-FULL", "Full groom", kOtherCat, 7500, 0},
    {"GRM-BATH", "Bath and nail trim", kOtherCat, 4200, 0},
    {"OTH-NAIL", "Nail trim", kOtherCat, 1800, 0},
    {"OTH-CHIP", "Microchip implant", kOtherCat, 5500, 900},
};
static_assert(sizeof(kItems) / sizeof(kItems[0]) == kItemCount, "price list out of sync");

// Monthly demand, January first: quieter winters, a spring and summer bump.
inline constexpr double kSeason[] = {0.88, 0.90, 1.00, 1.07, 1.12, 1.13,
                                     1.10, 1.06, 1.00, 0.97, 0.92, 0.85};
// Monday first; Sunday closed.
inline constexpr double kWeekdayDemand[] = {1.08, 1.00, 1.00, 1.00, 1.05, 0.45, 0.0};

// Appointments per weekday at scale 1 in the first year, before season and
// weekday factors; calibrated so that the default 60000 invoice lines come
// out within a few percent.
inline constexpr double kBaseAppointmentsPerDay = 16.8;
inline constexpr double kBaseNewClientsPerDay = 1.6;
inline constexpr double kBaseWalkInsPerDay = 2.5;
inline constexpr int kPreexistingClients = 1500;
// Volume growth per year (prices rise separately).
inline constexpr double kGrowthPerYear = 0.05;
// Future appointments already booked: up to this many days after end_day.
inline constexpr int kScheduledDays = 14;

inline constexpr int kSlotMinutes = 15;

}  // namespace vet::data::demo

#endif  // VET_CORE_DATA_DEMO_WORLD_H_
