"""What the screens and exports show, as frames of display text: the board's KPI table,
the headline tiles, the RAG summary, changes since last month and revision notes.

Pure functions over the engine's frames; numbers formatted as the report formats them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import pandas as pd

from kpis import periods
from kpis.catalogue import Aggregation, Catalogue, Direction, Indicator
from kpis.report import formatting
from kpis.report.icons import assurance_svg, data_uri, variation_svg
from kpis.report.integrated import ASSURANCE_TEXT, VARIATION_TEXT
from kpis.report.palette import rag_label, trend_label
from kpis.report.performance import RAG_WORDS
from kpis.report.reasons import REASON_COLUMNS, rag_reason

BOARD_COLUMNS = [
    "Period", "Indicator", "Actual", "Last year", "Last year +/-", "Last year %",
    "Target", "Target +/-", "Target %", "RAG", "Trend",
]  # fmt: skip


def _decimals(catalogue: Catalogue, indicator_ids: pd.Series) -> pd.Series:
    return indicator_ids.map({i.id: i.decimals for i in catalogue.indicators})


def _units(catalogue: Catalogue, indicator_ids: pd.Series) -> pd.Series:
    return indicator_ids.map({i.id: i.unit.value for i in catalogue.indicators})


def _format(values: pd.Series, decimals: pd.Series, units: pd.Series) -> list[str]:
    return [formatting.figure(v, u, int(d)) for v, d, u in zip(values, decimals, units, strict=True)]


def _or_why(texts: list[str], values: pd.Series, why: pd.Series) -> list[str]:
    """Each formatted figure, or the reason it is missing."""
    return [w if pd.isna(v) and w else s for s, v, w in zip(texts, values, why, strict=True)]


def _variance_texts(table: pd.DataFrame, column: str, comparator: str, decimals, units) -> tuple[list, list]:
    """A ``+/-`` and ``%`` pair: blank where a figure is missing (its own cell says why),
    ``n/a (0 target)`` for the % of a zero comparator."""
    present = table["actual"].notna() & table[comparator].notna()
    zero = present & (table[comparator] == 0)
    word = "target" if comparator == "target" else "last year"
    difference = [s if p else "" for s, p in zip(_format(table[column], decimals, units), present, strict=True)]
    pct = [
        f"n/a (0 {word})" if z else (formatting.percent(v) if p else "")
        for v, p, z in zip(table[f"{column}_pct"], present, zero, strict=True)
    ]
    return difference, pct


def _why(table: pd.DataFrame, column: str) -> pd.Series:
    return table[column] if column in table else pd.Series("", index=table.index)


def _rated(ratings: pd.Series, label: Callable[[str], str], reasons: pd.DataFrame, comparison: str) -> list[str]:
    """Each rating as its ``label``; an n/a followed by why (:func:`rag_reason` against
    ``comparison``, asked once per n/a row) where there is a reason."""
    texts = []
    for rating, (_, row) in zip(ratings, reasons.iterrows(), strict=True):
        why = rag_reason(row, comparison) if rating == "n/a" else ""
        texts.append(f"{label(rating)}: {why}" if why else label(rating))
    return texts


def board_table(table: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """The KPI table as the board reads it: one row per indicator, display text, plus the
    ``indicator`` id and the raw ``rag_target`` / ``rag_last_year`` for colouring. A
    figure that cannot be made shows why (:mod:`kpis.report.reasons`), never a bare dash;
    so does an n/a rating."""
    decimals, units = _decimals(catalogue, table["indicator"]), _units(catalogue, table["indicator"])
    period = [label.split()[0] if isinstance(label, str) else "no data" for label in table["period_label"]]
    last_year_diff, last_year_pct = _variance_texts(table, "variance_last_year", "last_year", decimals, units)
    target_diff, target_pct = _variance_texts(table, "variance_target", "target", decimals, units)
    actual_why, target_why, last_year_why = (_why(table, c) for c in REASON_COLUMNS)
    reasons = table.assign(actual_why=actual_why, target_why=target_why, last_year_why=last_year_why)
    return pd.DataFrame(
        {
            "Period": period,
            "Indicator": table["name"],
            "Actual": _or_why(_format(table["actual"], decimals, units), table["actual"], actual_why),
            "Last year": _or_why(_format(table["last_year"], decimals, units), table["last_year"], last_year_why),
            "Last year +/-": last_year_diff,
            "Last year %": last_year_pct,
            "Target": _or_why(_format(table["target"], decimals, units), table["target"], target_why),
            "Target +/-": target_diff,
            "Target %": target_pct,
            "RAG": _rated(table["rag_target"], rag_label, reasons, "target"),
            "Trend": _rated(table["trend"], trend_label, reasons, "last year"),
            "indicator": table["indicator"],
            "rag_target": table["rag_target"],
            "rag_last_year": table["rag_last_year"],
        }
    ).reset_index(drop=True)


SPC_BOARD_COLUMNS = ["Variation icon", "Variation", "Assurance icon", "Assurance", "SPC limits"]


def spc_board(table: pd.DataFrame, spc: pd.DataFrame) -> pd.DataFrame:
    """The SPC beside the board's table, row for row: each icon as an SVG image (a
    ``data:`` URI) and its word, and the limits' status (``final``, or why they are trial
    or missing), from ``table`` (:func:`kpis.report.integrated.report_table`) and ``spc``
    (:func:`kpis.report.integrated.spc_table`)."""
    variation, assurance = table["variation"].astype(str), table["assurance"].astype(str)
    reasons = table["indicator"].map(spc.set_index("indicator")["spc_reason"]).fillna("no values")
    return pd.DataFrame(
        {
            "Variation icon": [data_uri(variation_svg(v)) for v in variation],
            "Variation": variation.map(VARIATION_TEXT).to_numpy(),
            "Assurance icon": [data_uri(assurance_svg(a)) for a in assurance],
            "Assurance": assurance.map(ASSURANCE_TEXT).to_numpy(),
            "SPC limits": reasons.replace("", "final").to_numpy(),
        }
    ).reset_index(drop=True)


def comparator_text(indicator: Indicator, target: float, last_year: float) -> str:
    """A tile's second line: ``Target ≤ 4%``, ``Prev Yr = 1,692`` or ``Prev 12 mths = 31.7%``."""
    unit, d = indicator.unit.value, indicator.decimals
    if not pd.isna(target) and indicator.direction is not Direction.NONE:
        sign = "≥" if indicator.direction is Direction.HIGHER else "≤"
        return f"Target {sign} {formatting.with_unit(target, unit, d)}"
    if pd.isna(last_year):
        return "No target, and no figure for last year"
    rolling = indicator.aggregation in (Aggregation.ROLLING_12M_SUM, Aggregation.ROLLING_12M_RATIO)
    return f"{'Prev 12 mths' if rolling else 'Prev Yr'} = {formatting.with_unit(last_year, unit, d)}"


