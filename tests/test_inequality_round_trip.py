"""The round trip of issue 18: an extract with areas and breakdowns loaded by the command
line into a real SQLite store → ``compare`` and ``inequality`` → the Inequalities tab,
Compare areas and the workstream table (AppTest, on that store, without the sample) →
the board pack (HTML and PDF)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from kpis import store

ROOT = Path(__file__).resolve().parent.parent
VALUES = {  # quintile 1 (most deprived) .. 5, per 1,000
    ("2019-10", ""): (200, 250, 300, 350, 400),
    ("2020-10", ""): (100, 200, 300, 400, 500),
    ("2020-10", "E92000001"): (300, 320, 340, 360, 380),
}
LINES = [
    "indicator,period,area,breakdown,group,value,numerator,denominator",
    "larc_uptake,2019-10,,,,40,400,1000",
    "larc_uptake,2020-10,,,,30,300,1000",
    "larc_uptake,2020-10,E92000001,,,40,40000,100000",
    "larc_uptake,2020-10,E06000044,,,40,404,1010",
    "larc_uptake,2020-10,,sex,F,,3,100",
    "larc_uptake,2020-10,,sex,M,,297,900",
    *(
        f"larc_uptake,{month},{area},imd_quintile,{k + 1},,{v},1000"
        for (month, area), values in VALUES.items()
        for k, v in enumerate(values)
    ),
]


def kpis(*args: str, url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kpis", *args, "--database", url],
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
    )


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> tuple[str, Path]:
    folder = tmp_path_factory.mktemp("round-trip")
    extract = folder / "breakdowns.csv"
    extract.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    url = f"sqlite:///{folder / 'kpis.sqlite'}"
    done = kpis("ingest", str(extract), url=url)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "breakdowns.csv: loaded as extract 1: 21 rows, 21 new, 0 revised, 0 unchanged\n"
    return url, folder


def test_compare_and_inequality_from_the_command_line(loaded):
    url, folder = loaded
    done = kpis("compare", "--as-at", "2020-11", "--output", str(folder / "compare.csv"), url=url)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    compare = pd.read_csv(folder / "compare.csv", dtype=str, keep_default_na=False)
    home = compare[(compare["area"] == "E06000045") & (compare["breakdown"] == "")].iloc[0]
    assert home[["value", "lower_95", "upper_95", "vs_benchmark", "vs_last_year"]].tolist() == [
        "30.0",
        "27.240684",
        "32.912386",
        "worse",
        "worse",
    ]
    female = compare[(compare["group"] == "F") & (compare["area"] == "E06000045")].iloc[0]
    assert female[["numerator", "value", "vs_area_total"]].tolist() == ["*", "*", "not_compared"]
    done = kpis("inequality", "--format", "csv", url=url)
    assert (done.returncode, done.stderr) == (0, "")
    table = pd.read_csv(pd.io.common.StringIO(done.stdout), dtype=str, keep_default_na=False)
    assert table[["period", "area", "groups", "gap_abs", "gap_rel"]].values.tolist() == [
        ["2020-10", "E06000045", "5", "40.0", "5.0"],
        ["2020-10", "E92000001", "5", "8.0", "1.266667"],
    ]
    assert round(float(table["sii"].iloc[0]), 6) == 50.0


def _open(at: AppTest, url_path: str, **query: str) -> AppTest:
    matches = [h for h, info in at._registered_pages.items() if info.get("url_pathname") == url_path]
    at._page_hash = matches[0]
    for name, value in query.items():
        at.query_params[name] = value
    return at.run()


def test_the_screens_show_it(loaded, monkeypatch):
    url, _ = loaded
    monkeypatch.setenv(store.DATABASE_ENV, url)
    monkeypatch.setenv("KPIS_LOAD_SAMPLE", "0")
    for name in ("KPIS_CONFIG", "KPIS_ACCESS_CONFIG", "KPIS_LOCAL_ROLE"):
        monkeypatch.delenv(name, raising=False)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90).run()
    assert not at.exception
    _open(at, "indicator", id="larc_uptake", tab="Inequalities", as_at="2020-11")
    assert not at.exception
    texts = "\n".join(m.value for m in at.markdown)
    assert (
        "In Southampton, M7 2020/21: a gap of 50.0 percentage points between the most and least deprived "
        "(95% interval 45.8 to 54.0), higher at the least deprived end." in texts
    )
    assert "Against a year before: ↗ widening." in "\n".join(c.value for c in at.caption)
    _open(at, "compare-areas", as_at="2020-11")
    assert not at.exception
    rug = at.dataframe[0].value
    assert rug.iloc[0][["Southampton", "England", "Portsmouth"]].tolist() == ["30.0 ▼", "40.0", "40.0 ●"]
    _open(at, "prevention", as_at="2020-11")
    assert not at.exception
    board = next(d.value for d in at.dataframe if "vs England" in d.value.columns).set_index("indicator")
    assert board.loc["larc_uptake", ["vs England", "Inequality"]].tolist() == ["▼ worse", "↗ widening"]


def test_the_board_pack_holds_it(loaded):
    url, folder = loaded
    html = folder / "pack.html"
    done = kpis("export", "--as-at", "2020-11", "--format", "html", "--output", str(html), url=url)
    assert done.returncode == 0, done.stderr
    text = html.read_text(encoding="utf-8")
    assert "Prevention and Early Intervention: inequalities and comparison with other areas" in text
    assert "a gap of 50.0 percentage points between the most and least deprived" in text
    pdf = folder / "pack.pdf"
    done = kpis("export", "--as-at", "2020-11", "--format", "pdf", "--output", str(pdf), url=url)
    assert done.returncode == 0, done.stderr
    words = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "inequalities and comparison with other areas" in words
