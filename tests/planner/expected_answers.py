#!/usr/bin/python3
"""Expected answers for tests/planner/questions.json, computed independently.

Reads the demo practice's CSV exports from a folder and, for a fixed as-of
date, computes the answer to every question straight from the metric
definitions of DATA_SCHEMA.md ("Definitions the planner and the prompt use"),
written here from scratch: nothing is imported or copied from the planner.
Each question id maps to one small function below, so a reviewer can check
the computation against the question's wording.

Usage:
  expected_answers.py --data DIR --as-of YYYY-MM-DD --questions FILE
                      [--followups FILE] --out FILE

With --followups, also the answer to every turn of the follow-up
conversations of tests/planner/followups.json, under "followups" (turn id ->
ANSWER); the functions are in the "Follow-ups" section below.

Output (JSON): {"as_of": ..., "answers": {id: ANSWER}} where ANSWER is
  {"number": x}                        a single value
  {"table": [[label, v1, v2...], ...]} one row per label (values in order)
  {"declined": true}                   the planner should not answer
Percentages are on a 0-100 scale; money is in the practice's currency.

Interpretation notes (where DATA_SCHEMA.md leaves a choice, the planner's
documented reading, from core/codegen/semantic_layer.h/.cc and period.h):
  - Weeks run Monday..Sunday; "this week/month/quarter/year" end on the
    as-of day; "last N days/months" are rolling windows ending on it.
  - A question naming no period covers this year so far; a breakdown by
    month or quarter, or a trend, the 12 calendar months up to the as-of
    day; a breakdown by year the four years before and this year so far.
  - Time breakdowns list every bucket of the period (zero when empty).
  - Appointment counts include every status unless the question names one.
  - "Patients seen": distinct patients of completed appointments.
  - Breakdowns by vet / species / breed label rows without a value
    "(no staff)" / "(no patient)" / "(unknown)".
  - Rankings ("which ...", "top N") rank values only, never those rows;
    "which vet" ranks staff whose role is veterinarian.
  - "Patients we have": living patients on file (patients.status active);
    "surgeries done": completed appointments of type surgery; "upcoming":
    scheduled appointments starting after the as-of day.
  - "X compared to Y" gives one row per period, labelled
    "YYYY-MM-DD to YYYY-MM-DD"; "this year vs last year" compares with the
    same days a year earlier; "growth" with the same period a year earlier.
  - Table labels are display names (shown() below): "Canine", "No-show",
    "Dr. Okafor", never the stored value.
"""

import argparse
import calendar
import datetime as dt
import json
import math
import sys

import pandas as pd

D = dt.date
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
            "Saturday", "Sunday"]


# ---------------------------------------------------------------------------
# Calendar helpers (independent of the planner's period grammar).

