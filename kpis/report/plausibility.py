"""Values far from their indicator's own history, for the officer to confirm before a load.

One rule, stated to the officer as :data:`RULE`: a new or revised value is *unusual* when
its indicator has at least :data:`MIN_HISTORY` values in the :data:`WINDOW` months before
its period, and the value is more than :data:`FACTOR` times, or less than 1/:data:`FACTOR`
of, the median of those values. The history is the store as the load would leave it, so a
whole year in one file is judged month by month against its own earlier months.

Not judged: indicators whose unit allows negative figures (money, plain numbers: a ratio
means nothing across zero), a history whose median is zero, and rows of another area or
a group (their levels differ from the whole population's by design).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpis.catalogue import Catalogue
from kpis.report import formatting

FACTOR = 5.0
MIN_HISTORY = 3
WINDOW = 12
RULE = (
    f"more than {FACTOR:g} times, or less than a {'fifth' if FACTOR == 5 else f'1/{FACTOR:g}'}, of the median of "
    f"the indicator's own values in the {WINDOW} months before (at least {MIN_HISTORY} of them)"
)
UNUSUAL_COLUMNS = ["indicator", "period", "value", "median", "ratio", "reason"]
_KEYS = ["area", "breakdown", "group"]


def _judged(plan: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """The plan's new and revised values that the rule applies to."""
    signed = {i.id for i in catalogue.indicators if i.unit.allows_negative}
    rows = plan[(plan["status"] != "unchanged") & plan["value"].notna() & ~plan["indicator"].isin(signed)]
    for key in _KEYS:
        if key in rows:
            rows = rows[rows[key].fillna("") == ""]
    return rows


def _reason(value: float, median: float, ratio: float) -> str:
    times = f"{ratio:,.1f} times" if ratio >= 1 else f"{ratio:.2f} of"
    return f"{formatting.exact(value)} is {times} the median of its last {WINDOW} months ({formatting.exact(median)})"


def unusual(plan: pd.DataFrame, history: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """The plan's values that break :data:`RULE` (:data:`UNUSUAL_COLUMNS`), in the plan's
    order. ``history``: the observations as the load would leave them (``indicator``,
    ``period`` as a month index, ``value``)."""
    rows = _judged(plan, catalogue)
    if rows.empty:
        return pd.DataFrame(columns=UNUSUAL_COLUMNS)
    asked = pd.DataFrame(
        {"row": np.arange(len(rows)), "indicator": rows["indicator"].astype(str).to_numpy(), "month": rows["period"]}
    )
    known = history.loc[history["value"].notna(), ["indicator", "period", "value"]]
    known = known.assign(indicator=known["indicator"].astype(str))
    pairs = asked.merge(known, on="indicator")
    before = pairs[(pairs["period"] < pairs["month"]) & (pairs["period"] >= pairs["month"] - WINDOW)]
    stats = before.groupby("row")["value"].agg(median="median", count="size")
    stats = stats[(stats["count"] >= MIN_HISTORY) & (stats["median"] != 0)]
    values = rows["value"].to_numpy(float)[stats.index.to_numpy()]
    ratio = values / stats["median"].to_numpy(float)
    far = (ratio > FACTOR) | (ratio < 1 / FACTOR)
    picked = stats.index.to_numpy()[far]
    found = pd.DataFrame(
        {
            "indicator": rows["indicator"].to_numpy(object)[picked],
            "period": rows["period"].to_numpy()[picked],
            "value": values[far],
            "median": stats["median"].to_numpy(float)[far],
            "ratio": ratio[far],
        }
    )
    reasons = [_reason(v, m, r) for v, m, r in zip(found["value"], found["median"], found["ratio"], strict=True)]
    return found.assign(reason=reasons)[UNUSUAL_COLUMNS]
