"""The illustrative sample data (``data/sample``): loaded into an empty store at first start."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from kpis import ingest, store
from kpis.catalogue import Catalogue

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"
SAMPLE_USER = "sample data (illustrative)"


def sample_files() -> list[Path]:
    return sorted(SAMPLE_DIR.glob("extract-*.csv"))


def load_sample(engine: Engine, catalogue: Catalogue) -> list[ingest.IngestResult]:
    """Load every sample extract, oldest first."""
    return [ingest.ingest(engine, path.read_bytes(), path.name, catalogue, SAMPLE_USER) for path in sample_files()]


def ensure_sample_loaded(engine: Engine, catalogue: Catalogue) -> list[ingest.IngestResult]:
    """Load the sample data if, and only if, the store has never had an extract."""
    if store.data_version(engine) > 0:
        return []
    return load_sample(engine, catalogue)