def month_end(d):
    return D(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def add_months(d, n):
    """d moved by n months, the day clamped to the target month's length."""
    m = d.month - 1 + n
    y, m = d.year + m // 12, m % 12 + 1
    return D(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def quarter_start(d):
    return D(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def week_start(d):
    return d - dt.timedelta(days=d.weekday())  # Monday


class Ctx:
    def __init__(self, folder, as_of):
        def read(name, dates=()):
            df = pd.read_csv(f"{folder}/{name}.csv", dtype=str,
                             keep_default_na=False, na_values=[""])
            for c in dates:
                df[c] = pd.to_datetime(df[c])
            return df

        self.clients = read("clients", ["created_on"])
        self.patients = read("patients")
        self.staff = read("staff")
        self.appts = read("appointments", ["starts_at"])
        self.lines = read("invoice_lines", ["invoiced_on"])
        for c in ["quantity", "unit_price", "discount", "amount", "unit_cost"]:
            self.lines[c] = pd.to_numeric(self.lines[c])
        self.as_of = as_of
        a = as_of
        self.today = (a, a)
        self.yesterday = (a - dt.timedelta(days=1),) * 2
        self.this_week = (week_start(a), a)
        self.last_week = (week_start(a) - dt.timedelta(days=7),
                          week_start(a) - dt.timedelta(days=1))
        self.this_month = (D(a.year, a.month, 1), a)
        lm = add_months(D(a.year, a.month, 1), -1)
        self.last_month = (lm, month_end(lm))
        self.this_quarter = (quarter_start(a), a)
        lq = add_months(quarter_start(a), -3)
        self.last_quarter = (lq, month_end(add_months(lq, 2)))
        self.this_year = (D(a.year, 1, 1), a)
        self.last_year = (D(a.year - 1, 1, 1), D(a.year - 1, 12, 31))
        # Default windows when a question names no period.
        self.last_12_calendar_months = (add_months(D(a.year, a.month, 1), -11), a)
        self.last_5_years = (D(a.year - 4, 1, 1), a)

    def year(self, y):
        return (D(y, 1, 1), min(D(y, 12, 31), self.as_of))

    def quarter(self, y, q):
        s = D(y, 3 * q - 2, 1)
        return (s, min(month_end(add_months(s, 2)), self.as_of))

    def month(self, y, m):
        s = D(y, m, 1)
        return (s, min(month_end(s), self.as_of))

    def last_n_days(self, n):
        return (self.as_of - dt.timedelta(days=n - 1), self.as_of)

    def last_n_months(self, n):
        return (add_months(self.as_of, -n) + dt.timedelta(days=1), self.as_of)


def in_period(series, period):
    start, end = period
    s = pd.Timestamp(start)
    e = pd.Timestamp(end) + pd.Timedelta(days=1)
    return (series >= s) & (series < e)


def label(period):
    return f"{period[0]:%Y-%m-%d} to {period[1]:%Y-%m-%d}"


# ---------------------------------------------------------------------------
# Row selections and metrics, from DATA_SCHEMA.md.

def lines(c, period, **filters):
    df = c.lines[in_period(c.lines["invoiced_on"], period)].copy()
    return with_attributes(c, df, filters)


def appts(c, period, **filters):
    df = c.appts[in_period(c.appts["starts_at"], period)].copy()
    return with_attributes(c, df, filters)


def with_attributes(c, df, filters):
    staff = c.staff.set_index("staff_id")
    pats = c.patients.set_index("patient_id")
    df["vet"] = df["staff_id"].map(staff["full_name"]).fillna("(no staff)")
    df["species"] = df["patient_id"].map(pats["species"]).fillna("(no patient)")
    df["breed"] = df["patient_id"].map(pats["breed"]).fillna("(unknown)")
    for col, allowed in filters.items():
        allowed = allowed if isinstance(allowed, (list, tuple)) else [allowed]
        df = df[df[col].isin(allowed)]
    return df


def revenue(df):
    return df["amount"].sum()


def invoices(df):
    return df["invoice_id"].nunique()


def atc(df):
    n = invoices(df)
    return revenue(df) / n if n else math.nan


def cost_of_goods(df):
    # A line without unit_cost adds no cost.
    return (df["quantity"] * df["unit_cost"]).sum(skipna=True)


def gross_margin(df):
    return revenue(df) - cost_of_goods(df)


def margin_percent(df):
    r = revenue(df)
    return 100 * gross_margin(df) / r if r else math.nan


def status_rate(df, status):
    considered = df[df["status"].isin(["completed", "no_show", "cancelled"])]
    if len(considered) == 0:
        return math.nan
    return 100 * (considered["status"] == status).sum() / len(considered)


def no_show_rate(df):
    return status_rate(df, "no_show")


def cancellation_rate(df):
    return status_rate(df, "cancelled")


def patients_seen(df):
    return df.loc[df["status"] == "completed", "patient_id"].nunique()


def new_clients(c, period):
    return int(in_period(c.clients["created_on"], period).sum())


# ---------------------------------------------------------------------------
# Breakdowns.

def by(df, key, fn, keys=None):
    """[[label, fn(rows)]] per value of df[key]; with keys, exactly those."""
    if keys is None:
        keys = sorted(df[key].dropna().unique())
    return [[str(k), fn(df[df[key] == k])] for k in keys]


def month_keys(period):
    return [str(p) for p in pd.period_range(period[0], period[1], freq="M")]


def quarter_keys(period):
    return [str(p) for p in pd.period_range(period[0], period[1], freq="Q")]


def by_month(df, col, period, fn):
    df = df.assign(_k=df[col].dt.strftime("%Y-%m"))
    return by(df, "_k", fn, month_keys(period))


def by_quarter(df, col, period, fn):
    df = df.assign(_k=df[col].dt.year.astype(str) + "Q" + df[col].dt.quarter.astype(str))
    return by(df, "_k", fn, quarter_keys(period))


def by_year(df, col, period, fn):
    df = df.assign(_k=df[col].dt.year.astype(str))
    return by(df, "_k", fn, [str(y) for y in range(period[0].year, period[1].year + 1)])


def by_weekday(df, col, fn):
    df = df.assign(_k=df[col].dt.dayofweek.map(lambda i: WEEKDAYS[i]))
    return by(df, "_k", fn, WEEKDAYS)


MISSING_LABELS = {"(no staff)", "(no patient)", "(unknown)", "(none)",
                  "(no appointment)"}


def ranked(rows):
    """A ranking ranks values: rows without one (walk-in sales, unknown
    breed) are not contenders."""
    return [r for r in rows if r[0] not in MISSING_LABELS]


def top(rows, n=None):
    rows = sorted(rows, key=lambda r: r[1], reverse=True)
    return rows[:n] if n else rows


def compare(fn, now, before):
    return [[label(now), fn(now)], [label(before), fn(before)]]


def compare_by(now, before, key, fn):
    """[[value, fn(now's rows), fn(before's rows)]] per value of either."""
    keys = sorted(set(now[key]) | set(before[key]))
    return [[k, fn(now[now[key] == k]), fn(before[before[key] == k])]
            for k in keys]


# ---------------------------------------------------------------------------
# The expectations, one per question id.

def number(v):
    return {"number": float(v)}


def table(rows):
    return {"table": [[r[0]] + [float(x) for x in r[1:]] for r in rows]}


DECLINED = {"declined": True}

E = {}


def expect(fn):
    E[fn.__name__] = fn
    return fn


@expect
def rev_last_month(c):
    return number(revenue(lines(c, c.last_month)))


@expect
def rev_2025(c):
    return number(revenue(lines(c, c.year(2025))))


@expect
def rev_q3_2025(c):
    return number(revenue(lines(c, c.quarter(2025, 3))))


@expect
def rev_march_2026(c):
    return number(revenue(lines(c, c.month(2026, 3))))


@expect
def rev_ytd(c):
    return number(revenue(lines(c, c.this_year)))


@expect
def rev_today(c):
    return number(revenue(lines(c, c.today)))


@expect
def rev_yesterday(c):
    return number(revenue(lines(c, c.yesterday)))


@expect
def rev_this_week(c):
    return number(revenue(lines(c, c.this_week)))


@expect
def rev_last_week(c):
    return number(revenue(lines(c, c.last_week)))


@expect
def rev_between(c):
    return number(revenue(lines(c, (D(2025, 6, 1), D(2025, 8, 15)))))


@expect
def rev_last_90_days(c):
    return number(revenue(lines(c, c.last_n_days(90))))


@expect
def rev_past_3_months(c):
    # Rolling: the as-of day three months back, exclusive.
    return number(revenue(lines(c, c.last_n_months(3))))


@expect
def rev_this_quarter(c):
    return number(revenue(lines(c, c.this_quarter)))


@expect
def rev_by_month_2025(c):
    p = c.year(2025)
    return table(by_month(lines(c, p), "invoiced_on", p, revenue))


@expect
def rev_quarterly_last_year(c):
    p = c.last_year
    return table(by_quarter(lines(c, p), "invoiced_on", p, revenue))


@expect
def rev_by_year(c):
    p = c.last_5_years
    return table(by_year(lines(c, p), "invoiced_on", p, revenue))


@expect
def rev_by_weekday_last_quarter(c):
    return table(by_weekday(lines(c, c.last_quarter), "invoiced_on", revenue))


@expect
def rev_by_category_this_year(c):
    return table(by(lines(c, c.this_year), "category", revenue))


@expect
def rev_by_vet_2025(c):
    return table(by(lines(c, c.year(2025)), "vet", revenue))


@expect
def rev_by_species_ytd(c):
    # "Which species": retail sales without a patient are not a species.
    return table(top(ranked(by(lines(c, c.this_year), "species", revenue))))


@expect
def rev_cats_last_year(c):
    return number(revenue(lines(c, c.last_year, species="feline")))


@expect
def rev_dental_q1_2026(c):
    # "dental revenue": invoice lines of category dental.
    return number(revenue(lines(c, c.quarter(2026, 1), category="dental")))


@expect
def rev_top5_services(c):
    return table(top(by(lines(c, c.this_year), "description", revenue), 5))


@expect
def rev_trend_12_months(c):
    p = c.last_n_months(12)  # rolling, so the first month is partial
    return table(by_month(lines(c, p), "invoiced_on", p, revenue))


@expect
def rev_monthly_last_quarter(c):
    p = c.last_quarter
    return table(by_month(lines(c, p), "invoiced_on", p, revenue))


@expect
def rev_dr_marsh_last_month(c):
    df = lines(c, c.last_month)
    return number(revenue(df[df["vet"].str.contains("marsh", case=False)]))


@expect
def rev_2025_vs_2024(c):
    return table(compare(lambda p: revenue(lines(c, p)), c.year(2025), c.year(2024)))


@expect
def rev_this_year_vs_last(c):
    before = (D(c.as_of.year - 1, 1, 1), add_months(c.as_of, -12))
    return table(compare(lambda p: revenue(lines(c, p)), c.this_year, before))


@expect
def rev_growth_last_month(c):
    before = (add_months(c.last_month[0], -12), month_end(add_months(c.last_month[0], -12)))
    return table(compare(lambda p: revenue(lines(c, p)), c.last_month, before))


@expect
def rev_by_category_2025_vs_2024(c):
    return table(compare_by(lines(c, c.year(2025)), lines(c, c.year(2024)),
                            "category", revenue))


@expect
def pharmacy_share_2025(c):
    df = lines(c, c.year(2025))
    return number(100 * revenue(df[df["category"] == "pharmacy"]) / revenue(df))


@expect
def invoices_last_month(c):
    return number(invoices(lines(c, c.last_month)))


@expect
def transactions_by_month_ytd(c):
    p = c.this_year
    return table(by_month(lines(c, p), "invoiced_on", p, invoices))


@expect
def charged_visits_q4_2025(c):
    return number(invoices(lines(c, c.quarter(2025, 4))))


@expect
def atc_last_year(c):
    return number(atc(lines(c, c.last_year)))


@expect
def atc_by_vet_this_year(c):
    return table(by(lines(c, c.this_year), "vet", atc))


@expect
def atc_first_quarter_2026(c):
    return number(atc(lines(c, c.quarter(2026, 1))))


@expect
def atc_by_quarter(c):
    p = c.last_12_calendar_months
    return table(by_quarter(lines(c, p), "invoiced_on", p, atc))


@expect
def gm_last_year(c):
    return number(gross_margin(lines(c, c.last_year)))


@expect
def gm_pct_2025(c):
    return number(margin_percent(lines(c, c.year(2025))))


@expect
def gross_profit_by_category_last_quarter(c):
    return table(by(lines(c, c.last_quarter), "category", gross_margin))


@expect
def margin_pct_by_category_ytd(c):
    return table(by(lines(c, c.this_year), "category", margin_percent))


@expect
def discounts_last_year(c):
    return number(lines(c, c.last_year)["discount"].sum())


@expect
def discounts_by_vet_2025(c):
    return table(by(lines(c, c.year(2025)), "vet", lambda d: d["discount"].sum()))


@expect
def new_clients_q3_2025(c):
    return number(new_clients(c, c.quarter(2025, 3)))


@expect
def new_client_registrations_by_month_last_year(c):
    p = c.last_year
    df = c.clients[in_period(c.clients["created_on"], p)]
    return table(by_month(df, "created_on", p, len))


@expect
def new_customers_this_month(c):
    return number(new_clients(c, c.this_month))


@expect
def new_owners_last_30_days(c):
    return number(new_clients(c, c.last_n_days(30)))


@expect
def new_clients_per_year(c):
    p = c.last_5_years
    df = c.clients[in_period(c.clients["created_on"], p)]
    return table(by_year(df, "created_on", p, len))


@expect
def active_clients(c):
    # DATA_SCHEMA.md: status = active (the question names no visit window).
    return number((c.clients["status"] == "active").sum())


@expect
def active_customer_count(c):
    return number((c.clients["status"] == "active").sum())


@expect
def clients_by_status(c):
    return table(by(c.clients, "status", len))


@expect
def patients_seen_by_species_ytd(c):
    # Patients seen: completed appointments only, so only species with one.
    return table(by(appts(c, c.this_year, status="completed"), "species", patients_seen))


@expect
def unique_patients_by_breed_last_year(c):
    return table(by(appts(c, c.last_year, status="completed"), "breed", patients_seen))


@expect
def unique_patients_last_month(c):
    return number(patients_seen(appts(c, c.last_month)))


@expect
def dogs_seen_2025(c):
    return number(patients_seen(appts(c, c.year(2025), species="canine")))


@expect
def appts_by_type_last_month(c):
    return table(by(appts(c, c.last_month), "type", len))


@expect
def appts_by_status_2025(c):
    return table(by(appts(c, c.year(2025)), "status", len))


@expect
def appts_last_week(c):
    return number(len(appts(c, c.last_week)))


@expect
def appts_this_quarter(c):
    return number(len(appts(c, c.this_quarter)))


@expect
def surgery_appts_last_quarter(c):
    return number(len(appts(c, c.last_quarter, type="surgery")))


@expect
def completed_dentals_2025(c):
    return number(len(appts(c, c.year(2025), type="dental", status="completed")))


@expect
def vet_most_appts_last_month(c):
    # "Which vet": only veterinarians (staff.role), as for revenue.
    return table(top(by(appts(c, c.last_month, vet=veterinarians(c)), "vet", len)))


@expect
def busiest_weekday_ytd(c):
    return table(top(by_weekday(appts(c, c.this_year), "starts_at", len)))


@expect
def appts_by_weekday_2025(c):
    return table(by_weekday(appts(c, c.year(2025)), "starts_at", len))


@expect
def emergencies_this_year(c):
    return number(len(appts(c, c.this_year, type="emergency")))


@expect
def no_shows_last_month(c):
    return number(len(appts(c, c.last_month, status="no_show")))


@expect
def appts_this_month_vs_last(c):
    # This month so far against the same days of last month.
    before = (add_months(c.this_month[0], -1), add_months(c.as_of, -1))
    return table(compare(lambda p: len(appts(c, p)), c.this_month, before))


@expect
def appts_last_quarter_vs_previous(c):
    s = add_months(c.last_quarter[0], -3)
    return table(compare(lambda p: len(appts(c, p)), c.last_quarter,
                         (s, month_end(add_months(s, 2)))))


@expect
def no_show_rate_last_year(c):
    return number(no_show_rate(appts(c, c.last_year)))


@expect
def no_show_rate_by_vet_2025(c):
    df = appts(c, c.year(2025), status=["completed", "no_show", "cancelled"])
    return table(by(df, "vet", no_show_rate))


@expect
def cancellation_rate_last_quarter(c):
    return number(cancellation_rate(appts(c, c.last_quarter)))


@expect
def cancellation_rate_by_month_6m(c):
    p = c.last_n_months(6)
    return table(by_month(appts(c, p), "starts_at", p, cancellation_rate))


@expect
def no_show_rate_this_year_vs_last(c):
    before = (D(c.as_of.year - 1, 1, 1), add_months(c.as_of, -12))
    return table(compare(lambda p: no_show_rate(appts(c, p)), c.this_year, before))


@expect
def top10_best_selling_products(c):
    # Best-selling: units sold (sum of quantity, refunds negative).
    return table(top(by(lines(c, c.this_year), "description",
                        lambda d: d["quantity"].sum()), 10))


@expect
def rev_in_march(c):
    # A month without a year: the most recent one that has started.
    return number(revenue(lines(c, c.month(2026, 3))))


@expect
def rev_since_jan_2026(c):
    return number(revenue(lines(c, (D(2026, 1, 1), c.as_of))))


@expect
def rev_on_day(c):
    return number(revenue(lines(c, (D(2026, 4, 13), D(2026, 4, 13)))))


@expect
def rev_mtd(c):
    return number(revenue(lines(c, c.this_month)))


@expect
def rev_previous_quarter(c):
    return number(revenue(lines(c, c.last_quarter)))


@expect
def rev_last_2_weeks(c):
    return number(revenue(lines(c, c.last_n_days(14))))


@expect
def rev_by_day_last_week(c):
    p = c.last_week
    df = lines(c, p).assign(_k=lambda d: d["invoiced_on"].dt.strftime("%Y-%m-%d"))
    days = [str(x.date()) for x in pd.date_range(p[0], p[1])]
    return table(by(df, "_k", revenue, days))


@expect
def rev_vaccines_last_month(c):
    return number(revenue(lines(c, c.last_month, category="vaccine")))


@expect
def rev_canine_q4_2025(c):
    return number(revenue(lines(c, c.quarter(2025, 4), species="canine")))


@expect
def rev_yoy(c):
    # No period named: this year so far, against the same days last year.
    before = (D(c.as_of.year - 1, 1, 1), add_months(c.as_of, -12))
    return table(compare(lambda p: revenue(lines(c, p)), c.this_year, before))


@expect
def rev_last_month_vs_month_before(c):
    s = add_months(c.last_month[0], -1)
    return table(compare(lambda p: revenue(lines(c, p)), c.last_month, (s, month_end(s))))


@expect
def rev_q1_2026_vs_q1_2025(c):
    return table(compare(lambda p: revenue(lines(c, p)), c.quarter(2026, 1),
                         c.quarter(2025, 1)))


@expect
def rev_bottom3_services_2025(c):
    rows = by(lines(c, c.year(2025)), "description", revenue)
    return table(sorted(rows, key=lambda r: r[1])[:3])


def veterinarians(c):
    return list(c.staff.loc[c.staff["role"] == "veterinarian", "full_name"])


@expect
def rev_top3_vets_last_year(c):
    # "vets": staff whose role is veterinarian.
    df = lines(c, c.last_year, vet=veterinarians(c))
    return table(top(by(df, "vet", revenue), 3))


@expect
def vet_lowest_revenue_2025(c):
    # "Which vet": only veterinarians, not technicians or walk-in sales.
    df = lines(c, c.year(2025), vet=veterinarians(c))
    return table(sorted(by(df, "vet", revenue), key=lambda r: r[1]))


@expect
def gm_dr_okafor_q4_2025(c):
    df = lines(c, c.quarter(2025, 4))
    return number(gross_margin(df[df["vet"].str.contains("okafor", case=False)]))


@expect
def gm_pct_pharmacy_last_year(c):
    return number(margin_percent(lines(c, c.last_year, category="pharmacy")))


@expect
def atc_exotic_this_year(c):
    return number(atc(lines(c, c.this_year,
                            species=["rabbit", "avian", "reptile", "rodent"])))


@expect
def clients_on_file(c):
    return number(len(c.clients))


@expect
def new_clients_2026_so_far(c):
    return number(new_clients(c, c.year(2026)))


@expect
def new_clients_this_year_vs_last(c):
    before = (D(c.as_of.year - 1, 1, 1), add_months(c.as_of, -12))
    return table(compare(lambda p: new_clients(c, p), c.this_year, before))


@expect
def patients_by_species(c):
    # "patients we have": living patients on file, by species.
    living = c.patients[c.patients["status"] == "active"]
    return table(by(living, "species", len))


@expect
def cats_and_dogs_seen_last_month(c):
    return number(patients_seen(appts(c, c.last_month, species=["canine", "feline"])))


@expect
def top5_breeds_seen_last_year(c):
    df = appts(c, c.last_year, status="completed")
    # Patients without a recorded breed are not a breed.
    return table(top(ranked(by(df, "breed", patients_seen)), 5))


@expect
def vaccination_appts_last_month(c):
    return number(len(appts(c, c.last_month, type="vaccination")))


@expect
def surgeries_2025(c):
    # Surgeries done: completed surgery appointments.
    return number(len(appts(c, c.year(2025), type="surgery", status="completed")))


@expect
def appts_qtd(c):
    return number(len(appts(c, c.this_quarter)))


@expect
def weekly_appointments(c):
    # No period named: the 12 weeks (Monday-aligned) up to the as-of day.
    start = week_start(c.as_of) - dt.timedelta(weeks=11)
    df = appts(c, (start, c.as_of))
    df = df.assign(_k=(df["starts_at"] - pd.to_timedelta(df["starts_at"].dt.dayofweek, unit="D"))
                   .dt.strftime("%Y-%m-%d"))
    weeks = [str(start + dt.timedelta(weeks=k)) for k in range(12)]
    return table(by(df, "_k", len, weeks))


@expect
def appts_by_hour_last_month(c):
    df = appts(c, c.last_month).assign(_k=lambda d: d["starts_at"].dt.hour.astype(str))
    return table(by(df, "_k", len, [str(h) for h in range(24)]))


@expect
def quietest_weekday_2025(c):
    rows = by_weekday(appts(c, c.year(2025)), "starts_at", len)
    return table(sorted(rows, key=lambda r: r[1]))


@expect
def upcoming_appts(c):
    # Scheduled appointments that start after the as-of day.
    a = c.appts
    return number(((a["status"] == "scheduled") &
                   (a["starts_at"] >= pd.Timestamp(c.as_of) + pd.Timedelta(days=1))).sum())


@expect
def no_show_rate_dental_last_year(c):
    return number(no_show_rate(appts(c, c.last_year, type="dental")))


@expect
def cancellation_rate_cats_2025(c):
    return number(cancellation_rate(appts(c, c.year(2025), species="feline")))


@expect
def no_show_percentage_last_month(c):
    return number(no_show_rate(appts(c, c.last_month)))


# ---------------------------------------------------------------------------
# Follow-ups (tests/planner/followups.json): one function per turn id. Each
# turn is computed on its own from what the conversation means so far, as a
# manager would read it, not from the planner's plan of the turn before.
#
# Interpretation notes for follow-ups (the planner's documented reading,
# core/codegen/question_parser.h):
#   - A follow-up keeps the previous turn's metric, period, breakdown and
#     filters except what it changes; a question naming a metric starts
#     afresh.
#   - "the quarter/month before", "before that": the whole calendar unit
#     before the previous period ("this month" so far -> all of last month);
#     "the year before": the same quarter/month a year earlier.
#   - "and overall?" drops the breakdown (and a ranking with the "vets are
#     veterinarians" restriction it implied); "all animals" drops filters.
#   - A period the first question left to the default ("revenue": this year
#     so far) is defaulted afresh for a new breakdown ("by month": the 12
#     calendar months up to the as-of day).
#   - "compared with the year before?" compares with the same period a year
#     earlier, "the month before" with the month before.

F = {}


def turns(*ids):
    """Registers fn as the expectation of the turns `ids` (turns of different
    conversations that ask the same thing share one)."""
    def register(fn):
        for i in ids:
            F[i] = fn
        return fn
    return register


def staff_named(df, name):
    return df[df["vet"].str.contains(name, case=False)]


@turns("period_replace_1", "filters_stack_2")
def revenue_cats_last_quarter(c):
    return number(revenue(lines(c, c.last_quarter, species="feline")))


@turns("period_replace_2")
def period_replace_2(c):
    return number(revenue(lines(c, c.last_year, species="feline")))


@turns("period_replace_3")
def period_replace_3(c):
    return number(revenue(lines(c, c.month(2026, 1), species="feline")))


@turns("step_back_1")
def step_back_1(c):
    return number(revenue(lines(c, c.quarter(2026, 1))))


@turns("step_back_2")
def step_back_2(c):
    return number(revenue(lines(c, c.quarter(2025, 4))))


@turns("step_back_3", "year_before_1")
def revenue_q3_2025(c):
    return number(revenue(lines(c, c.quarter(2025, 3))))


@turns("month_before_1")
def month_before_1(c):
    return number(len(appts(c, c.this_month)))


@turns("month_before_2")
def month_before_2(c):
    # All of March, not March 1-15.
    return number(len(appts(c, (D(2026, 3, 1), D(2026, 3, 31)))))


@turns("year_before_2")
def year_before_2(c):
    return number(revenue(lines(c, c.quarter(2024, 3))))


@turns("chain_by_vet_1", "filters_stack_1", "new_question_1", "gibberish_1",
       "wrong_step_1")
def revenue_last_quarter(c):
    return number(revenue(lines(c, c.last_quarter)))


@turns("chain_by_vet_2", "new_question_2")
def revenue_by_vet_last_quarter(c):
    return table(by(lines(c, c.last_quarter), "vet", revenue))


@turns("chain_by_vet_3", "top_n_1")
def revenue_by_vet_last_year(c):
    return table(by(lines(c, c.last_year), "vet", revenue))


@turns("break_down_1")
def break_down_1(c):
    return number(no_show_rate(appts(c, c.last_year)))


@turns("break_down_2")
def break_down_2(c):
    df = appts(c, c.last_year, status=["completed", "no_show", "cancelled"])
    return table(by(df, "species", no_show_rate))


@turns("break_down_3")
def break_down_3(c):
    df = appts(c, c.last_year, status=["completed", "no_show", "cancelled"],
               type="dental")
    return table(by(df, "species", no_show_rate))


@turns("by_month_instead_1")
def by_month_instead_1(c):
    return table(by(lines(c, c.year(2025)), "vet", revenue))


@turns("by_month_instead_2")
def by_month_instead_2(c):
    p = c.year(2025)
    return table(by_month(lines(c, p), "invoiced_on", p, revenue))


@turns("filters_stack_3")
def filters_stack_3(c):
    # Dental revenue: invoice lines of category dental, still cats only.
    return number(revenue(lines(c, c.last_quarter, species="feline",
                                category="dental")))


@turns("appointment_types_1", "compare_month_before_1")
def appointments_last_month(c):
    return number(len(appts(c, c.last_month)))


@turns("appointment_types_2")
def appointment_types_2(c):
    # Dental appointments of any status: the metric is still appointments.
    return number(len(appts(c, c.last_month, type="dental")))


@turns("appointment_types_3")
def appointment_types_3(c):
    return number(len(appts(c, c.last_month, type="surgery")))


@turns("species_swap_1")
def species_swap_1(c):
    return number(atc(lines(c, c.last_year, species="canine")))


@turns("species_swap_2")
def species_swap_2(c):
    return number(atc(lines(c, c.last_year, species="feline")))


@turns("staff_swap_1")
def staff_swap_1(c):
    return number(gross_margin(lines(c, c.last_quarter)))


@turns("staff_swap_2")
def staff_swap_2(c):
    return number(gross_margin(staff_named(lines(c, c.last_quarter), "okafor")))


@turns("staff_swap_3")
def staff_swap_3(c):
    return number(gross_margin(staff_named(lines(c, c.last_quarter), "marsh")))


@turns("overall_1")
def overall_1(c):
    return table(by(lines(c, c.last_month, species="feline"), "vet", revenue))


@turns("overall_2")
def overall_2(c):
    return number(revenue(lines(c, c.last_month, species="feline")))


@turns("overall_3")
def overall_3(c):
    return number(revenue(lines(c, c.last_month)))


@turns("top_n_2")
def top_n_2(c):
    df = lines(c, c.last_year, vet=veterinarians(c))
    return table(top(by(df, "vet", revenue), 3))


@turns("top_n_3")
def top_n_3(c):
    df = lines(c, c.last_year, vet=veterinarians(c))
    return table(sorted(by(df, "vet", revenue), key=lambda r: r[1])[:3])


@turns("top_n_4")
def top_n_4(c):
    # All of last year's revenue, walk-in sales and technicians included.
    return number(revenue(lines(c, c.last_year)))


@turns("which_most_1")
def which_most_1(c):
    return number(len(appts(c, c.last_quarter)))


@turns("which_most_2")
def which_most_2(c):
    return table(top(by(appts(c, c.last_quarter, vet=veterinarians(c)), "vet", len)))


@turns("compare_year_before_1")
def compare_year_before_1(c):
    return table(by(lines(c, c.last_quarter), "category", revenue))


@turns("compare_year_before_2")
def compare_year_before_2(c):
    return table(compare_by(lines(c, c.quarter(2026, 1)),
                            lines(c, c.quarter(2025, 1)), "category", revenue))


@turns("compare_month_before_2")
def compare_month_before_2(c):
    return table(compare(lambda p: len(appts(c, p)), c.month(2026, 3),
                         c.month(2026, 2)))


@turns("redefault_1")
def redefault_1(c):
    return number(revenue(lines(c, c.this_year)))


@turns("redefault_2")
def redefault_2(c):
    p = c.last_12_calendar_months
    return table(by_month(lines(c, p), "invoiced_on", p, revenue))


@turns("new_question_3")
def new_question_3(c):
    # Not by vet: the question names its metric and starts afresh.
    return number(no_show_rate(appts(c, c.last_month)))


@turns("gibberish_3")
def gibberish_3(c):
    # The declined turn leaves nothing to build on: this follows turn 1.
    return table(by(lines(c, c.last_quarter), "vet", revenue))


def followup_answers(c, conversations):
    answers, missing = {}, []
    for conv in conversations:
        for t in conv["turns"]:
            if t.get("model_turn"):
                continue
            if t["expect"].get("declined"):
                answers[t["id"]] = DECLINED
                continue
            fn = F.get(t["id"])
            if fn is None:
                missing.append(t["id"])
                continue
            answers[t["id"]] = shown(c, clean(fn(c)))
    return answers, missing


# ---------------------------------------------------------------------------

# Issue 14: answers and their tables name values as a manager reads them,
# never as the export stores them. An enum value of DATA_SCHEMA.md is
# capitalised with "_" as a space ("canine" -> "Canine"), except the few
# below; a veterinarian is "Dr. <last name>" ("Dr. <full name>" when two
# veterinarians share a last name), other staff their full name. Time
# buckets, item descriptions, breeds and "(no staff)"-style labels are
# shown as they are.
ENUM_VALUES = {
    # species
    "canine", "feline", "rabbit", "avian", "reptile", "rodent", "equine", "other",
    # invoice categories
    "consultation", "vaccine", "laboratory", "imaging", "surgery", "dental",
    "pharmacy", "hospitalization", "retail", "diet",
    # appointment types and statuses
    "wellness", "vaccination", "sick", "recheck", "emergency", "grooming",
    "completed", "no_show", "cancelled", "scheduled",
    # staff roles; client and patient status
    "veterinarian", "technician", "receptionist", "manager",
    "active", "inactive", "deceased",
    # invoice lines with or without an appointment
    "with_appointment", "without_appointment",
}
SPECIAL_NAMES = {"no_show": "No-show",
                 "with_appointment": "With an appointment",
                 "without_appointment": "Without an appointment"}


def staff_names(c):
    """Staff full_name -> the name answers use."""
    vets = c.staff[c.staff["role"] == "veterinarian"]
    last = {n: n.split()[-1] for n in vets["full_name"]}
    shared = {x for x in last.values() if list(last.values()).count(x) > 1}
    names = {}
    for n, role in zip(c.staff["full_name"], c.staff["role"]):
        if role == "veterinarian":
            names[n] = "Dr. " + (n if last[n] in shared else last[n])
        else:
            names[n] = n
    return names


def display_name(c, label):
    if label in ENUM_VALUES:
        return SPECIAL_NAMES.get(label, label.replace("_", " ").capitalize())
    return staff_names(c).get(label, label)


def shown(c, answer):
    """`answer` with its table's labels as answers show them."""
    if isinstance(answer, dict) and "table" in answer:
        return {**answer, "table": [[display_name(c, r[0])] + r[1:] for r in answer["table"]]}
    return answer


def clean(v):
    """NaN (an undefined rate) as null, for JSON."""
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, list):
        return [clean(x) for x in v]
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()}
    return v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--as-of", required=True)
    ap.add_argument("--questions", required=True)
    ap.add_argument("--followups",
                    help="also answer tests/planner/followups.json's turns, "
                         "under \"followups\" in the output")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    c = Ctx(args.data, D.fromisoformat(args.as_of))
    with open(args.questions) as f:
        questions = json.load(f)["questions"]
    answers = {}
    missing = []
    output = {"as_of": args.as_of, "answers": answers}
    if args.followups:
        with open(args.followups) as f:
            conversations = json.load(f)["conversations"]
        output["followups"], missing = followup_answers(c, conversations)
    for q in questions:
        if q["expect"].get("declined"):
            answers[q["id"]] = DECLINED
            continue
        fn = E.get(q["id"])
        if fn is None:
            missing.append(q["id"])
            continue
        answers[q["id"]] = shown(c, clean(fn(c)))
    if missing:
        sys.exit(f"no expectation for: {', '.join(missing)}")
    with open(args.out, "w") as f:
        json.dump(output, f, indent=1)


if __name__ == "__main__":
    main()
