"""The catalogue: the shipped file, the three target forms, and validation that reports
every problem at once with its location, value and a hint."""

from __future__ import annotations

import copy

import pandas as pd
import pydantic
import pytest

from kpis import periods
from kpis.catalogue import (
    Aggregation,
    Catalogue,
    Direction,
    Target,
    Unit,
    code_slug,
    load_catalogue,
    normalise_code,
    parse_catalogue,
    reference_markdown,
)
from kpis.errors import PROBLEM_COLUMNS, CatalogueError

MINIMAL = {
    "owners": {"AB": "Associate Director"},
    "workstreams": [{"id": "w", "name": "W"}],
    "indicators": [{"id": "k", "name": "K", "workstream": "w", "unit": "count", "direction": "lower", "owner": "AB"}],
}


def test_shipped_catalogue_has_the_2020_21_edition(catalogue: Catalogue):
    assert [w.name for w in catalogue.workstreams] == [
        "Integrated Care (Better Care)",
        "Prevention and Early Intervention",
        "Commissioning Safe & High Quality Services",
        "Managing and Developing the Market",
    ]
    assert [len(catalogue.in_workstream(w.id)) for w in catalogue.workstreams] == [14, 9, 5, 5]
    assert catalogue.tolerance == 0.10
    headline = [i for i in catalogue.indicators if i.headline]
    assert len(headline) == 10
    assert {i.headline_group for i in headline} == {"Achieving Transformation Change", "Quality"}
    assert sum(i.headline_group == "Quality" for i in headline) == 3


def test_defaults(catalogue: Catalogue):
    minimal = parse_catalogue(MINIMAL)
    indicator = minimal.indicators[0]
    assert (indicator.frequency.value, indicator.aggregation, indicator.target, indicator.headline) == (
        "monthly",
        Aggregation.AS_REPORTED,
        None,
        False,
    )
    assert minimal.tolerance == 0.10 and minimal.tolerance_for(indicator) == 0.10


def test_models_are_immutable(catalogue: Catalogue):
    with pytest.raises(pydantic.ValidationError):
        catalogue.indicators[0].direction = Direction.HIGHER  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "month", "expected"),
    [
        (90, "2020-10", 90),
        ({"2020/21": 13140}, "2020-10", 13140),
        ({"2020/21": 13140}, "2021-04", None),
        ({"2020-10": 13140, "2020-11": 15017}, "2020-11", 15017),
        ({"2020-10": 13140}, "2020-09", None),
        ({"2020/21": 5, "2020-10": 7}, "2020-10", 7),  # the month's trajectory wins
        ({"2020/21": 5, "2020-10": 7}, "2020-09", 5),
    ],
)
def test_target_forms(raw, month, expected):
    assert Target.parse(raw).for_period(periods.from_text(month)) == expected


def _with(**changes) -> dict:
    raw = copy.deepcopy(MINIMAL)
    for path, value in changes.items():
        *parents, key = path.split("__")
        node = raw
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is KeyError:
            del node[key]
        else:
            node[key] = value
    return raw


