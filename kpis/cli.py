"""The command line: ``python -m kpis validate | ingest | summary | spc | export | template |
rollback | reference | load-sample | compare | inequality``.

Errors from the engine become a message on stderr and exit status 1; usage errors exit 2.
The exports, the board pack and the sample are imported by the commands that use them, so
that a scheduled ``ingest`` starts without loading them (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from kpis import ingest, periods, store
from kpis.catalogue import DEFAULT_PATH, Catalogue, load_catalogue, reference_markdown
from kpis.errors import CatalogueError, ExtractError
from kpis.governance import rollback
from kpis.publish import EXPORT_FORMATS, template
from kpis.publish.template import Format as TemplateFormat
from kpis.publish.template import Layout
from kpis.report import formatting, integrated, status
from kpis.report.performance import rag_summary

FORMATS = ("csv", "json", "markdown")


def _add_common(parser: argparse.ArgumentParser, database: bool = True) -> None:
    parser.add_argument("--config", default=str(DEFAULT_PATH), help="catalogue file (default: %(default)s)")
    if database:
        parser.add_argument(
            "--database", default=None, help=f"database URL (default: ${store.DATABASE_ENV}, else {store.DEFAULT_PATH})"
        )


def _month(text: str) -> int:
    try:
        return periods.parse_period(text)
    except periods.PeriodError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kpis", description="ICU performance dashboard: catalogue, extracts and the monthly KPI table."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="check the catalogue; list every problem")
    _add_common(validate, database=False)

    load = commands.add_parser(
        "ingest", help="load extracts: CSV files or Excel workbooks, of any size (all of a file, or none of it)"
    )
    load.add_argument("files", nargs="+", type=Path, metavar="FILE")
    load.add_argument("--sheet", default=None, metavar="NAME", help="the sheet of a workbook (default: its first)")
    load.add_argument("--user", default=None, help="who is loading (default: the OS user)")
    _add_common(load)

    summary = commands.add_parser("summary", help="print the KPI table (or its RAG summary) as at a month")
    _add_report_month(summary)
    _add_output(summary)
    summary.add_argument("--counts", action="store_true", help="print the RAG summary counts per workstream instead")
    summary.add_argument(
        "--as-of-extract", type=int, default=None, metavar="N", help="use the data as it stood after extract N"
    )
    _add_common(summary)

    _add_spc(commands)

    export = commands.add_parser("export", help="write the KPI tables and RAG summaries as at a month to a file")
    _add_report_month(export)
    export.add_argument(
        "--format",
        choices=EXPORT_FORMATS,
        required=True,
        help="csv or xlsx (the tables); html, pdf or pptx (the board pack)",
    )
    export.add_argument("--workstream", default=None, metavar="ID", help="only this workstream (default: all)")
    export.add_argument(
        "--as-published",
        action="store_true",
        help="the data as it stood when the month's report was produced: later revisions left out",
    )
    export.add_argument(
        "--output",
        type=Path,
        required=True,
        metavar="PATH",
        help="the file to write, or a directory to write it in under its own name (icu-kpis-YYYY-MM[-ID].FORMAT)",
    )
    _add_common(export)

    template = commands.add_parser("template", help="write the extract template for a month: the indicators due")
    template.add_argument("--month", type=_month, default=None, metavar="YYYY-MM", help="default: last month")
    template.add_argument("--layout", choices=[x.value for x in Layout], default="long", help="long (default) or wide")
    template.add_argument(
        "--format", choices=[x.value for x in TemplateFormat], default="csv", help="csv (default) or xlsx"
    )
    template.add_argument(
        "--output", type=Path, default=None, help="write to this file (a workbook must go to a file), or a directory"
    )
    _add_common(template)

    undo = commands.add_parser("rollback", help="roll back an extract: its values go back to what they were before it")
    undo.add_argument("extract", type=int, metavar="EXTRACT_ID")
    undo.add_argument("--user", default=None, help="who is rolling back (default: the OS user)")
    undo.add_argument("--dry-run", action="store_true", help="say what it would do, write nothing")
    _add_common(undo)

    commands.add_parser("reference", help="print the catalogue reference (Markdown)")

    for name, help_text in (
        ("compare", "compare every area and group with the benchmark, its own area's total and last year"),
        ("inequality", "the gap, slope index (SII) and relative index (RII) of inequality per ordered breakdown"),
    ):
        _add_figures_options(
            commands.add_parser(name, help=help_text),
            "only this indicator (repeatable)",
            "each indicator's latest period up to this month (default: the latest month with data)",
            repeated=True,
        )

    load_sample = commands.add_parser("load-sample", help="load the illustrative sample data into an empty store")
    _add_common(load_sample)
    remove_sample = commands.add_parser(
        "remove-sample", help="withdraw every sample value still in force, as one extract in the history"
    )
    remove_sample.add_argument("--user", default=None, help="who is removing it (default: the OS user)")
    _add_common(remove_sample)
    return parser


def _add_spc(commands) -> None:
    spc = commands.add_parser(
        "spc", help="print the SPC chart (XmR, Making Data Count) of each indicator: one row per period"
    )
    _add_figures_options(
        spc,
        "only these indicators (ids or aliases)",
        "the last month (default: the latest with data)",
        repeated=False,
    )


def _add_figures_options(
    parser: argparse.ArgumentParser, indicator_help: str, as_at_help: str, *, repeated: bool
) -> None:
    """The options of the commands that print figures per indicator (spc, compare,
    inequality): ``--indicator`` (``repeated``: one id per ``--indicator``, else several
    after one), ``--as-at``, ``--format``, ``--output`` and the common ones."""
    if repeated:
        parser.add_argument("--indicator", action="append", default=None, metavar="ID", help=indicator_help)
    else:
        parser.add_argument("--indicator", nargs="+", default=None, metavar="ID", help=indicator_help)
    parser.add_argument("--as-at", type=_month, default=None, metavar="YYYY-MM", help=as_at_help)
    _add_output(parser)
    _add_common(parser)


REPORT_MONTH_HELP = "the report month (default: the latest with every figure due in, allowing for lags)"


def _add_report_month(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-at", type=_month, default=None, metavar="YYYY-MM", help=REPORT_MONTH_HELP)


def _add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="csv")
    parser.add_argument("--output", type=Path, default=None, help="write to this file instead of standard output")


def _write(text: str, output: Path | None) -> None:
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _validate(args: argparse.Namespace) -> int:
    catalogue = load_catalogue(args.config)
    print(f"{args.config}: valid: {len(catalogue.workstreams)} workstreams, {len(catalogue.indicators)} indicators")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    """Check and load every file in one transaction (so that one bad file loads nothing)."""
    catalogue = load_catalogue(args.config)
    files = []
    for path in args.files:
        try:
            files.append((path.read_bytes(), path.name))
        except OSError as error:
            print(f"{path}: cannot be read ({error.strerror})", file=sys.stderr)
    if len(files) < len(args.files):
        print("Nothing was loaded: fix the files above and run the command again.", file=sys.stderr)
        return 1
    engine = store.connect(args.database)
    user = args.user or getpass.getuser()

    def progress_of(file_name: str) -> ingest.ProgressLine:
        return ingest.ProgressLine(file_name, sys.stderr.write, "read, checked and written")

    shown = sys.stderr.isatty()
    try:
        results = ingest.ingest_files(
            engine, files, catalogue, user, sheet=args.sheet, progress_of=progress_of if shown else None
        )
    except ExtractError as error:
        for name, problems in error.problems.groupby("file", sort=False):
            print(ExtractError(str(name), problems).describe(), file=sys.stderr)
        print("Nothing was loaded: fix the files above and run the command again.", file=sys.stderr)
        return 1
    finally:
        if shown:
            print(file=sys.stderr)
    for result in results:
        print(result.message)
    return 0


def _markdown(frame: pd.DataFrame) -> str:
    from kpis.publish import contents

    def cell(value: object) -> str:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return ""
        if isinstance(value, float):  # every decimal kept (as CSV), never 1e+06
            return f"{value:.{contents.DECIMALS_KEPT}f}".rstrip("0").rstrip(".")
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def render(frame: pd.DataFrame, fmt: str) -> str:
    from kpis.publish import contents

    frame = contents.kept_decimals(frame)
    if fmt != "json":  # true / false, as JSON writes them
        frame = frame.assign(
            **{str(c): frame[c].map({True: "true", False: "false"}) for c in frame.select_dtypes(bool).columns}
        )
    if fmt == "csv":
        return frame.to_csv(index=False, lineterminator="\n")
    if fmt == "json":
        records = json.loads(frame.to_json(orient="records"))
        return json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    return _markdown(frame)


def kpi_table_as_at(
    engine, catalogue: Catalogue, as_at: int | None, as_of_extract: int | None = None
) -> tuple[pd.DataFrame, int]:
    observations = store.current_observations(engine, as_of_extract=as_of_extract)
    as_at = as_at if as_at is not None else _report_month(observations, catalogue)
    return integrated.report_table(observations, catalogue, as_at), as_at


def _summary(args: argparse.Namespace) -> int:
    catalogue = load_catalogue(args.config)
    engine = store.connect(args.database)
    table, _ = kpi_table_as_at(engine, catalogue, args.as_at, args.as_of_extract)
    frame = rag_summary(table, catalogue) if args.counts else table
    text = render(frame, args.format)
    _write(text, args.output)
    return 0


def _spc(args: argparse.Namespace) -> int:
    """Every rebase month is checked against the periods with a value first (exit 1)."""
    catalogue = load_catalogue(args.config)
    found, unknown = _unknown_indicators(catalogue, args.indicator)
    if unknown:
        return _refused(
            "spc", f"{unknown[0]!r} is not an indicator id or alias; {catalogue.unknown_code_hint(unknown[0])}"
        )
    chosen = list(dict.fromkeys(found)) if found else catalogue.indicator_ids
    observations = store.current_observations(store.connect(args.database))
    problems = integrated.check_rebases(catalogue, observations)
    if problems:
        raise CatalogueError(problems, args.config)
    as_at = args.as_at if args.as_at is not None else _report_month(observations, catalogue)
    points = integrated.spc_charts(observations, catalogue, as_at)
    rows = integrated.chart_rows(points)
    rows = rows[rows["indicator"].isin(chosen)]
    rows = rows.iloc[np.argsort(rows["indicator"].map(chosen.index).to_numpy(), kind="stable")]
    text = render(rows.reset_index(drop=True), args.format)
    _write(text, args.output)
    return 0


def _report_month(observations: pd.DataFrame, catalogue: Catalogue) -> int:
    """The default as-at month: the report month (every figure due in, allowing for lags)."""
    month = status.report_month(observations, catalogue)
    return periods.current_month() if month is None else month


def _export(args: argparse.Namespace) -> int:
    from kpis.publish import contents, formats

    catalogue = load_catalogue(args.config)
    try:
        contents.check_workstream(catalogue, args.workstream)
    except contents.UnknownWorkstreamError as error:
        print(f"python -m kpis export: error: argument --workstream: {error}", file=sys.stderr)
        return 2
    engine = store.connect(args.database)
    if args.as_at is None:
        month = status.report_month(store.current_observations(engine), catalogue)
        if month is None:
            print("Nothing to export: no extract is loaded yet (or give --as-at YYYY-MM).", file=sys.stderr)
            return 1
        args.as_at = month
    try:
        data = contents.export_data(engine, catalogue, args.as_at, as_published=args.as_published)
    except contents.ExportError as error:
        print(str(error), file=sys.stderr)
        return 1
    content = formats.export_bytes(data, catalogue, args.format, args.workstream)
    path = args.output
    if path.is_dir():
        path = path / formats.file_name(args.as_at, args.format, args.workstream)
    try:
        path.write_bytes(content)
    except OSError as error:
        print(f"{path}: cannot be written ({error.strerror}); nothing was exported.", file=sys.stderr)
        return 1
    rows = contents.of_workstream(data.table, args.workstream)
    published = " as published" if args.as_published else ""
    print(
        f"{path}: {len(rows)} indicators as at {periods.month_name(args.as_at)}{published}, "
        f"data version {data.data_version}"
    )
    return 0


def _template(args: argparse.Namespace) -> int:
    catalogue = load_catalogue(args.config)
    month = args.month if args.month is not None else periods.current_month() - 1
    due = status.due(catalogue, month)
    if not due:
        print(f"Nothing is due for {periods.month_name(month)}: no template to write.", file=sys.stderr)
        return 1
    observations = store.current_observations(store.connect(args.database))  # for "last month"
    content = template.template(catalogue, month, args.layout, args.format, observations)
    output = args.output
    if output is not None and output.is_dir():
        output = output / template.template_name(month, args.layout, args.format)
    if output is None and args.format == TemplateFormat.XLSX:
        print("A workbook cannot go to standard output: give --output FILE.", file=sys.stderr)
        return 2
    if output is not None:
        output.write_bytes(content)
        print(f"{output}: the {args.layout} template for {periods.month_name(month)}, {len(due)} indicators due")
    else:
        sys.stdout.write(content.decode("utf-8"))
    return 0


def _before_after(line) -> str:
    """``7,100 → 7,039``, ``7,200 → withdrawn``, ``5 kept (revised since by extract 3)``."""
    if line.action == rollback.KEEP:
        return f"{formatting.exact(line.now)} kept (revised since by extract {line.revised_by})"
    after = "withdrawn" if line.action == rollback.WITHDRAW else formatting.exact(line.after)
    return f"{formatting.exact(line.now)} → {after}"


def _rollback(args: argparse.Namespace) -> int:
    engine = store.connect(args.database)
    try:
        if args.dry_run:
            plan = rollback.plan_rollback(engine, args.extract)
            counts = plan["action"].value_counts()
            print(
                f"Extract {args.extract}: would restore {counts.get(rollback.RESTORE, 0)}, withdraw "
                f"{counts.get(rollback.WITHDRAW, 0)} and keep {counts.get(rollback.KEEP, 0)} values; nothing written"
            )
            undone = rollback.undone_by(engine, args.extract)
            if undone is not None:
                print(f"It was already rolled back by extract {undone}.")
            for line in rollback.changes(plan).itertuples(index=False):
                print(f"  {line.indicator} {line.period}: {_before_after(line)}")
            return 0
        print(rollback.rollback(engine, args.extract, args.user or getpass.getuser()).message)
    except rollback.RollbackError as error:
        print(f"Extract {args.extract} cannot be rolled back: {error}", file=sys.stderr)
        return 1
    return 0


def _reference(_args: argparse.Namespace) -> int:
    sys.stdout.write(reference_markdown())
    return 0


def render_figures(frame: pd.DataFrame, fmt: str) -> str:
    """A compare or inequality table (:func:`kpis.report.benchmarking.shown`) as text:
    figures with 6 decimals in Markdown, as stored (to 6 places) in CSV and JSON."""
    if fmt == "csv":
        return frame.to_csv(index=False, lineterminator="\n")
    if fmt == "json":
        records = json.loads(frame.to_json(orient="records", double_precision=10))
        return json.dumps(records, indent=2, ensure_ascii=False) + "\n"

    def cell(value: object) -> str:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return ""
        return f"{value:.6f}" if isinstance(value, float) else str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def _unknown_indicators(catalogue: Catalogue, wanted: list[str] | None) -> tuple[list[str] | None, list[str]]:
    """The ids ``--indicator`` names (ids or aliases, any case), and those it names none of."""
    if wanted is None:
        return None, []
    found = [catalogue.lookup(code) for code in wanted]
    return [i.id for i in found if i is not None], [c for c, i in zip(wanted, found, strict=True) if i is None]


def _refused(command: str, problem: str) -> int:
    """An ``--indicator`` that names no indicator: argparse's form of message, its exit code."""
    print(f"python -m kpis {command}: error: argument --indicator: {problem}", file=sys.stderr)
    return 2


