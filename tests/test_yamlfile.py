"""kpis.yamlfile: configuration YAML read safely. Anchors and aliases (the "billion
laughs") and a key written twice are refused with their line, fast, and no message
quotes a long value; the catalogue, the access configuration and ``python -m kpis
validate`` all read through it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from kpis import access
from kpis.catalogue import DEFAULT_PATH, load_catalogue
from kpis.errors import MISSING, CatalogueError, CatalogueProblem
from kpis.yamlfile import load_yaml

REPO_ROOT = Path(__file__).resolve().parent.parent


def billion_laughs(levels: int = 12) -> str:
    """Nested aliases: a few kilobytes that a plain YAML loader expands to 10**levels
    strings."""
    lines = ['lol0: &lol0 ["' + "lol" * 20 + '"]']
    for n in range(1, levels):
        lines.append(f"lol{n}: &lol{n} [" + ", ".join([f"*lol{n - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def with_repeated_direction() -> str:
    """The shipped catalogue with ``direction: higher`` added under an indicator whose
    ``direction: lower`` stays in place."""
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    head, marker, tail = text.partition("    direction: lower\n")
    assert marker, "the shipped catalogue has an indicator with direction: lower"
    return head + marker + "    direction: higher\n" + tail


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = [n + 1 for n, line in enumerate(text.splitlines()) if line.strip() == needle]
    return lines[occurrence - 1]


def test_plain_yaml_loads_as_data():
    assert load_yaml("a: 1\nb: [x, 'y']\nc: {d: null}\n", "f.yaml") == {"a": 1, "b": ["x", "y"], "c": {"d": None}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: &x 1\nb: 2\n", "line 1, column 4: (missing): defines the YAML anchor &x"),
        ("a: [1, 2]\nb: *x\n", "line 2, column 4: (missing): uses the YAML alias *x"),
        ("base: &b {k: 1}\nother:\n  <<: *b\n", "line 1, column 7: (missing): defines the YAML anchor &b"),
    ],
)
def test_anchors_and_aliases_are_refused_with_their_line(text, message):
    with pytest.raises(CatalogueError) as caught:
        load_yaml(text, "f.yaml")
    assert str(caught.value.problems[0]).startswith(message)
    assert caught.value.problems[0].hint == (
        "write the value out in full; anchors and aliases are not allowed in this file"
    )


def test_a_repeated_key_is_refused_naming_both_lines():
    text = "indicators:\n  - id: k\n    direction: lower\n    name: K\n    direction: higher\n"
    with pytest.raises(CatalogueError) as caught:
        load_yaml(text, "kpis.yaml")
    assert str(caught.value) == (
        "kpis.yaml: 1 problem(s)\n"
        "  line 5, column 5: (missing): repeats the key 'direction' of line 3 in the same mapping."
        " Hint: keep one of lines 3 and 5: YAML would silently use the last"
    )


def test_the_same_key_in_different_mappings_is_fine():
    assert load_yaml("- id: a\n- id: b\n", "f.yaml") == [{"id": "a"}, {"id": "b"}]


def test_a_syntax_error_keeps_its_line():
    with pytest.raises(
        CatalogueError, match=r"line 4, column 1: \(missing\): is not valid YAML \(did not find expected"
    ):
        load_yaml("workstreams:\n  - id: w\n    name: [unclosed\n", "f.yaml")


def test_a_quoted_value_is_cut_to_a_short_preview():
    problem = CatalogueProblem("title", "x" * 5000, "is too long", "shorten it")
    assert str(problem) == f"title: '{'x' * 58}… (5,002 characters): is too long. Hint: shorten it"
    assert str(CatalogueProblem("title", MISSING, "is missing", "add it")) == (
        "title: (missing): is missing. Hint: add it"
    )


def test_a_billion_laughs_catalogue_fails_fast_with_its_line(tmp_path):
    path = tmp_path / "kpis.yaml"
    path.write_text(billion_laughs(), encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    assert time.monotonic() - started < 1
    assert str(caught.value) == (
        f"{path}: 1 problem(s)\n  line 1, column 7: (missing): defines the YAML anchor &lol0."
        " Hint: write the value out in full; anchors and aliases are not allowed in this file"
    )


def test_a_repeated_direction_in_the_catalogue_is_refused(tmp_path):
    text = with_repeated_direction()
    path = tmp_path / "kpis.yaml"
    path.write_text(text, encoding="utf-8")
    first = next(n + 1 for n, line in enumerate(text.splitlines()) if line == "    direction: lower")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    assert [str(p) for p in caught.value.problems] == [
        f"line {first + 1}, column 5: (missing): repeats the key 'direction' of line {first} in the same mapping."
        f" Hint: keep one of lines {first} and {first + 1}: YAML would silently use the last"
    ]


def test_the_access_configuration_refuses_aliases_and_repeated_keys(tmp_path):
    path = tmp_path / "access.yaml"
    path.write_text("authentication: proxy\nroles:\n  admin: &all ['@a.org']\n  viewer: *all\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"line 3, column 10: \(missing\): defines the YAML anchor &all"):
        access.load_policy(path)
    path.write_text("authentication: none\nroles: {}\nauthentication: proxy\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"line 3, column 1: .*repeats the key 'authentication' of line 1"):
        access.load_policy(path)


@pytest.mark.parametrize("content", ["billion laughs", "repeated key"])
def test_validate_refuses_them_in_under_a_second_without_a_traceback(tmp_path, content):
    path = tmp_path / "kpis.yaml"
    path.write_text(billion_laughs() if content == "billion laughs" else with_repeated_direction(), encoding="utf-8")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "kpis", "validate", "--config", str(path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"{path}: 1 problem(s)\n  line ")
    assert ("defines the YAML anchor &lol0" if content == "billion laughs" else "repeats the key 'direction'") in (
        result.stderr
    )
    assert len(result.stderr) < 400
    assert elapsed < 5  # the interpreter's start-up included; the check itself is the test above
