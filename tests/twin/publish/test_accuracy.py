"""Backtest of the twin: the right publication per week, error and band math, complete weeks only,
the contract (columns, lock) and the empty case. Hand-made version folders: no GX, no Dagster."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from data_contracts import load_contract_lock, load_published_contract, lock_violations
from twin.paths import TwinPaths
from twin.publish.accuracy import (
    ACCURACY_COLUMNS,
    forecast_accuracy,
    summary,
    to_contract_table,
)

TZ = "Europe/Berlin"
W1, W2 = dt.date(2026, 11, 2), dt.date(2026, 11, 9)  # Mondays
ONE = dt.timedelta(days=1)


def _version(
    paths: TwinPaths,
    publication_id: str,
    published_at: dt.datetime,
    weeks: dict[dt.date, tuple[float, float, float]],
    line: str = "L1",
) -> None:
    """A complete version folder: week rows (p10, p50, p90) and Mon-Fri shift day rows."""
    rows = []
    for monday, quantiles in weeks.items():
        for q, units in zip(("p10", "p50", "p90"), quantiles, strict=True):
            rows.append(_row(line, "week", monday, monday + 7 * ONE, q, 80.0, units))
            for i in range(7):
                day = monday + i * ONE
                rows.append(_row(line, "day", day, day + ONE, q, 16.0 if i < 5 else 0.0, units / 5))
        # machine rows and another scenario: ignored unless asked for
        rows += [
            _row(line, "week", monday, monday + 7 * ONE, q, 80.0, 1e6, "L1-M06")
            for q in ("p10", "p50", "p90")
        ]
        rows.append(
            {**_row(line, "week", monday, monday + 7 * ONE, "p50", 80.0, 1.0), "scenario_id": "x"}
        )
    folder = paths.published / "versions" / publication_id
    folder.mkdir(parents=True)
    pd.DataFrame(rows).to_parquet(folder / "capacity_supply.parquet")
    stamp = published_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    (folder / "manifest.json").write_text(
        json.dumps({"publication_id": publication_id, "published_at": stamp})
    )


def _row(line, grain, start, end, q, calendar, units, resource=None) -> dict:
    resource = resource or line
    return {
        "site_id": "S1",
        "line_id": line,
        "resource_id": resource,
        "resource_level": "line" if resource == line else "machine",
        "bucket_grain": grain,
        "bucket_start": start,
        "bucket_end": end,
        "scenario_id": "baseline",
        "quantile": q,
        "calendar_hours": calendar,
        "capacity_units": units,
    }


def _actuals(first: dt.date, days: int, per_day: float = 200.0, line: str = "L1") -> pd.DataFrame:
    dates = [first + i * ONE for i in range(days)]
    return pd.DataFrame({"line_id": line, "date": pd.to_datetime(dates), "good_qty": per_day})


def _id(ts: dt.datetime) -> str:
    return f"{ts:%Y%m%dT%H%M%SZ}-abcdef"


def test_latest_publication_before_the_week_wins_else_the_earliest_covering(paths) -> None:
    early = dt.datetime(2026, 10, 25, 3)  # before both weeks
    mid = dt.datetime(
        2026, 11, 1, 22, 30
    )  # Sunday 23:30 Berlin: before W1 starts (Mon 00:00 = 23:00 UTC)
    late = dt.datetime(2026, 11, 2, 23, 30)  # Tuesday 00:30 Berlin: after W1 started, before W2
    after = dt.datetime(2026, 11, 20, 3)  # after both
    _version(paths, _id(early), early, {W1: (800, 900, 1000), W2: (800, 900, 1000)})
    _version(paths, _id(mid), mid, {W1: (900, 1000, 1100), W2: (900, 1000, 1100)})
    _version(paths, _id(late), late, {W2: (950, 1100, 1200)})
    _version(paths, _id(after), after, {W1: (1, 2, 3), W2: (1, 2, 3)})
    acc = forecast_accuracy(paths, _actuals(W1, 14), timezone=TZ)
    assert list(acc.columns) == ACCURACY_COLUMNS
    assert acc["publication_id"].tolist() == [_id(mid), _id(late)]
    assert acc["published_p50"].tolist() == [1000.0, 1100.0]


def test_without_a_publication_before_the_week_the_earliest_covering_one_judges(paths) -> None:
    first, second = dt.datetime(2026, 11, 20, 3), dt.datetime(2026, 11, 21, 3)
    _version(paths, _id(second), second, {W1: (1, 2, 3)})
    _version(paths, _id(first), first, {W1: (900, 1000, 1100), W2: (900, 1000, 1100)})
    acc = forecast_accuracy(paths, _actuals(W1, 14), timezone=TZ)
    assert acc["publication_id"].tolist() == [_id(first)] * 2


def test_error_and_band_math(paths) -> None:
    at = dt.datetime(2026, 10, 1)
    _version(paths, _id(at), at, {W1: (900, 1000, 1100), W2: (1050, 1200, 1300)})
    acc = forecast_accuracy(paths, _actuals(W1, 14, per_day=150.0), timezone=TZ)  # 1050 per week
    assert acc["actual_units"].tolist() == [1050.0, 1050.0]
    assert acc["error_pct"].tolist() == pytest.approx([0.05, -0.125])
    assert acc["inside_band"].tolist() == [
        True,
        True,
    ]  # 1050 = p10 of W2 is inside (bounds inclusive)
    acc = forecast_accuracy(paths, _actuals(W1, 14, per_day=240.0), timezone=TZ)  # 1680
    assert acc["inside_band"].tolist() == [False, False]
    stats = summary(acc)
    assert stats["line_weeks"] == 2
    assert stats["band_coverage"] == 0.0
    assert stats["mean_abs_error_pct"] == pytest.approx((0.68 + 0.4) / 2)


def test_incomplete_weeks_are_left_out_and_shift_days_suffice(paths) -> None:
    at = dt.datetime(2026, 10, 1)
    _version(paths, _id(at), at, {W1: (900, 1000, 1100), W2: (900, 1000, 1100)})
    # W1: Mon-Fri only (the shift days: complete); W2: Mon-Thu (Friday's shift missing)
    actual = pd.concat([_actuals(W1, 5), _actuals(W2, 4)])
    acc = forecast_accuracy(paths, actual, timezone=TZ)
    assert acc["week_start"].tolist() == [W1]
    assert acc["days_with_actuals"].tolist() == [5]
    # a week of the actuals that no publication covers is left out too
    acc = forecast_accuracy(paths, _actuals(W2 + 7 * ONE, 7), timezone=TZ)
    assert acc.empty


def test_no_actuals_or_no_publication_give_an_empty_frame_with_the_columns(paths) -> None:
    empty = pd.DataFrame({"line_id": [], "date": [], "good_qty": []})
    assert list(forecast_accuracy(paths, empty, timezone=TZ).columns) == ACCURACY_COLUMNS
    acc = forecast_accuracy(paths, _actuals(W1, 7), timezone=TZ)  # nothing published yet
    assert acc.empty
    assert list(acc.columns) == ACCURACY_COLUMNS
    assert to_contract_table(acc).num_rows == 0


def test_the_frame_matches_its_locked_contract(paths) -> None:
    contract = load_published_contract("capacity_forecast_accuracy")
    assert lock_violations(contract, load_contract_lock()) == []
    assert list(contract["columns"]) == ACCURACY_COLUMNS
    at = dt.datetime(2026, 10, 1)
    _version(paths, _id(at), at, {W1: (900, 1000, 1100)})
    table = to_contract_table(forecast_accuracy(paths, _actuals(W1, 7), timezone=TZ))
    assert table.num_rows == 1
    assert str(table.schema.field("week_start").type) == "date32[day]"
    assert str(table.schema.field("inside_band").type) == "bool"


def test_resource_ids_compare_another_resource_of_the_line(paths) -> None:
    at = dt.datetime(2026, 10, 1)
    _version(paths, _id(at), at, {W1: (900, 1000, 1100)})
    acc = forecast_accuracy(paths, _actuals(W1, 7), timezone=TZ, resource_ids={"L1": "L1-M06"})
    assert acc["published_p50"].tolist() == [1e6]


def test_a_partial_week_is_never_judged_even_with_seven_days(paths) -> None:
    # capacity_supply 1.1.0: data ending Monday 11:00 starts the horizon there; its first week
    # still runs [Monday, next Monday) but covers only part of it, so it must not be judged
    # against the whole week's actuals (it would read as a 20-40 % under-forecast)
    at = dt.datetime(2026, 11, 2, 10)  # Monday 11:00 Berlin, inside W1
    _version(paths, _id(at), at, {W1: (500, 600, 700), W2: (900, 1000, 1100)})
    file = paths.published / "versions" / _id(at) / "capacity_supply.parquet"
    frame = pd.read_parquet(file)
    frame["is_partial"] = frame["bucket_start"] == W1  # the week W1 and its Monday
    frame.to_parquet(file)
    acc = forecast_accuracy(paths, _actuals(W1, 14), timezone=TZ)
    assert acc["week_start"].tolist() == [W2]
    assert acc["published_p50"].tolist() == [1000.0]
    # the same version without the flag (as before 1.1.0) would have judged W1 too
    frame.drop(columns="is_partial").to_parquet(file)
    assert forecast_accuracy(paths, _actuals(W1, 14), timezone=TZ)["week_start"].tolist() == [
        W1,
        W2,
    ]
