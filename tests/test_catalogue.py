"""The catalogue: the shipped file, the three target forms, and validation that reports
every problem at once with its location, value and a hint."""

from __future__ import annotations

import copy

import pydantic
import pytest

from kpis import periods
from kpis.catalogue import (
    Aggregation,
    Catalogue,
    Direction,
    Target,
    load_catalogue,
    parse_catalogue,
    reference_markdown,
)
from kpis.errors import CatalogueError

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
        (_with(indicators__0__id="Bad Id"), "indicators[0].id", "should match pattern", "lower case letters"),
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
