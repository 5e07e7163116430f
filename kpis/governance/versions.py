"""One way to save a version of anything kept append-only with who saved it and when (a
workstream's commentary for a month, a risk): the tables are :data:`kpis.store.commentaries`
and :data:`kpis.store.risk_versions`, each row one version, numbered 1, 2, 3, ... per thing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Connection

from kpis.errors import StaleEditError


def save_version(
    conn: Connection,
    table: Table,
    key: Mapping[str, object],
    values: Mapping[str, object],
    *,
    based_on: int | None,
    stale_check: bool = True,
    subject: str,
    saved_by: str,
    saved_at: datetime | None = None,
    absent: Mapping[str, object] | None = None,
) -> tuple[int, bool]:
    """Append a version of a versioned thing (a workstream's commentary for a month, a
    risk): the rows of ``table`` with ``key`` (its columns' values) are its versions 1, 2,
    3, ... Values equal to the latest version's (or, with no version yet, to ``absent``)
    write nothing. ``based_on`` is the version the edit started from (None or 0: none):
    if another was saved since, :class:`~kpis.errors.StaleEditError` and nothing is
    written (``stale_check=False``: no check, the caller's values are the decision). In the caller's write transaction; (the version now current, whether one
    was written)."""
    c = table.c
    latest = conn.execute(
        select(table).where(*(c[name] == value for name, value in key.items())).order_by(c.version.desc()).limit(1)
    ).first()
    version = latest.version if latest is not None else 0
    current = latest._mapping if latest is not None else absent
    if current is not None and all(current[name] == value for name, value in values.items()):
        return version, False
    if stale_check and latest is not None and (based_on or 0) != version:
        raise StaleEditError(subject, based_on, version, latest.saved_by, latest.saved_at)
    conn.execute(
        insert(table).values(
            **key, **values, version=version + 1, saved_by=saved_by[:255], saved_at=saved_at or datetime.now(UTC)
        )
    )
    return version + 1, True
