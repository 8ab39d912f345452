"""A realistic CRM account export, generated (seeded) rather than stored: `write(path, rows, seed)`.

Salesforce report labels as headers; one `Billing State/Province` column holding US states,
Canadian provinces, Australian states and free text; and the mess of issue 17: codes in
lower case or with spaces around them, `USA`, `United States`, `California`, ZIP+4,
a ZIP that lost its leading zero, `$1,200,000`, `1,200`, `1.2M`, `Healthcare`, blank cells,
repeated account ids. Used by tests/test_crm_export.py, which pins what `terrl assign` makes of it.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HEADER = ["Account ID", "Account Name", "Billing Country", "Billing State/Province", "Billing Zip/Postal Code",
          "Industry", "Employees", "Annual Revenue"]
US_STATES = {"CA": "California", "WA": "Washington", "NY": "New York", "TX": "Texas", "MA": "Massachusetts",
             "IL": "Illinois", "FL": "Florida", "CO": "Colorado", "GA": "Georgia", "OR": "Oregon"}
US_ZIPS = {"CA": "94105", "WA": "98101", "NY": "10001", "TX": "75001", "MA": "02139", "IL": "60601",
           "FL": "33101", "CO": "80202", "GA": "30301", "OR": "97201"}
CA_PROVINCES = ["ON", "BC", "QC", "AB"]
AU_STATES = ["NSW", "VIC", "WA", "QLD"]
COUNTRIES = ["DE", "FR", "GB", "JP", "BR", "IN"]
INDUSTRIES = ["software", "healthcare", "finance", "retail", "public_sector", "other"]


def _pick(rng: random.Random, weighted: list[tuple[float, object]]):
    x = rng.random()
    for weight, value in weighted:
        if x < weight:
            return value
        x -= weight
    return weighted[-1][1]


def rows(count: int, seed: int = 17):
    rng = random.Random(seed)
    ids: list[str] = []
    for n in range(count):
        if ids and rng.random() < 0.01:
            account_id = rng.choice(ids)  # a repeated id: exported twice
        else:
            account_id = f"001{n:07d}"
            ids.append(account_id)
        market = _pick(rng, [(0.6, "US"), (0.1, "CA"), (0.06, "AU"), (0.24, "world")])
        state, postal = "", ""
        if market == "US":
            code = rng.choice(list(US_STATES))
            country = _pick(rng, [(0.8, "US"), (0.08, "United States"), (0.05, "USA"), (0.04, " us"), (0.03, "U.S.")])
            state = _pick(rng, [(0.8, code), (0.08, US_STATES[code]), (0.05, code.lower()), (0.04, f" {code} "),
                                (0.02, ""), (0.01, "Calfornia" if code == "CA" else "N/A")])
            zip5 = US_ZIPS[code]
            postal = _pick(rng, [(0.8, zip5), (0.1, f"{zip5}-{rng.randrange(10000):04d}"),
                                 (0.05, zip5.lstrip("0")), (0.05, "")])
        elif market == "CA":
            country = _pick(rng, [(0.9, "CA"), (0.1, "Canada")])
            state = rng.choice(CA_PROVINCES)
            postal = ""
        elif market == "AU":
            country = _pick(rng, [(0.9, "AU"), (0.1, "Australia")])
            state = rng.choice(AU_STATES)
        else:
            country = rng.choice(COUNTRIES)
            state = _pick(rng, [(0.7, ""), (0.3, rng.choice(["Bavaria", "Île-de-France", "Tokyo", "London"]))])
        industry = rng.choice(INDUSTRIES)
        industry = _pick(rng, [(0.8, industry), (0.1, industry.title()), (0.05, industry.replace("_", " ").title()),
                               (0.05, "Banking")])
        employees = rng.choice([5, 40, 250, 999, 1000, 1200, 5000, 20000])
        employees_text = _pick(rng, [(0.85, str(employees)), (0.1, f"{employees:,}"), (0.05, "")])
        revenue = rng.choice([0, 250_000, 1_200_000, 80_000_000, 499_999_999, 500_000_000, 2_000_000_000])
        revenue_text = _pick(rng, [(0.75, str(revenue)), (0.1, f"${revenue:,}"), (0.05, f"{revenue:,}.00"),
                                   (0.05, f"{revenue / 1e6:g}M" if revenue >= 1_000_000 else str(revenue)),
                                   (0.05, "")])
        yield [account_id, f"Account {n}", country, state, postal, industry, employees_text, revenue_text]


def write(path: str | Path, count: int = 10_000, seed: int = 17) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows(count, seed))
    return Path(path)
