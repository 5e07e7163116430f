"""Extracts with areas, breakdowns, groups, given intervals and populations: read into
the same long frame, checked by the same table of rules (each problem located with its
code), planned and stored per (indicator, period, area, breakdown, group), and rolled
back per key; the home area's whole population stays what the KPI table reads."""

from __future__ import annotations

import pandas as pd
import pytest

from kpis import ingest, store
from kpis.errors import ExtractError
from kpis.governance import rollback

HEADER = "indicator,period,area,breakdown,group,value,numerator,denominator"


def csv(*lines: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode()


BREAKDOWNS = csv(
    "larc_uptake,2020-10,,,,30,300,1000",
    "larc_uptake,2020-10,,imd_quintile,1,20,40,200",
    "larc_uptake,2020-10,E06000045,imd_quintile,5,40,80,200",  # the home code is the home area
    "larc_uptake,2020-10,e92000001,,,35,35000,100000",  # area codes in any case
    "larc_uptake,2020-10,E92000001,sex,f,36,18000,50000",  # groups too
)


def keyed(frame: pd.DataFrame) -> list[tuple]:
    return [
        (r.indicator, r.area, r.breakdown, r.group, r.value, r.numerator, r.denominator, r.revision)
        for r in frame.itertuples()
    ]


def test_rows_are_stored_per_area_breakdown_and_group(engine, catalogue):
    result = ingest.ingest(engine, BREAKDOWNS, "breakdowns.csv", catalogue, loaded_by="ann")
    assert (result.new, result.revised, result.unchanged) == (5, 0, 0)
    assert keyed(store.current_breakdowns(engine)) == [
        ("larc_uptake", "", "", "", 30.0, 300.0, 1000.0, 1),
        ("larc_uptake", "", "imd_quintile", "1", 20.0, 40.0, 200.0, 1),
        ("larc_uptake", "", "imd_quintile", "5", 40.0, 80.0, 200.0, 1),
        ("larc_uptake", "E92000001", "", "", 35.0, 35000.0, 100000.0, 1),
        ("larc_uptake", "E92000001", "sex", "F", 36.0, 18000.0, 50000.0, 1),
    ]
    whole = store.current_observations(engine)  # what the KPI table reads: the home area's whole population
    assert whole[["value", "revision"]].values.tolist() == [[30.0, 1]]
    assert store.observation_history(engine, "larc_uptake")["value"].tolist() == [30.0]


def test_a_group_is_revised_on_its_own(engine, catalogue):
    ingest.ingest(engine, BREAKDOWNS, "one.csv", catalogue, loaded_by="ann")
    again = BREAKDOWNS.replace(b"imd_quintile,1,20,40,200", b"imd_quintile,1,21,42,200")
    result = ingest.ingest(engine, again, "two.csv", catalogue, loaded_by="ann")
    assert (result.new, result.revised, result.unchanged) == (0, 1, 4)
    current = store.current_breakdowns(engine)
    assert current["revision"].tolist() == [1, 2, 1, 1, 1]
    assert current["value"].tolist() == [30.0, 21.0, 40.0, 35.0, 36.0]
    assert rollback.rollback(engine, result.extract_id, "admin").restored == 1
    assert store.current_breakdowns(engine)["value"].tolist() == [30.0, 20.0, 40.0, 35.0, 36.0]
    first = rollback.rollback(engine, 1, "admin")  # every key extract 1 brought first is withdrawn
    assert (first.withdrawn, first.kept) == (4, 1)  # quintile 1 was revised since (by the rollback)
    assert store.current_breakdowns(engine)["group"].tolist() == ["1"]
    assert store.current_observations(engine).empty


def test_given_intervals_and_populations_are_stored_and_compared(engine, catalogue):
    header = "indicator,period,breakdown,group,value,numerator,denominator,population"
    content = csv("larc_uptake,2020-10,imd_quintile,2,25,50,200,12000", header=header)
    ingest.ingest(engine, content, "pop.csv", catalogue, loaded_by="ann")
    assert store.current_breakdowns(engine)["population"].tolist() == [12000.0]
    changed = ingest.ingest(engine, content.replace(b"12000", b"12500"), "pop2.csv", catalogue, loaded_by="ann")
    assert (changed.revised, changed.unchanged) == (1, 0)
    same = ingest.ingest(engine, content.replace(b"12000", b"12500"), "pop3.csv", catalogue, loaded_by="ann")
    assert same.extract_id is None


def test_a_whole_population_file_still_reads_the_same(catalogue):
    cells = ingest.read_extract(b"indicator,period,value\nnel_admissions,2020-10,7039\n", "x.csv", catalogue)
    assert cells[ingest.BREAKDOWN_COLUMNS].values.tolist() == [[""] * 8]


PROBLEM_CASES = [
    (
        "larc_uptake,2020-10,E99999999,,,30,300,1000",
        ("area.unknown", 2, "area", "E99999999", "is not an area code in the catalogue"),
        "leave it blank for the home area (blank or E06000045), or use one of E92000001, E12000008, E06000044,"
        " E06000026; add a new area under 'areas'",
    ),
    (
        "larc_uptake,2020-10,,ethnicity,Asian,30,300,1000",
        ("breakdown.unknown", 2, "breakdown", "ethnicity", "is not a breakdown in the catalogue"),
        "leave it blank for the whole population, or use one of imd_quintile, sex",
    ),
    (
        "nel_admissions,2020-10,,sex,F,300,,",
        ("breakdown.not_for_indicator", 2, "breakdown", "sex", "this indicator is not declared with this breakdown"),
        "its breakdowns are: (none); add it to the indicator's 'breakdowns' in the catalogue",
    ),
    (
        "larc_uptake,2020-10,,imd_quintile,,30,300,1000",
        ("group.missing", 2, "group", "", "a row with a breakdown needs its group"),
        "write the group (such as 1 for the most deprived quintile); a whole-population row has no breakdown",
    ),
    (
        "larc_uptake,2020-10,,,F,30,300,1000",
        ("group.without_breakdown", 2, "group", "F", "a group is given without its breakdown"),
        "write the breakdown too (one of imd_quintile, sex)",
    ),
    (
        "larc_uptake,2020-10,,imd_quintile,6,30,300,1000",
        ("group.unknown", 2, "group", "6", "is not a group of this breakdown in the catalogue"),
        "use one of 1, 2, 3, 4, 5 (the groups of imd_quintile in the catalogue)",
    ),
    (
        "larc_uptake,2020-10,,imd_quintile,1,0,0,0",
        ("denominator.not_positive", 2, "denominator", "0", "the denominator must be above zero"),
        "check the count; a period with nothing to measure has no row",
    ),
]


@pytest.mark.parametrize(("line", "problem", "hint"), PROBLEM_CASES)
def test_each_bad_key_is_located_with_its_code(catalogue, line, problem, hint):
    with pytest.raises(ExtractError) as caught:
        ingest.check_extract(csv(line), "bad.csv", catalogue)
    found = caught.value.problems
    assert [tuple(r) for r in found[["code", "row", "column", "value", "problem"]].itertuples(index=False)] == [problem]
    assert found["hint"].tolist() == [hint]


INTERVAL_HEADER = "indicator,period,value,lower_ci,upper_ci,lower_ci_998,upper_ci_998"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "larc_uptake,2020-10,30,28,,,",
            [("interval.one_limit", "upper_ci", "", "lower_ci is given without upper_ci")],
        ),
        (
            "larc_uptake,2020-10,30,,,,33",
            [("interval.one_limit", "lower_ci_998", "", "upper_ci_998 is given without lower_ci_998")],
        ),
        (
            "larc_uptake,2020-10,30,31,35,,",
            [("lower_ci.above_value", "lower_ci", "31", "the lower limit is above the value")],
        ),
        (
            "larc_uptake,2020-10,30,25,29,,",
            [("upper_ci.below_value", "upper_ci", "29", "the upper limit is below the value")],
        ),
        (
            "larc_uptake,2020-10,30,x,35,,",
            [("lower_ci.format", "lower_ci", "x", "is not a number")],
        ),
    ],
)
def test_given_intervals_are_checked(line, expected, catalogue):
    given = catalogue.model_copy(
        update={
            "indicators": tuple(
                i.model_copy(update={"ci_method": "given"}) if i.id == "larc_uptake" else i
                for i in catalogue.indicators
            )
        }
    )
    with pytest.raises(ExtractError) as caught:
        ingest.check_extract(csv(line, header=INTERVAL_HEADER), "ci.csv", given)
    found = caught.value.problems
    assert [tuple(r) for r in found[["code", "column", "value", "problem"]].itertuples(index=False)] == expected