def _benchmarking(args: argparse.Namespace) -> int:
    from kpis.report import benchmarking  # only these commands need it

    catalogue = load_catalogue(args.config)
    indicators, unknown = _unknown_indicators(catalogue, args.indicator)
    if unknown:
        hint = catalogue.unknown_code_hint(unknown[0])
        return _refused(args.command, f"not an indicator: {', '.join(unknown)} ({hint})")
    engine = store.connect(args.database)
    observations = store.current_breakdowns(engine, indicators=indicators)
    if args.command == "compare":
        table = benchmarking.compare_table(observations, catalogue, args.as_at, indicators)
    else:
        found = benchmarking.inequality_table(observations, catalogue, args.as_at, indicators)
        notes: Iterable[Any] = found[found["note"] != ""].itertuples(index=False)
        for row in notes:
            print(
                f"{row.indicator} {periods.to_text(int(row.period))} {row.area} {row.breakdown}: "
                f"not computed because {row.note}",
                file=sys.stderr,
            )
        table = found.drop(columns="note")
    text = render_figures(benchmarking.shown(table), args.format)
    _write(text, args.output)
    return 0


def _load_sample(args: argparse.Namespace) -> int:
    from kpis import sample

    catalogue = load_catalogue(args.config)
    engine = store.connect(args.database)
    results = sample.ensure_sample_loaded(engine, catalogue)
    if not results:
        print("The store already holds data: the sample was not loaded.")
    for result in results:
        print(result.message)
    return 0


def _remove_sample(args: argparse.Namespace) -> int:
    from kpis import sample

    removed = sample.remove_sample(store.connect(args.database), args.user or getpass.getuser())
    print(
        "No sample value is in force: nothing to remove."
        if removed is None
        else f"The sample data was removed as extract {removed}."
    )
    return 0


COMMANDS = {
    "validate": _validate,
    "ingest": _ingest,
    "summary": _summary,
    "spc": _spc,
    "export": _export,
    "template": _template,
    "rollback": _rollback,
    "reference": _reference,
    "load-sample": _load_sample,
    "remove-sample": _remove_sample,
    "compare": _benchmarking,
    "inequality": _benchmarking,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except CatalogueError as error:
        print(str(error), file=sys.stderr)
        return 1
    except ExtractError as error:
        print(error.describe(), file=sys.stderr)
        return 1
    except SQLAlchemyError as error:  # unreachable server, a lock held too long: nothing was written
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        print(f"The database could not complete the command ({reason}); nothing was written.", file=sys.stderr)
        return 1
