"""Small-number suppression: a count n with 0 < n < N is not shown.

A suppressed row keeps its figures (totals still use them); screens and exports show
:data:`SUPPRESSED_MARK` in place of its numerator, value and limits, and its comparisons
are ``not_compared``. ``N`` is the catalogue's ``suppress_below``; 0 turns it off.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpis.report.comparison import COMPARISON_WORDS, NOT_COMPARED

SUPPRESSED_MARK = "*"


def suppressed(numerator, suppress_below) -> np.ndarray:
    """True where ``0 < numerator < suppress_below`` (per row or one threshold for all);
    a missing numerator or a threshold of 0 is never suppressed."""
    n = np.asarray(numerator, dtype=float)
    below = np.asarray(suppress_below, dtype=float)
    with np.errstate(invalid="ignore"):
        return (n > 0) & (n < below)


def add_suppression(
    frame: pd.DataFrame, suppress_below, *, numerator: str = "numerator", comparisons: tuple[str, ...] = ()
) -> pd.DataFrame:
    """A new frame with a boolean ``suppressed`` column, and each column named in
    ``comparisons`` set to ``not_compared`` on suppressed rows. ``suppress_below`` is a
    number or the name of a column holding each row's threshold."""
    threshold = frame[suppress_below].to_numpy(dtype=float) if isinstance(suppress_below, str) else suppress_below
    flags = suppressed(frame[numerator].to_numpy(dtype=float, na_value=np.nan), threshold)
    result = frame.assign(suppressed=flags)
    for column in comparisons:
        words = pd.Categorical(result[column], categories=list(COMPARISON_WORDS))
        codes = np.where(flags, COMPARISON_WORDS.index(NOT_COMPARED), words.codes).astype(np.int8)
        result[column] = pd.Categorical.from_codes(codes, categories=pd.Index(list(COMPARISON_WORDS)))
    return result