@pytest.mark.parametrize(
    ("raw", "location", "problem", "hint"),
    [
        (
            _with(indicators__0__unit="percnt"),
            "indicators[0].unit",
            "Input should be 'percent'",
            "use one of 'percent'",
        ),
        (
            _with(indicators__0__direction="up"),
            "indicators[0].direction",
            "Input should be",
            "'higher', 'lower' or 'none'",
        ),
        (_with(indicators__0__target="95%"), "indicators[0].target", "is not a number", "for 90% write 90"),
        (_with(indicators__0__target={"2020/22": 5}), "indicators[0].target", "is not a financial year", '"2020/21"'),
        (
            _with(indicators__0__target={"Oct 2020": 5}),
            "indicators[0].target",
            "neither a financial year nor a month",
            '"2020-10"',
        ),
        (
            _with(indicators__0__tolerence=0.1),
            "indicators[0].tolerence",
            "Extra inputs are not permitted",
            "did you mean 'tolerance'?",
        ),
        (_with(indicators__0__tolerance=1.5), "indicators[0].tolerance", "less than or equal to 1", "allowed range"),
        (_with(indicators__0__name=KeyError), "indicators[0].name", "Field required", "add 'name'"),
        (_with(indicators__0__id="Bad  Id"), "indicators[0].id", "should match pattern", "single spaces between"),
        (_with(indicators__0__id="a" * 65), "indicators[0].id", "at most 64 characters", "use 1 to 64 letters"),
        (_with(indicators__0__aliases=["ok", "-x"]), "indicators[0].aliases[1]", "should match pattern", "ASCOF"),
        (_with(workstreams__0__id="W-1"), "workstreams[0].id", "should match pattern", "lower case letters"),
        (
            _with(indicators__0__workstream="nowhere"),
            "indicators[0].workstream",
            "is not a workstream id",
            "use one of w",
        ),
        (_with(indicators__0__owner="ZZ"), "indicators[0].owner", "is not in 'owners'", "use one of AB"),
        (
            _with(indicators__0__direction="none", indicators__0__target=5),
            "indicators[0].target",
            "a target needs a direction",
            "higher or lower",
        ),
        (
            _with(indicators__0__frequency="quarterly", indicators__0__target={"2020-10": 5}),
            "indicators[0].target",
            "not a quarter's last month",
            "June, September",
        ),
        (_with(indicators__0__headline="maybe"), "indicators[0].headline", "valid boolean", "true or false"),
        (_with(tolerance="ten percent"), "tolerance", "valid number", "plain number"),
        (_with(workstreams=KeyError), "workstreams", "Field required", "add 'workstreams:'"),
    ],
)
def test_each_problem_is_located_with_its_value_and_a_hint(raw, location, problem, hint):
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(raw)
    found = [p for p in caught.value.problems if p.location == location]
    assert found, [str(p) for p in caught.value.problems]
    assert problem in found[0].problem and hint in found[0].hint


def test_every_problem_is_reported_at_once():
    raw = _with(indicators__0__unit="percnt", tolerance=-1)
    raw["indicators"] += [
        {"id": "k", "name": "Duplicate", "workstream": "w", "unit": "count", "direction": "lower"},
        {"id": "x", "name": "X", "workstream": "w", "unit": "count", "direction": "lower", "target": "lots"},
    ]
    raw["workstreams"].append({"id": "w", "name": "Again"})
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(raw)
    locations = [p.location for p in caught.value.problems]
    assert locations == ["tolerance", "indicators[0].unit", "indicators[2].target", "workstreams[1].id"]
    message = str(caught.value)
    assert "indicators[0].unit: 'percnt':" in message and "Hint:" in message


def test_duplicate_indicator_ids_are_reported():
    raw = _with()
    raw["indicators"].append(dict(raw["indicators"][0]))
    with pytest.raises(CatalogueError, match=r"indicators\[1\]\.id: 'k': duplicates indicators\[0\]\.id"):
        parse_catalogue(raw)


