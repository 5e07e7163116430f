"""Rolling back an extract: its values still in force go back to what they were before it,
written as new revisions by a new extract that records which one it reverts. History is
never deleted: a value the extract brought for the first time is withdrawn (a revision
with no value), and a value revised since by a later extract is kept as it is.

``plan_rollback`` says what a rollback would do to each value (for the screen and
``--dry-run``; :func:`changes` lists them as before → after); ``rollback`` does it in one
transaction, planned inside the write lock. A second rollback of the same extract says
which extract already undid it (:func:`undone_by`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import Connection

from kpis import periods, store
from kpis.ingest import sha256, write_observations
from kpis.ingest.plan import has_breakdowns

RESTORE, WITHDRAW, KEEP = "restore", "withdraw", "keep"
PLAN_COLUMNS = [
    "indicator",
    "period",
    "action",
    "value",  # the value in force now
    "restore_value",  # what it goes back to (NaN: withdrawn)
    "restore_numerator",
    "restore_denominator",
    "restore_note",
    "revision",  # the revision the rollback would write
    "revised_by",  # for KEEP: the extract whose later value stays
    *store.KEY_COLUMNS,  # the area, breakdown and group ('': the home area's whole population)
    *(f"restore_{c}" for c in store.BREAKDOWN_VALUE_COLUMNS),
]
KEY = ["indicator", "period", *store.KEY_COLUMNS]
RESTORED_VALUES = ["value", "numerator", "denominator", "note", *store.BREAKDOWN_VALUE_COLUMNS]


class RollbackError(ValueError):
    """The rollback cannot be made (no such extract); nothing was written."""


@dataclass(frozen=True)
class RollbackResult:
    reverts: int
    extract_id: int | None  # None: nothing to roll back, nothing written
    restored: int
    withdrawn: int
    kept: int
    undone_by: int | None = None  # the rollback extract that already undid every value of it

    @property
    def message(self) -> str:
        if self.extract_id is None and self.undone_by is not None:
            return f"Extract {self.reverts} was already rolled back by extract {self.undone_by}; nothing written"
        if self.extract_id is None:
            return (
                f"Extract {self.reverts}: nothing to roll back: all {self.kept} of its values have been "
                "revised since by later extracts; nothing written"
            )
        kept = f"; {self.kept} kept, revised since by later extracts" if self.kept else ""
        return (
            f"Extract {self.reverts} rolled back as extract {self.extract_id}: {self.restored} values restored "
            f"to their earlier revision, {self.withdrawn} withdrawn (they were new in extract {self.reverts}){kept}"
        )


def _revisions_of_keys(conn: Connection, extract_id: int) -> pd.DataFrame:
    """Every revision of every (indicator, period) that extract ``extract_id`` wrote."""
    o = store.observations
    mine = select(*(o.c[k] for k in KEY)).where(o.c.extract_id == extract_id).distinct().subquery("mine")
    joined = o.c.indicator == mine.c.indicator
    for k in KEY[1:]:
        joined = joined & (o.c[k] == mine.c[k])
    frame = store.read_frame(
        conn,
        select(*(o.c[k] for k in KEY), o.c.revision, *(o.c[c] for c in RESTORED_VALUES), o.c.extract_id)
        .join(mine, joined)
        .order_by(*(o.c[k] for k in KEY), o.c.revision),
    )
    return frame.astype({c: float for c in RESTORED_VALUES if c != "note"})


def _plan(revisions: pd.DataFrame, extract_id: int) -> pd.DataFrame:
    key = KEY
    ours = revisions.loc[revisions["extract_id"] == extract_id, [*key, "revision"]]
    latest = revisions.groupby(key, sort=False).tail(1)[[*key, "revision", "value", "extract_id"]]
    before = revisions[[*key, "revision", *RESTORED_VALUES]].assign(
        revision=revisions["revision"] + 1  # each row as "the one before revision r + 1"
    )
    plan = ours.merge(latest, on=key, suffixes=("", "_latest"), validate="one_to_one").merge(
        before.rename(columns={c: f"restore_{c}" for c in RESTORED_VALUES}),
        on=[*key, "revision"],
        how="left",
        validate="one_to_one",
    )
    in_force = plan["revision_latest"] == plan["revision"]
    plan["action"] = np.select([~in_force, plan["restore_value"].notna()], [KEEP, RESTORE], WITHDRAW)
    plan["revised_by"] = plan["extract_id"].where(~in_force).astype("Int64")
    plan["revision"] = plan["revision_latest"] + 1
    plan["period"] = periods.from_texts(plan["period"].astype(object)).to_numpy() if len(plan) else plan["period"]
    return plan[PLAN_COLUMNS].reset_index(drop=True)


def _require_extract(conn: Connection, extract_id: int) -> None:
    found = conn.execute(select(func.count()).where(store.extracts.c.id == extract_id)).scalar()
    if not found:
        raise RollbackError(f"there is no extract {extract_id}; see the extract history for the ids")


def _undone_by(conn: Connection, extract_id: int, plan: pd.DataFrame) -> int | None:
    """The rollback extract that already undid extract ``extract_id``: the latest one that
    reverts it and has not been rolled back itself, when no value of it is left to roll
    back; None otherwise."""
    if not (plan["action"] == KEEP).all():
        return None
    e = store.extracts.c
    undone = e.reverts.in_(select(e.id).where(e.reverts == extract_id))
    reverted_again = set(conn.execute(select(e.reverts).where(undone)).scalars())
    rollbacks = conn.execute(select(e.id).where(e.reverts == extract_id).order_by(e.id)).scalars()
    standing = [r for r in rollbacks if r not in reverted_again]
    return standing[-1] if standing else None


def undone_by(engine: Engine, extract_id: int) -> int | None:
    """The extract that already rolled back every value of extract ``extract_id``, if any."""
    with engine.connect() as conn:
        _require_extract(conn, extract_id)
        return _undone_by(conn, extract_id, _plan(_revisions_of_keys(conn, extract_id), extract_id))


CHANGE_COLUMNS = ["indicator", "period", "action", "now", "after", "revised_by"]
ACTION_WORDS = {
    RESTORE: "restored to its earlier value",
    WITHDRAW: "withdrawn (new in this extract)",
    KEEP: "kept (revised since)",
}


def changes(plan: pd.DataFrame) -> pd.DataFrame:
    """Each value of a plan as before → after (:data:`CHANGE_COLUMNS`): ``now`` is the value
    in force, ``after`` the value once rolled back (NaN: none, withdrawn; a kept value stays
    as it is); the period as ``2020-11``; values withdrawn or restored first."""
    after = plan["restore_value"].where(plan["action"] != KEEP, plan["value"])
    order = plan["action"].map({WITHDRAW: 0, RESTORE: 1, KEEP: 2})
    lines = pd.DataFrame(
        {
            "indicator": plan["indicator"],
            "period": periods.texts(plan["period"]) if len(plan) else plan["period"],
            "action": plan["action"],
            "now": plan["value"],
            "after": after,
            "revised_by": plan["revised_by"],
            "order": order,
        }
    )
    return lines.sort_values(["order", "indicator", "period"], kind="stable")[CHANGE_COLUMNS].reset_index(drop=True)


def plan_rollback(engine: Engine, extract_id: int) -> pd.DataFrame:
    """What rolling back extract ``extract_id`` would do to each of its values
    (:data:`PLAN_COLUMNS`), without writing anything."""
    with engine.connect() as conn:
        _require_extract(conn, extract_id)
        return _plan(_revisions_of_keys(conn, extract_id), extract_id)


RESTORED = {f"restore_{c}": c for c in RESTORED_VALUES}


def _record(written: pd.DataFrame) -> bytes:
    """The rollback as a file (what it wrote; a blank value is a withdrawn one), kept as the
    new extract's content."""
    extra = [*store.KEY_COLUMNS, *store.BREAKDOWN_VALUE_COLUMNS] if has_breakdowns(written) else []
    record = written[["indicator", "period", "value", "numerator", "denominator", "note", *extra]]
    return record.assign(period=periods.texts(record["period"])).to_csv(index=False, lineterminator="\n").encode()


def rollback(engine: Engine, extract_id: int, rolled_back_by: str) -> RollbackResult:
    """Roll back extract ``extract_id`` in one transaction (see the module docstring)."""
    with store.write_transaction(engine) as conn:
        _require_extract(conn, extract_id)
        plan = _plan(_revisions_of_keys(conn, extract_id), extract_id)
        counts = plan["action"].value_counts()
        restored, withdrawn, kept = (int(counts.get(action, 0)) for action in (RESTORE, WITHDRAW, KEEP))
        written = plan[plan["action"] != KEEP].drop(columns="value").rename(columns=RESTORED)
        if written.empty:
            undone = _undone_by(conn, extract_id, plan)
            return RollbackResult(extract_id, None, restored, withdrawn, kept, undone)
        content = _record(written)
        new_id = store.add_extract(
            conn,
            content=content,
            sha256=sha256(content),
            file_name=f"rollback-of-extract-{extract_id}.csv",
            loaded_by=rolled_back_by,
            rows_total=len(plan),
            rows_new=0,
            rows_revised=len(written),
            rows_unchanged=kept,
            reverts=extract_id,
        )
        write_observations(conn, written, new_id)
    return RollbackResult(extract_id, new_id, restored, withdrawn, kept)
