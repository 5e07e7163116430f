"""A catalogue whose indicator ids are codes as the NHS and councils write them (mixed
case, dots, brackets, spaces, a slash), with aliases and money, and a real SQLite store
holding their values under those ids, for the pages and exports that carry an id."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import Engine

from kpis import ingest, periods
from kpis.catalogue import Catalogue, load_catalogue

AS_AT = periods.parse_period("2020-11")
CODED = {
    "title": "Coded report",
    "owners": {"AB": "Associate Director"},
    "workstreams": [{"id": "finance", "name": "Finance and outcomes"}],
    "indicators": [
        {"id": "iapt-recovery", "name": "IAPT recovery", "workstream": "finance", "unit": "percent",
         "direction": "higher", "target": 50, "aliases": ["UHS-IAPT-01"]},
        {"id": "PHOF-2.22iii", "name": "Health checks net change", "workstream": "finance", "unit": "number",
         "direction": "higher"},
        {"id": "C.19", "name": "Covid admissions", "workstream": "finance", "unit": "count", "direction": "lower"},
        {"id": "ASCOF 2A(1)", "name": "Budget variance", "workstream": "finance", "unit": "currency",
         "direction": "higher", "target": 0, "headline": True, "aliases": ["FIN-VAR"]},
        {"id": "a/b", "name": "Surplus or deficit", "workstream": "finance", "unit": "currency",
         "direction": "higher", "headline": True, "decimals": 1},
        {"id": "x/../../etc/passwd", "name": "Dots and slashes", "workstream": "finance", "unit": "count",
         "direction": "none"},
    ],
}  # fmt: skip
# (indicator, period, value): last year's November and this year's October and November
VALUES = [
    ("iapt-recovery", "2019-11", 48.0),
    ("iapt-recovery", "2020-11", 52.5),
    ("PHOF-2.22iii", "2020-11", -1234.0),
    ("C.19", "2020-11", 7039.0),
    ("ASCOF 2A(1)", "2019-11", 150_000.0),
    ("ASCOF 2A(1)", "2020-11", -56_000.0),
    ("a/b", "2019-11", 1_234_000.0),
    ("a/b", "2020-11", 640.0),
    ("x/../../etc/passwd", "2020-11", 3.0),
]


def write_catalogue(folder: Path) -> Path:
    path = folder / "coded.yaml"
    path.write_text(yaml.safe_dump(CODED, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def coded_catalogue(folder: Path) -> Catalogue:
    return load_catalogue(write_catalogue(folder))


# How officers' files write the codes: aliases, another case, spaces around them.
WRITTEN_AS = {"iapt-recovery": "uhs-iapt-01", "PHOF-2.22iii": " phof-2.22III ", "ASCOF 2A(1)": "fin-var"}


def extract(values: list[tuple[str, str, float]] = VALUES) -> bytes:
    """An extract of ``values`` with codes as officers write them (:data:`WRITTEN_AS`)."""
    lines = [f'"{WRITTEN_AS.get(i, i)}",{p},{v}' for i, p, v in values]
    return ("indicator,period,value\n" + "\n".join(lines) + "\n").encode()


def store_values(engine: Engine, catalogue: Catalogue, values: list[tuple[str, str, float]] = VALUES) -> int:
    """Load ``values`` through the real ingest, from a file that names them by aliases and
    in other spellings; the extract's id."""
    result = ingest.ingest(engine, extract(values), "coded.csv", catalogue, "tester")
    assert result.new == len(values), result.message
    return result.extract_id
