"""In month, year to date and rolling 12 months, with the complete-window rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpis import periods
from kpis.catalogue import parse_catalogue
from kpis.report.aggregation import aggregate


def _catalogue(aggregation: str, frequency: str = "monthly", unit: str = "count"):
    return parse_catalogue(
        {
            "workstreams": [{"id": "w", "name": "W"}],
            "indicators": [
                {
                    "id": "k",
                    "name": "K",
                    "workstream": "w",
                    "unit": unit,
                    "direction": "lower",
                    "frequency": frequency,
                    "aggregation": aggregation,
                }
            ],
        }
    )


def _series(start: str, values, numerators=None, denominators=None, step: int = 1) -> pd.DataFrame:
    first = periods.parse_period(start)
    n = len(values)
    return pd.DataFrame(
        {
            "indicator": "k",
            "period": [first + i * step for i in range(n)],
            "value": np.asarray(values, dtype=float),
            "numerator": np.asarray(numerators if numerators is not None else [np.nan] * n, dtype=float),
            "denominator": np.asarray(denominators if denominators is not None else [np.nan] * n, dtype=float),
        }
    )


def _actuals(frame: pd.DataFrame, catalogue) -> dict[str, float]:
    result = aggregate(frame, catalogue)
    return dict(zip(periods.texts(result["period"]), result["actual"], strict=True))


def test_as_reported_is_the_value():
    assert _actuals(_series("2020-03", [1, 2]), _catalogue("as_reported")) == {"2020-03": 1, "2020-04": 2}


def test_ytd_sum_restarts_in_april():
    got = _actuals(_series("2020-04", [1, 2, 3] * 4 + [10]), _catalogue("ytd_sum"))
    assert [got["2020-04"], got["2020-06"], got["2021-03"], got["2021-04"]] == [1, 6, 24, 10]


def test_ytd_needs_every_month_of_the_year_so_far():
    frame = _series("2020-04", [5, 5, 5, 5]).drop(index=1)  # May missing
    got = _actuals(frame, _catalogue("ytd_sum"))
    assert got["2020-04"] == 5
    assert np.isnan(got["2020-06"]) and np.isnan(got["2020-07"])


def test_ytd_sum_of_a_series_starting_mid_year_is_incomplete():
    got = _actuals(_series("2020-06", [5, 5]), _catalogue("ytd_sum"))
    assert np.isnan(got["2020-06"]) and np.isnan(got["2020-07"])


def test_ytd_mean():
    got = _actuals(_series("2020-04", [4, 6, 8]), _catalogue("ytd_mean", unit="days"))
    assert [got["2020-04"], got["2020-05"], got["2020-06"]] == [4, 5, 6]


def test_ytd_ratio_sums_numerators_and_denominators():
    got = _actuals(
        _series("2020-04", [50, 25], numerators=[5, 1], denominators=[10, 4]), _catalogue("ytd_ratio", unit="percent")
    )
    assert got["2020-05"] == pytest.approx(6 / 14 * 100)


def test_quarterly_ytd_ratio_counts_quarters():
    frame = _series("2020-06", [0, 0, 0], numerators=[1, 2, 3], denominators=[4, 4, 4], step=3)
    got = _actuals(frame, _catalogue("ytd_ratio", frequency="quarterly", unit="percent"))
    assert [got["2020-06"], got["2020-09"], got["2020-12"]] == pytest.approx([25, 3 / 8 * 100, 50])


def test_rolling_12m_sum_needs_twelve_months():
    got = _actuals(_series("2019-01", list(range(1, 15))), _catalogue("rolling_12m_sum"))
    assert np.isnan(got["2019-11"])
    assert got["2019-12"] == sum(range(1, 13))
    assert got["2020-02"] == sum(range(3, 15))


def test_rolling_12m_ratio_and_its_scale():
    n = 13
    frame = _series("2019-04", [0] * n, numerators=[1] * 12 + [13], denominators=[4] * n)
    got = _actuals(frame, _catalogue("rolling_12m_ratio", unit="percent"))
    assert got["2020-03"] == pytest.approx(25)
    assert got["2020-04"] == pytest.approx((11 + 13) / 48 * 100)


def test_rolling_ratio_of_a_rate_is_not_scaled_by_100():
    frame = _series("2019-04", [0] * 12, numerators=[1] * 12, denominators=[4] * 12)
    got = _actuals(frame, _catalogue("rolling_12m_ratio", unit="ratio"))
    assert got["2020-03"] == pytest.approx(0.25)


def test_quarterly_rolling_sum_takes_four_quarters():
    frame = _series("2019-06", [1, 2, 3, 4, 5], step=3)
    got = _actuals(frame, _catalogue("rolling_12m_sum", frequency="quarterly"))
    assert np.isnan(got["2019-12"])
    assert (got["2020-03"], got["2020-06"]) == (10, 14)


def test_observations_of_indicators_not_in_the_catalogue_are_ignored():
    frame = pd.concat([_series("2020-04", [1]), _series("2020-04", [7]).assign(indicator="retired")])
    assert _actuals(frame, _catalogue("as_reported")) == {"2020-04": 1}
