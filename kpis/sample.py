"""The illustrative sample data (``data/sample``): the extracts, the workstream narrative
and the risk register, loaded into an empty store at first start."""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

from sqlalchemy import Engine

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