def test_load_catalogue_reports_yaml_errors_with_their_line(tmp_path):
    path = tmp_path / "kpis.yaml"
    path.write_text("workstreams:\n  - id: w\n    name: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"line \d+, column \d+: \(missing\): is not valid YAML"):
        load_catalogue(path)


def test_load_catalogue_of_a_missing_file(tmp_path):
    with pytest.raises(CatalogueError, match="cannot be read"):
        load_catalogue(tmp_path / "absent.yaml")


def test_reference_lists_every_key_of_every_model():
    text = reference_markdown()
    from kpis.catalogue import Indicator, Workstream

    for model in (Catalogue, Workstream, Indicator):
        for name in model.model_fields:
            assert f"| `{name}` |" in text, name


# Indicator codes and aliases ---------------------------------------------------------------

CODES = ["iapt-recovery", "PHOF-2.22iii", "C.19", "ASCOF 2A(1)", "a/b", "7day_rate", "X"]


def _coded(*codes: str, **aliases: list[str]) -> dict:
    """A catalogue whose indicators have ``codes`` as ids (aliases by position: ``a0=[...]``)."""
    raw = copy.deepcopy(MINIMAL)
    raw["indicators"] = [
        {
            "id": code,
            "name": f"Indicator {n}",
            "workstream": "w",
            "unit": "count",
            "direction": "lower",
            **({"aliases": aliases[f"a{n}"]} if f"a{n}" in aliases else {}),
        }
        for n, code in enumerate(codes)
    ]
    return raw


def test_ids_are_codes_as_the_nhs_and_councils_write_them():
    catalogue = parse_catalogue(_coded(*CODES))
    assert catalogue.indicator_ids == CODES  # as the catalogue spells them
    assert [catalogue.indicator(code).name for code in CODES] == [f"Indicator {n}" for n in range(len(CODES))]


@pytest.mark.parametrize(
    "code",
    [
        "../../etc/passwd",
        "../x",
        "/etc/passwd",
        ".hidden",
        "-x",
        "(a)",
        " x",
        "x ",
        "two  spaces",
        "tab\there",
        "semi;colon",
        "a,b",
        "a\\b",
        "quote'd",
        "per%cent",
        "é",
        "",
        "a" * 65,
    ],
)
def test_codes_outside_the_pattern_are_refused_with_the_code_hint(code):
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(_coded(code))
    (found,) = caught.value.problems
    assert (found.location, found.value) == ("indicators[0].id", code)
    assert found.hint == (
        "use 1 to 64 letters, digits and _ - . ( ) /, with single spaces between words, starting with a"
        " letter or digit, such as PHOF-2.22iii or ASCOF 2A(1)"
    )


def test_a_code_of_64_characters_is_accepted():
    assert parse_catalogue(_coded("A" * 64)).indicator_ids == ["A" * 64]


def test_ids_that_differ_only_in_case_are_duplicates_naming_both_entries():
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(_coded("PHOF-2.22iii", "c.19", "phof-2.22III"))
    assert [str(p) for p in caught.value.problems] == [
        "indicators[2].id: 'phof-2.22III': duplicates indicators[0].id 'PHOF-2.22iii' (ids are compared"
        " ignoring case). Hint: give every indicator its own id"
    ]


def test_alias_collisions_are_located_and_name_what_they_collide_with():
    raw = _coded(
        "iapt-recovery",
        "PHOF-2.22iii",
        "C.19",
        a0=["UHS-IAPT-01", "IAPT-Recovery", "uhs-iapt-01"],
        a1=["c.19", "SITREP 7", "UHS-IAPT-01"],
        a2=["sitrep 7"],
    )
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(raw)
    assert [(p.location, p.value, p.problem, p.hint) for p in caught.value.problems] == [
        (
            "indicators[0].aliases[1]",
            "IAPT-Recovery",
            "is this indicator's own id",
            "remove it: the id is always accepted",
        ),
        (
            "indicators[0].aliases[2]",
            "uhs-iapt-01",
            "repeats indicators[0].aliases[0] 'UHS-IAPT-01'",
            "remove the repeat",
        ),
        (
            "indicators[1].aliases[0]",
            "c.19",
            "is also indicators[2].id 'C.19' (ids and aliases are compared ignoring case)",
            "an alias must name one indicator only: remove it from one of them",
        ),
        (
            "indicators[1].aliases[2]",
            "UHS-IAPT-01",
            "is also indicators[0].aliases[0] 'UHS-IAPT-01' (ids and aliases are compared ignoring case)",
            "an alias must name one indicator only: remove it from one of them",
        ),
        (
            "indicators[2].aliases[0]",
            "sitrep 7",
            "is also indicators[1].aliases[1] 'SITREP 7' (ids and aliases are compared ignoring case)",
            "an alias must name one indicator only: remove it from one of them",
        ),
    ]


@pytest.fixture(scope="module")
def coded() -> Catalogue:
    return parse_catalogue(_coded(*CODES, a0=["UHS-IAPT-01", "CCG IAPT/2"], a1=["phof 2.22iii"]))


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("iapt-recovery", "iapt-recovery"),
        ("  IAPT-RECOVERY ", "iapt-recovery"),
        ("uhs-iapt-01", "iapt-recovery"),
        ("ccg iapt/2", "iapt-recovery"),
        ("phof-2.22III", "PHOF-2.22iii"),
        ("PHOF 2.22III", "PHOF-2.22iii"),
        ("c.19", "C.19"),
        ("ascof 2a(1)", "ASCOF 2A(1)"),
        ("A/B", "a/b"),
        ("ascof  2a(1)", None),  # an inner space is part of the code
        ("c19", None),
        ("", None),
    ],
)
def test_lookup_matches_ids_and_aliases_ignoring_case_and_surrounding_spaces(coded, code, expected):
    found = coded.lookup(code)
    assert (found.id if found else None) == expected


