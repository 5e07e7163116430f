"""The README is a contract: its commands, its catalogue reference and its CLI reference
must match what the code does."""

from __future__ import annotations

from pathlib import Path

from kpis.catalogue import reference_markdown
from kpis.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
RUN_COMMAND = "pip install -r requirements.txt && python -m streamlit run dashboard.py"
TEST_COMMAND = "pip install -r requirements-dev.txt && python -m mypy && python -m pytest"


def test_catalogue_reference_is_generated_from_the_models():
    start = README.index("<!-- catalogue-reference:start -->\n") + len("<!-- catalogue-reference:start -->\n")
    end = README.index("<!-- catalogue-reference:end -->")
    assert README[start:end] == reference_markdown(), "run: python -m kpis reference, and paste it into the README"


def test_the_two_commands_are_documented_and_ci_runs_the_test_command():
    assert RUN_COMMAND in README and TEST_COMMAND in README
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert TEST_COMMAND in ci


def test_every_command_and_option_is_documented():
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name, sub in commands.items():
        assert f"`{name}" in README, name
        for action in sub._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    assert option in README, f"{name} {option}"
