"""Officers' extracts, loaded in four steps, a module each:

- :mod:`~kpis.ingest.records` and :mod:`~kpis.ingest.read`: any file (CSV or workbook) →
  records of text cells → (long or wide) one long frame of cells as written, with the row
  and column each came from;
- :mod:`~kpis.ingest.parse` and :mod:`~kpis.ingest.rules`: the cells read once each, then
  typed rows, or every problem at once (a table of named rules);
- :mod:`~kpis.ingest.plan`: each row new, revised or unchanged against the store;
- :mod:`~kpis.ingest.load`: the pipeline, and the write: all of a file, or nothing.
"""

from kpis.ingest.load import (
    OBSERVATION_COLUMNS,
    IngestResult,
    ProgressLine,
    check_extract,
    ingest,
    ingest_files,
    preview,
    read_extract,
    sha256,
    validate_extract,
    write_observations,
)
from kpis.ingest.parse import MAX_NOTE
from kpis.ingest.plan import NEW, REVISED, UNCHANGED, applied, plan_extract
from kpis.ingest.read import BREAKDOWN_COLUMNS, refuse_oversized
from kpis.ingest.records import COLUMNS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, Source, sheet_names

__all__ = [
    "BREAKDOWN_COLUMNS",
    "COLUMNS",
    "MAX_NOTE",
    "NEW",
    "OBSERVATION_COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "REVISED",
    "UNCHANGED",
    "IngestResult",
    "ProgressLine",
    "Source",
    "applied",
    "check_extract",
    "ingest",
    "ingest_files",
    "plan_extract",
    "preview",
    "read_extract",
    "refuse_oversized",
    "sha256",
    "sheet_names",
    "validate_extract",
    "write_observations",
]