def test_the_code_map_serves_a_vectorised_match(coded):
    codes = pd.Series([" Uhs-Iapt-01", "c.19", "nope", "ASCOF 2a(1) "])
    matched = codes.str.strip().str.casefold().map(coded.code_map)
    assert matched.fillna("(unknown)").tolist() == ["iapt-recovery", "C.19", "(unknown)", "ASCOF 2A(1)"]
    assert coded.code_map is coded.code_map  # made once per catalogue
    assert len(coded.code_map) == len(CODES) + 3
    assert normalise_code(" PHOF-2.22iii ") == "phof-2.22iii"


@pytest.mark.parametrize(
    ("code", "close", "hint"),
    [
        ("PHOF-2.22ii", ["PHOF-2.22iii"], "did you mean 'PHOF-2.22iii'?"),
        ("uhs-iapt-1", ["UHS-IAPT-01"], "did you mean 'UHS-IAPT-01'?"),  # an alias, as spelled
        ("zzzzzz", [], "use an id from config/kpis.yaml (python -m kpis template lists them)"),
    ],
)
def test_close_codes_for_an_unknown_code(coded, code, close, hint):
    assert coded.close_codes(code) == close
    assert coded.unknown_code_hint(code) == hint


@pytest.mark.parametrize(
    ("code", "slug"),
    [
        ("iapt-recovery", "iapt-recovery"),
        ("PHOF-2.22iii", "PHOF-2.22iii"),
        ("ASCOF 2A(1)", "ASCOF%202A%281%29"),
        ("a/b", "a%2Fb"),
        ("a/../../etc/passwd", "a%2F..%2F..%2Fetc%2Fpasswd"),
        ("..", "%2E%2E"),
    ],
)
def test_a_code_slug_is_one_safe_path_component(code, slug):
    assert code_slug(code) == slug
    assert "/" not in slug and "\\" not in slug and slug not in (".", "..")


def test_units_that_may_be_negative():
    assert [u.value for u in Unit if u.allows_negative] == ["currency", "number"]
    catalogue = parse_catalogue(_with(indicators__0__unit="currency"))
    assert catalogue.indicators[0].unit is Unit.CURRENCY


def test_catalogue_problems_table_like_every_refusal_with_a_code_per_kind():
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue({"workstreams": [], "indicators": [{"id": "x", "unit": "miles"}]}, "k.yaml")
    frame = caught.value.frame()
    assert list(frame.columns) == PROBLEM_COLUMNS
    assert set(frame["file"]) == {"k.yaml"}
    unit = frame[frame["column"] == "indicators[0].unit"].iloc[0]
    assert (unit.code, unit.value) == ("catalogue.enum", "miles")
    assert frame[frame["column"] == "indicators[0].name"].iloc[0].code == "catalogue.missing"


# Areas, breakdowns and the inequality keys -------------------------------------------------

AREAS = {
    **MINIMAL,
    "home_area": {"code": "E06000045", "name": "Southampton"},
    "areas": [
        {"code": "E92000001", "name": "England", "kind": "england"},
        {"code": "E12000008", "name": "South East", "kind": "region"},
        {"code": "E06000044", "name": "Portsmouth", "kind": "neighbour"},
    ],
    "breakdowns": [
        {
            "id": "imd_quintile",
            "name": "Deprivation (IMD quintile)",
            "ordered": True,
            "groups": [{"id": k, "name": f"Quintile {k}"} for k in range(1, 6)],
        },
        {"id": "sex", "name": "Sex", "groups": [{"id": "F", "name": "Female"}, {"id": "M", "name": "Male"}]},
    ],
}


def _areas(**indicator) -> dict:
    raw = copy.deepcopy(AREAS)
    raw["indicators"] = [{**raw["indicators"][0], **indicator}]
    return raw