def headline_rating(row: pd.Series) -> tuple[str, str]:
    """The rating that colours a tile or a chart's latest point, and what it is against:
    the target where there is one, otherwise last year."""
    if row["rag_target"] != "n/a" or pd.notna(row["target"]):
        return row["rag_target"], "target"
    return row["rag_last_year"], "last year"


def tiles(table: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """The headline tiles, in catalogue order, with their group. A tile is rated against
    its target; one without a target is rated against last year (``rag_basis``)."""
    rows = []
    position = {indicator: i for i, indicator in enumerate(table["indicator"])}
    for ind in catalogue.indicators:
        if not ind.headline:
            continue
        row = table.iloc[position[ind.id]]
        rating, basis = headline_rating(row)
        rows.append(
            {
                "group": ind.headline_group or "Headline indicators",
                "indicator": ind.id,
                "workstream": ind.workstream,
                "name": ind.display_name,
                "value": "n/a"
                if pd.isna(row["actual"])
                else formatting.with_unit(row["actual"], ind.unit.value, ind.decimals),
                "why": str(row.get("actual_why", "")) if pd.isna(row["actual"]) else "",
                "comparator": comparator_text(ind, row["target"], row["last_year"]),
                "rag": rating,
                "rag_basis": basis,
                "trend": row["trend"],
                "period_label": row["period_label"] if isinstance(row["period_label"], str) else "no data",
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "group",
            "indicator",
            "workstream",
            "name",
            "value",
            "why",
            "comparator",
            "rag",
            "rag_basis",
            "trend",
            "period_label",
        ],
    )


def summary_wide(summary: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """The RAG summary as one row per workstream: target and last-year counts side by side."""
    names = {w.id: w.name for w in catalogue.workstreams}
    wide = summary.pivot(index="workstream", columns="comparison", values=list(RAG_WORDS))
    out = pd.DataFrame({"Workstream": [names[w] for w in names]}, index=list(names))
    for comparison, label in (("target", "Target"), ("last_year", "Last year")):
        for word in RAG_WORDS:
            out[f"{label}: {word}"] = wide[(word, comparison)].reindex(out.index).astype(int)
    return out.reset_index(names="workstream")


COMPARISONS = (("target", "Against target"), ("last_year", "Against last year"))
ALL_WORKSTREAMS = "All workstreams"


def summary_block(summary: pd.DataFrame, catalogue: Catalogue, comparison: str) -> pd.DataFrame:
    """One of the report's two RAG summary blocks (``target`` or ``last_year``): a row per
    workstream with the count of each rating and its total, then a row of totals."""
    names = {w.id: w.name for w in catalogue.workstreams}
    rows = summary[summary["comparison"] == comparison].set_index("workstream").reindex(list(names))
    block = pd.DataFrame({"Workstream": list(names.values())})
    for word in RAG_WORDS:
        block[rag_label(word)] = rows[word].fillna(0).astype(int).to_numpy()
    block["Total"] = block[[rag_label(w) for w in RAG_WORDS]].sum(axis=1)
    totals = pd.DataFrame([{"Workstream": ALL_WORKSTREAMS, **block.drop(columns="Workstream").sum().to_dict()}])
    return pd.concat([block, totals], ignore_index=True)


def summary_counts(summary: pd.DataFrame, workstream: str) -> list[tuple[str, list[tuple[str, int]]]]:
    """One workstream's RAG summary as the screens and the pack print it: for each of
    :data:`COMPARISONS`, its label and the count of each rating."""
    rows = summary[summary["workstream"] == workstream].set_index("comparison")
    return [
        (label, [(word, int(rows[word].loc[comparison])) for word in RAG_WORDS]) for comparison, label in COMPARISONS
    ]


def rag_changes(now: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    """Indicators whose RAG moved between two KPI tables: ``indicator, name, workstream,
    comparison, from, to, why`` (comparison ``target`` or ``last year``; ``why`` a rating
    moved to n/a, where ``now`` carries the reasons of :mod:`kpis.report.reasons`)."""
    merged = now.merge(before[["indicator", "rag_target", "rag_last_year"]], on="indicator", suffixes=("", "_before"))
    frames = []
    for column, comparison in (("rag_target", "target"), ("rag_last_year", "last year")):
        moved = merged[merged[column] != merged[f"{column}_before"]]
        why = [
            rag_reason(row, comparison) if to == "n/a" else ""
            for to, (_, row) in zip(moved[column], moved.iterrows(), strict=True)
        ]
        frames.append(
            pd.DataFrame(
                {
                    "indicator": moved["indicator"],
                    "name": moved["name"],
                    "workstream": moved["workstream"],
                    "comparison": comparison,
                    "from": moved[f"{column}_before"],
                    "to": moved[column],
                    "why": why,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def move_texts(moves: pd.DataFrame) -> pd.Series:
    """Each RAG change of :func:`rag_changes` as ``Amber → Green``, or ``Green → n/a
    (needs Oct 2020, not yet loaded)`` where the table knows why."""
    texts = moves["from"].astype(str).map(rag_label) + " → " + moves["to"].astype(str).map(rag_label)
    why = moves["why"] if "why" in moves else pd.Series("", index=moves.index)
    said = [text + (f" ({w})" if isinstance(w, str) and w else "") for text, w in zip(texts, why, strict=True)]
    return pd.Series(said, index=moves.index, dtype=object)


PLANNED_COLUMNS = ["Change", "Indicator", "Period", "Stored", "In the file", "RAG as at"]


def _as_given(value: float, numerator: float, denominator: float, decimals: int) -> str:
    if pd.isna(numerator) or pd.isna(denominator):
        return formatting.exact(value)
    return f"{formatting.number(value, decimals)} ({formatting.exact(numerator)} / {formatting.exact(denominator)})"


def planned_changes(plan: pd.DataFrame, catalogue: Catalogue, moves: pd.DataFrame) -> pd.DataFrame:
    """An extract's plan for the officer's preview: each new or revised value (revised
    first) with the value stored now, the value in the file and the RAG change its
    indicator shows in ``moves`` (from :func:`rag_changes`), ``Green → Red (target)``.
    Values are shown as given, not rounded to the report's precision, except a value
    computed from a numerator and denominator: rounded as the report rounds it, with the
    two figures it comes from (``45.2 (19 / 42)``)."""
    changed = plan[plan["status"] != "unchanged"].copy()
    changed["order"] = changed["status"].map({"revised": 0, "new": 1})
    changed = changed.sort_values(["order", "indicator", "period"], kind="stable")
    by_id = {i.id: i for i in catalogue.indicators}
    quarterly = changed["indicator"].map(lambda i: by_id[i].frequency.value == "quarterly")
    texts = moves.assign(text=move_texts(moves) + " (" + moves["comparison"].astype(str) + ")")
    moved = texts.groupby("indicator")["text"].agg("; ".join)
    return pd.DataFrame(
        {
            "Change": changed["status"].to_numpy(),
            "Indicator": changed["indicator"].map(lambda i: by_id[i].name).to_numpy(),
            "Period": periods.labels(changed["period"], quarterly).to_numpy(),
            "Stored": [
                "withdrawn" if s == "new" and pd.notna(r) else ("" if pd.isna(v) else formatting.exact(v))
                for v, s, r in zip(
                    changed["previous_value"], changed["status"], changed["previous_revision"], strict=True
                )
            ],
            "In the file": [
                _as_given(v, n, d, by_id[i].decimals)
                for v, n, d, i in zip(
                    changed["value"], changed["numerator"], changed["denominator"], changed["indicator"], strict=True
                )
            ],
            "RAG as at": [moved.get(i, "no change") for i in changed["indicator"]],
        },
        columns=PLANNED_COLUMNS,
    )


def revision_notes(history: pd.DataFrame, indicator: Indicator) -> pd.DataFrame:
    """Every stored value of one indicator, newest period first, each with its revisions
    spelled out: ``changed from 52 to 54 on 12 Nov 2020 by extract 17 (file.csv)``."""
    if history.empty:
        return pd.DataFrame(columns=["Period", "Value", "Revision", "Loaded", "By", "Note", "History"])
    h = history.sort_values(["period", "revision"]).reset_index(drop=True)
    previous = h.groupby("period")["value"].shift()
    same_period = h["period"].eq(h["period"].shift())
    when = pd.to_datetime(h["loaded_at"], utc=True).dt.strftime("%-d %b %Y")
    value_text = ["withdrawn" if pd.isna(v) else formatting.number(v, indicator.decimals) for v in h["value"]]
    prev_text = ["withdrawn" if pd.isna(v) else formatting.number(v, indicator.decimals) for v in previous]
    change = [
        f"changed from {p} to {v} on {w} by extract {e} ({f})" if s else f"first loaded on {w} by extract {e} ({f})"
        for p, v, w, e, f, s in zip(
            prev_text, value_text, when, h["extract_id"], h["file_name"], same_period, strict=True
        )
    ]
    h = h.assign(change=change, value_text=value_text, when=when)
    history_text = h.groupby("period")["change"].agg("; ".join)
    latest = h.groupby("period").tail(1).set_index("period")
    month = pd.Series([periods.from_text(p) for p in latest.index], index=latest.index)
    quarterly = pd.Series(indicator.frequency.value == "quarterly", index=latest.index)
    out = pd.DataFrame(
        {
            "Period": periods.labels(month, quarterly).to_numpy(),
            "Value": latest["value_text"].to_numpy(),
            "Revision": latest["revision"].astype(int).to_numpy(),
            "Loaded": latest["when"].to_numpy(),
            "By": latest["loaded_by"].to_numpy(),
            "Note": latest["note"].fillna("").to_numpy(),
            "History": history_text.reindex(latest.index).to_numpy(),
            "month": month.to_numpy(),
        }
    )
    return out.sort_values("month", ascending=False).drop(columns="month").reset_index(drop=True)


def glossary_terms(glossary: Mapping[str, str], text: str) -> list[tuple[int, int, str]]:
    """Where the glossary's terms stand in ``text``: ``(start, end, term)``, in reading
    order. A term counts as a whole word, as written (``MOFD``, not ``mofd``;
    ``A&E`` whole, its ``&`` part of the word); where two overlap, the longer wins."""
    found = [
        (m.start(), m.end(), term)
        for term in glossary
        for m in re.finditer(rf"(?<![\w&]){re.escape(term)}(?![\w&])", text)
    ]
    spans: list[tuple[int, int, str]] = []
    for start, end, term in sorted(found, key=lambda f: (f[0], f[0] - f[1])):
        if not spans or start >= spans[-1][1]:
            spans.append((start, end, term))
    return spans


def glossary_help(glossary: Mapping[str, str], text: str) -> str | None:
    """The meanings of the glossary's terms that ``text`` uses (:func:`glossary_terms`),
    ``TERM: meaning`` one per paragraph in the glossary's order, for a header's, tile's or
    figure's help; None if it uses none."""
    used = {term for _, _, term in glossary_terms(glossary, text)}
    return "\n\n".join(f"{term}: {meaning}" for term, meaning in glossary.items() if term in used) or None
