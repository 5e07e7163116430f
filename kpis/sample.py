"""The illustrative sample data (``data/sample``): the extracts, the workstream narrative
and the risk register, loaded into an empty store at first start.

While any sample value is in force the screens say how many of a page's figures are
sample data (:func:`sample_figures`); an admin removes every sample value still in force
in one step (:func:`remove_sample`): one extract that withdraws them, in the history like
any other (nothing deleted, the report as it stood before can still be rebuilt).
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, func, select

from kpis import errors, ingest, periods, store
from kpis.catalogue import Catalogue
from kpis.governance import narrative, risks
from kpis.yamlfile import load_yaml

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"
SAMPLE_USER = "sample data (illustrative)"
NARRATIVE_FILE = SAMPLE_DIR / "narrative.yaml"
RISKS_FILE = SAMPLE_DIR / "risks.csv"


def sample_files() -> list[Path]:
    return sorted(SAMPLE_DIR.glob("extract-*.csv"))


def load_sample(engine: Engine, catalogue: Catalogue) -> list[ingest.IngestResult]:
    """Load every sample extract, oldest first, then the sample narrative and risks; the
    extracts' results."""
    results = [ingest.ingest(engine, path.read_bytes(), path.name, catalogue, SAMPLE_USER) for path in sample_files()]
    load_sample_narrative(engine, catalogue)
    load_sample_risks(engine, catalogue)
    return results


def ensure_sample_loaded(engine: Engine, catalogue: Catalogue) -> list[ingest.IngestResult]:
    """Load the sample data if, and only if, the store has never had an extract."""
    if store.data_version(engine) > 0:
        return []
    return load_sample(engine, catalogue)


def sample_narrative() -> list[dict]:
    """The entries of ``narrative.yaml``, oldest month first: workstream, month (a month
    index), text."""
    entries = load_yaml(NARRATIVE_FILE.read_text(encoding="utf-8"), str(NARRATIVE_FILE))
    loaded = [
        {"workstream": e["workstream"], "month": periods.from_text(e["month"]), "text": e["text"]} for e in entries
    ]
    return sorted(loaded, key=lambda e: e["month"])  # stable: the file's order within a month


def load_sample_narrative(engine: Engine, catalogue: Catalogue) -> None:
    """Save each sample commentary as the first version of its workstream and month. An
    officer's commentary is never overwritten: where one exists, the sample's is left out."""
    for entry in sample_narrative():
        with suppress(errors.StaleEditError):  # an existing, different text: it stays
            narrative.save(engine, **entry, saved_by=SAMPLE_USER, based_on=None, catalogue=catalogue)


def load_sample_risks(engine: Engine, catalogue: Catalogue) -> risks.ImportResult:
    """Import ``risks.csv`` into an empty register (into any other, nothing)."""
    return risks.import_csv(
        engine, RISKS_FILE.read_bytes(), catalogue, SAMPLE_USER, RISKS_FILE.name, into_empty_only=True
    )


REMOVAL_FILE = "remove-sample-data.csv"


def sample_extract_ids(extracts: pd.DataFrame) -> set[int]:
    """The ids of the extracts the sample loaded (``extracts``: :func:`kpis.store.extract_log`)."""
    return {int(i) for i in extracts.loc[extracts["loaded_by"] == SAMPLE_USER, "id"]}


def sample_values_in_force(observations: pd.DataFrame, extracts: pd.DataFrame) -> int:
    """How many of the values in force (the home area's whole population) are sample data."""
    return int(observations["extract_id"].isin(list(sample_extract_ids(extracts))).sum())


def sample_keys(observations: pd.DataFrame, extracts: pd.DataFrame) -> frozenset[tuple[str, int]]:
    """The (indicator, month) of every value in force that came from a sample extract."""
    samples = sample_extract_ids(extracts)
    if not samples:
        return frozenset()
    from_sample = observations[observations["extract_id"].isin(list(samples))]
    return frozenset(zip(from_sample["indicator"].astype(str), from_sample["period"].astype(int), strict=True))


def flag_figures(table: pd.DataFrame, keys: frozenset[tuple[str, int]]) -> pd.Series:
    """For each row of a KPI table, whether its figure is sample data: its indicator and
    period are among ``keys`` (:func:`sample_keys`; same index as ``table``)."""
    if not keys or table.empty:
        return pd.Series(False, index=table.index)
    months = [None if pd.isna(p) else periods.parse_period(str(p)) for p in table["period"]]
    flags = [m is not None and (str(i), m) in keys for i, m in zip(table["indicator"], months, strict=True)]
    return pd.Series(flags, index=table.index)


def sample_figures(table: pd.DataFrame, observations: pd.DataFrame, extracts: pd.DataFrame) -> pd.Series:
    """For each row of a KPI table, whether its figure is sample data: the value in force
    for its indicator and period came from a sample extract (same index as ``table``)."""
    return flag_figures(table, sample_keys(observations, extracts))


def _sample_rows_in_force(conn, samples: list[int]) -> pd.DataFrame:
    """Every revision in force (any area, breakdown and group) written by a sample extract."""
    o = store.observations
    keys = [o.c.indicator, o.c.period, *(o.c[k] for k in store.KEY_COLUMNS)]
    latest = select(*keys, func.max(o.c.revision).label("revision")).group_by(*keys).subquery("latest")
    joined = and_(*(o.c[c.name] == latest.c[c.name] for c in keys), o.c.revision == latest.c.revision)
    result = conn.execute(
        select(*keys, o.c.revision).join(latest, joined).where(o.c.extract_id.in_(samples), o.c.value.is_not(None))
    )
    return pd.DataFrame([tuple(r) for r in result.fetchall()], columns=list(result.keys()))


def remove_sample(engine: Engine, removed_by: str) -> int | None:
    """Withdraw every sample value still in force, in one transaction, as one extract
    (:data:`REMOVAL_FILE`); its id, or None when there was nothing to remove. Values an
    officer has loaded since stay as they are."""
    with store.write_transaction(engine) as conn:
        samples = sorted(sample_extract_ids(store.extract_log(conn)))
        rows = _sample_rows_in_force(conn, samples) if samples else pd.DataFrame()
        if rows.empty:
            return None
        withdrawn = rows.assign(
            period=periods.from_texts(rows["period"].astype(object)).to_numpy(),
            revision=rows["revision"] + 1,
            value=np.nan,
            numerator=np.nan,
            denominator=np.nan,
            note=None,
            **{c: np.nan for c in store.BREAKDOWN_VALUE_COLUMNS},
        )
        record = withdrawn[["indicator", "period", *store.KEY_COLUMNS]].assign(
            period=periods.texts(withdrawn["period"])
        )
        content = record.to_csv(index=False, lineterminator="\n").encode()
        new_id = store.add_extract(
            conn,
            content=content,
            sha256=ingest.sha256(content),
            file_name=REMOVAL_FILE,
            loaded_by=removed_by,
            rows_total=len(withdrawn),
            rows_new=0,
            rows_revised=len(withdrawn),
            rows_unchanged=0,
        )
        columns = ingest.observation_columns(withdrawn)
        store.insert_rows(conn, store.observations, columns, ingest.observation_rows(withdrawn, new_id))
    return new_id