def test_areas_and_breakdowns_and_their_defaults():
    catalogue = parse_catalogue(_areas(breakdowns=["imd_quintile", "sex"]))
    indicator = catalogue.indicators[0]
    assert catalogue.home_code == "E06000045"
    assert catalogue.area_names == {
        "E06000045": "Southampton",
        "E92000001": "England",
        "E12000008": "South East",
        "E06000044": "Portsmouth",
    }
    assert [catalogue.area_kind(c) for c in catalogue.area_names] == ["home", "england", "region", "neighbour"]
    assert catalogue.breakdown("imd_quintile").group_ids == ["1", "2", "3", "4", "5"]  # YAML's 1 is the text "1"
    assert catalogue.benchmark_for(indicator) == "E92000001"  # England, declared
    assert (indicator.interval_method.value, indicator.sii_transform.value) == ("none", "none")  # a count
    assert catalogue.suppress_below_for(indicator) == 0
    assert parse_catalogue(MINIMAL).home_code == "" and parse_catalogue(MINIMAL).benchmark_for(indicator) is None


@pytest.mark.parametrize(
    ("unit", "ci_method", "expected"),
    [("percent", None, "wilson"), ("rate", None, "byar"), ("days", None, "none"), ("percent", "given", "given")],
)
def test_the_interval_method_defaults_from_the_unit(unit, ci_method, expected):
    raw = _areas(unit=unit, **({} if ci_method is None else {"ci_method": ci_method}))
    assert parse_catalogue(raw).indicators[0].interval_method.value == expected


def test_suppression_threshold_per_indicator_or_from_the_top_level():
    raw = {**_areas(), "suppress_below": 5}
    assert parse_catalogue(raw).suppress_below_for(parse_catalogue(raw).indicators[0]) == 5
    raw["indicators"][0]["suppress_below"] = 0
    assert parse_catalogue(raw).suppress_below_for(parse_catalogue(raw).indicators[0]) == 0


def test_a_breakdown_listed_least_deprived_first_is_ranked_most_deprived_first():
    raw = copy.deepcopy(AREAS)
    raw["breakdowns"][0]["most_deprived_first"] = False
    assert parse_catalogue(raw).breakdown("imd_quintile").ranked_group_ids == ["5", "4", "3", "2", "1"]


def test_area_and_breakdown_problems_are_each_located_with_a_hint():
    raw = _areas(breakdowns=["imd_quintile", "ethnicity"], benchmark="E99999999", ci_method="wald")
    raw["indicators"].append({**raw["indicators"][0], "id": "k2", "ci_method": "given", "benchmark": "E99999999"})
    raw["areas"].append({"code": "E06000045", "name": "Southampton again", "kind": "neighbour"})
    raw["areas"].append({"code": "not a code", "name": "X", "kind": "county"})
    raw["breakdowns"][1]["groups"].append({"id": "F", "name": "Female again"})
    raw["breakdowns"].append({"id": "sex", "name": "Sex again", "groups": [{"id": "X", "name": "X"}]})
    raw["breakdowns"].append({"id": "one", "name": "One", "ordered": True, "groups": [{"id": "a", "name": "A"}]})
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(raw)
    assert [str(p) for p in caught.value.problems] == [
        "areas[4].code: 'not a code': String should match pattern '^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$'."
        " Hint: use 1 to 16 letters, digits, _ and -, such as E06000045 (the ONS code)",
        "areas[4].kind: 'county': Input should be 'england', 'region', 'neighbour' or 'other'."
        " Hint: use one of 'england', 'region', 'neighbour' or 'other'",
        "indicators[0].ci_method: 'wald': Input should be 'wilson', 'byar', 'given' or 'none'."
        " Hint: use one of 'wilson', 'byar', 'given' or 'none'",
        "areas[3].code: 'E06000045': duplicates home_area.code. Hint: declare each area once",
        "breakdowns[1].groups[2].id: 'F': duplicates breakdowns[1].groups[0].id."
        " Hint: give every group of a breakdown its own id",
        "breakdowns[2].id: 'sex': duplicates breakdowns[1].id. Hint: give every breakdown its own id",
        "breakdowns[3].groups: ['a']: an ordered breakdown needs at least two groups."
        " Hint: list its groups in order, most deprived first",
        "indicators[1].breakdowns[1]: 'ethnicity': is not a breakdown id."
        " Hint: use one of imd_quintile, sex, one, or add it under 'breakdowns'",
        "indicators[1].benchmark: 'E99999999': is not an area code in 'areas'."
        " Hint: use one of E92000001, E12000008, E06000044, or add it under 'areas'",
    ]