def test_intervals_for_an_indicator_whose_ci_method_is_not_given_are_refused(catalogue):
    with pytest.raises(ExtractError) as caught:
        ingest.check_extract(csv("larc_uptake,2020-10,30,25,35,,", header=INTERVAL_HEADER), "ci.csv", catalogue)
    found = caught.value.problems
    assert found[["code", "row", "column", "value"]].values.tolist() == [["interval.not_given", 2, "lower_ci", "25"]]
    assert found["problem"].tolist() == ["intervals are given but this indicator's ci_method is not 'given'"]


def test_the_same_key_twice_is_a_repeat_but_two_groups_are_not(catalogue):
    rows = ingest.check_extract(
        csv("larc_uptake,2020-10,,imd_quintile,1,20,40,200", "larc_uptake,2020-10,,imd_quintile,2,20,40,200"),
        "ok.csv",
        catalogue,
    )
    assert rows["group"].tolist() == ["1", "2"]
    with pytest.raises(ExtractError) as caught:
        ingest.check_extract(
            csv("larc_uptake,2020-10,,imd_quintile,1,20,40,200", "larc_uptake,2020-10,,imd_quintile,1,20,40,200"),
            "twice.csv",
            catalogue,
        )
    assert caught.value.problems[["code", "row"]].values.tolist() == [["key.repeated", 3]]


