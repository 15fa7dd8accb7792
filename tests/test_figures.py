"""The forecast: pace of the last 14 days, a range from the last three weeks, against the target."""

from datetime import date, timedelta

import pandas as pd

from restore.figures import forecast

DAY0 = date(2026, 4, 1)


def series(values: list[int]) -> pd.DataFrame:
    days = [DAY0 + timedelta(days=i) for i in range(len(values))]
    return pd.DataFrame({"in service": values}, index=days)


def test_forecast_projects_the_last_14_days_pace():
    values = list(range(0, 56, 2))  # two a day for four weeks: 54 in service on day 27
    fc = forecast(series(values), total=100, target=DAY0 + timedelta(days=60))
    assert fc.pace_per_day == 2 and fc.remaining == 46
    assert fc.likely == DAY0 + timedelta(days=27 + 23)
    assert fc.optimistic == fc.pessimistic == fc.likely  # every week at the same pace
    assert fc.days_before_target == 10


def test_range_comes_from_the_best_and_worst_recent_week():
    values = [0] * 8 + [7 * i for i in range(1, 8)] + [49] * 7 + [49 + i for i in range(1, 8)]
    fc = forecast(series(values), total=100, target=None)
    assert fc.pace_per_day == 0.5 and fc.optimistic < fc.likely  # best week: 7 a day
    assert fc.pessimistic is None  # one of the last three weeks made no progress
    assert fc.days_before_target is None


def test_no_progress_means_no_forecast():
    fc = forecast(series([5] * 30), total=10, target=DAY0)
    assert fc.likely is None and fc.optimistic is None


def test_done_is_the_day_the_last_system_came_back_for_good():
    values = [8, 10, 10, 9, 9, 10, 10]  # all back on day 1, lost one on day 3, all back day 5
    fc = forecast(series(values), total=10, target=DAY0 + timedelta(days=10))
    assert fc.done_on == DAY0 + timedelta(days=5)
    assert fc.days_before_target == 5


def test_empty_series_gives_an_empty_forecast():
    fc = forecast(pd.DataFrame(columns=["in service"]), total=132, target=None)
    assert fc.likely is None and fc.remaining == 132
