"""Integer ids for the combinations of an observation's keys (indicator, area, period,
breakdown, group), shared by the benchmark lookup and the inequality sets.

Categorical key columns cost nothing (their codes are used as they are); others are
factorised once here. Pass keys as categoricals when several steps group by them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

_DENSE_LIMIT = 50_000_000  # combinations counted in a dense array up to this many


def column_codes(column: pd.Series) -> tuple[np.ndarray, list]:
    """Codes 0..n-1 of a column's values and the n values they stand for (a missing
    value, None, is a value of its own)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy().astype(np.int64)
        values = list(column.cat.categories)
        if (codes < 0).any():
            codes = np.where(codes < 0, len(values), codes)
            values.append(None)
        return codes, values
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return codes.astype(np.int64), list(uniques)


def key_ids(frame: pd.DataFrame, keys: Sequence[str]) -> tuple[np.ndarray, int]:
    """``ids, n``: each row's combination of ``keys`` as an integer 0..n-1 (ids follow the
    keys' codes, not the row order)."""
    if not keys:
        return np.zeros(len(frame), dtype=np.int64), 1 if len(frame) else 0
    combined = np.zeros(len(frame), dtype=np.int64)
    size = 1
    for key in keys:
        codes, values = column_codes(frame[key])
        n = len(values)
        if size * max(n, 1) > 2**62:
            combined, size = np.unique(combined, return_inverse=True)[1], int(combined.max(initial=0)) + 1
        combined = combined * max(n, 1) + codes
        size *= max(n, 1)
    if size <= max(_DENSE_LIMIT, 4 * len(frame)):
        present = np.zeros(size, dtype=bool)
        present[combined] = True
        dense = np.cumsum(present) - 1
        return dense[combined], int(present.sum())
    uniques, ids = np.unique(combined, return_inverse=True)
    return ids, len(uniques)