def _given(catalogue):
    return catalogue.model_copy(
        update={
            "indicators": tuple(
                i.model_copy(update={"ci_method": "given"}) if i.id == "larc_uptake" else i
                for i in catalogue.indicators
            )
        }
    )


@pytest.mark.parametrize(
    ("reload_header", "reload_line"),
    [
        ("indicator,period,value", "larc_uptake,2020-10,30"),  # the interval columns dropped
        (INTERVAL_HEADER, "larc_uptake,2020-10,30,,,,"),  # present but empty
        (INTERVAL_HEADER, "larc_uptake,2020-10,30,26,35,,"),  # another interval
    ],
)
def test_a_stored_interval_dropped_or_changed_on_reload_is_a_revision(engine, catalogue, reload_header, reload_line):
    given = _given(catalogue)
    first = csv("larc_uptake,2020-10,30,25,35,,", header=INTERVAL_HEADER)
    ingest.ingest(engine, first, "ci.csv", given, loaded_by="ann")
    plan = ingest.preview(engine, csv(reload_line, header=reload_header), "again.csv", given)
    assert plan["status"].tolist() == ["revised"]
    result = ingest.ingest(engine, csv(reload_line, header=reload_header), "again.csv", given, loaded_by="ann")
    assert (result.new, result.revised, result.unchanged) == (0, 1, 0)
    stored = store.current_breakdowns(engine)
    assert stored["revision"].tolist() == [2]
    limits = reload_line.split(",")[3:5] if reload_header == INTERVAL_HEADER else []
    expected = [float(x) for x in limits if x]
    assert stored[["lower_ci", "upper_ci"]].dropna(axis=1).values.ravel().tolist() == expected


def test_the_same_interval_reloaded_is_unchanged(engine, catalogue):
    given = _given(catalogue)
    first = csv("larc_uptake,2020-10,30,25,35,,", header=INTERVAL_HEADER)
    ingest.ingest(engine, first, "ci.csv", given, loaded_by="ann")
    assert ingest.ingest(engine, first, "again.csv", given, loaded_by="ann").extract_id is None
    plain = csv("nel_admissions,2020-10,7039", header="indicator,period,value")
    ingest.ingest(engine, plain, "plain.csv", given, loaded_by="ann")
    assert ingest.preview(engine, plain, "plain.csv", given)["status"].tolist() == ["unchanged"]