def test_the_new_keys_come_last_in_the_reference():
    text = reference_markdown()
    top = text.split("**Workstream")[0]
    assert top.index("`indicators`") < top.index("`home_area`") < top.index("`areas`") < top.index("`breakdowns`")
    indicator = text.split("**Indicator")[1].split("**Home area")[0]
    keys = [line.split("`")[1] for line in indicator.splitlines() if line.startswith("| `")]
    assert keys[-8:] == [
        "source",
        "breakdowns",
        "benchmark",
        "ci_method",
        "sii_transform",
        "suppress_below",
        "lag",
        "spc",
    ]


# SPC settings: a top-level default, overridden key by key per indicator -----------------


def test_spc_settings_default_to_mdc_and_an_indicator_block_overrides_key_by_key():
    raw = copy.deepcopy(MINIMAL)
    raw["spc"] = {"shift": 8, "screen_outliers": False}
    raw["indicators"].append({**raw["indicators"][0], "id": "k2", "spc": {"trend": 6, "rebase": ["2020-10"]}})
    catalogue = parse_catalogue(raw)
    first, second = catalogue.indicators
    assert catalogue.spc_for(first).model_dump() == {
        "rebase": (),
        "fix_after": None,
        "screen_outliers": False,
        "shift": 8,
        "trend": 7,
        "min_points": 12,
    }
    assert catalogue.spc_for(second).model_dump() == {
        "rebase": ("2020-10",),
        "fix_after": None,
        "screen_outliers": False,
        "shift": 8,
        "trend": 6,
        "min_points": 12,
    }
    assert parse_catalogue(MINIMAL).spc_settings["k"].model_dump() == {
        "rebase": (),
        "fix_after": None,
        "screen_outliers": True,
        "shift": 7,
        "trend": 7,
        "min_points": 12,
    }


def test_bad_spc_settings_are_all_located_at_once():
    raw = copy.deepcopy(MINIMAL)
    raw["spc"] = {"trend": 1, "shfit": 3}
    raw["indicators"][0]["spc"] = {"fix_after": 1, "rebase": ["2020-13"], "min_points": "many"}
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(raw)
    assert [(p.location, p.value, p.problem, p.hint) for p in caught.value.problems] == [
        ("spc.trend", 1, "trend 1 is below 2: a run needs at least two points", "write 2 or more (MDC's default: 7)"),
        (
            "spc.shfit",
            3,
            "Extra inputs are not permitted",
            "did you mean 'shift'? remove it or correct its spelling; known keys: rebase, fix_after, "
            "screen_outliers, shift, trend, min_points",
        ),
        (
            "indicators[0].spc.rebase",
            ["2020-13"],
            "rebase month '2020-13' is not a month in the form YYYY-MM",
            'write months as text, e.g. ["2020-10"]',
        ),
        (
            "indicators[0].spc.fix_after",
            1,
            "fix_after 1 is below 2: limits need at least two points (one moving range)",
            "write 2 or more (MDC's default: leave it out to use every point)",
        ),
        (
            "indicators[0].spc.min_points",
            "many",
            "Input should be a valid integer, unable to parse string as an integer",
            "write a whole number such as 1",
        ),
    ]


def test_a_glossary_term_defined_twice_ignoring_case_is_located():
    raw = {
        **copy.deepcopy(MINIMAL),
        "glossary": {"MOFD": "Medically optimised", "RAG": "Red, Amber, Green", "mofd": "x"},
    }
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(raw)
    assert [(p.location, p.problem, p.hint, p.code) for p in caught.value.problems] == [
        (
            "glossary",
            "the term 'mofd' duplicates 'MOFD' (terms are compared ignoring case)",
            "define each term once",
            "catalogue.glossary_duplicate",
        )
    ]


def test_the_shipped_glossary_explains_the_abbreviations_in_the_indicator_names(catalogue: Catalogue):
    for term in ("MOFD", "IIC", "CHC", "IAPT", "LARC", "YTD", "SPC", "RAG"):
        assert catalogue.glossary[term]
    assert parse_catalogue({"workstreams": [], "indicators": []}).glossary == {}
