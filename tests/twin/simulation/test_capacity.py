"""capacity_supply / constraint_map: exact shape, consistent quantiles, scenario effects, closed form.

The small plant of ``test_line_params`` (early shift Mon-Fri, holiday Friday 3 July), 3 weeks
starting Monday 29 June, 40 replications with a short MTBF so that failures show in every week.
"""

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tests.support.small_plant import BASE, PLANT, START, scenario
from twin.simulation.capacity import (
    CAPACITY_COLUMNS,
    CONSTRAINT_COLUMNS,
    capacity_tables,
    simulate_lines,
)
from twin.simulation.line_params import build_line_params
from twin.simulation.machine_fit import Priors

PRIORS = Priors(mtbf_h=20.0, mttr_h=1.5)  # ~2 failures per machine per week
R = 40


def run(s=BASE, priors=PRIORS, lines=None):
    lines = lines or build_line_params(PLANT, None, None, None, s, START, priors=priors)
    results = simulate_lines(lines, R, 7)
    cap, cm = capacity_tables(PLANT, lines, results, s.id, START)
    return lines, results, cap, cm


@pytest.fixture(scope="module")
def base():
    return run()


def rows(cap: pd.DataFrame, resource: str, grain: str, quantile: str = "p50") -> pd.DataFrame:
    sel = (cap["resource_id"] == resource) & (cap["bucket_grain"] == grain)
    return cap[sel & (cap["quantile"] == quantile)].set_index("bucket_start").sort_index()


def test_columns_are_exactly_the_contract_and_keys_are_unique(base) -> None:
    _, _, cap, cm = base
    assert list(cap.columns) == CAPACITY_COLUMNS
    assert list(cm.columns) == CONSTRAINT_COLUMNS
    key = ["resource_id", "bucket_grain", "bucket_start", "scenario_id", "quantile"]
    assert not cap.duplicated(key).any()
    # 3 machines + 2 lines, 21 days + 3 weeks, 3 quantiles
    assert len(cap) == 5 * 24 * 3
    assert set(cap["resource_level"]) == {"line", "machine"}
    assert set(cap["uom"]) == {"units"}
    assert not cap.isna().any().any()
    assert not cm.duplicated(["machine_id", "bucket_grain", "bucket_start"]).any()


def test_buckets_are_local_dates_weeks_from_monday_end_exclusive(base) -> None:
    _, _, cap, _ = base
    days = rows(cap, "A", "day")
    assert days.index[0] == dt.date(2026, 6, 29)
    assert (days["bucket_end"] == days.index + pd.Timedelta(days=1)).all()
    weeks = rows(cap, "A", "week")
    assert [d.weekday() for d in weeks.index] == [0, 0, 0]
    assert list(weeks["bucket_end"]) == [
        dt.date(2026, 7, 6),
        dt.date(2026, 7, 13),
        dt.date(2026, 7, 20),
    ]
    # the holiday has no calendar hours, weekends neither
    assert days.loc[dt.date(2026, 7, 3), "calendar_hours"] == 0
    assert weeks["calendar_hours"].tolist() == [32.0, 40.0, 40.0]


def test_quantiles_are_ordered_and_available_within_calendar(base) -> None:
    _, _, cap, _ = base
    wide = cap.pivot_table(
        index=["resource_id", "bucket_grain", "bucket_start"],
        columns="quantile",
        values="capacity_units",
    )
    assert (wide["p10"] <= wide["p50"] + 1e-9).all()
    assert (wide["p50"] <= wide["p90"] + 1e-9).all()
    assert (
        cap["available_hours"] <= cap["calendar_hours"] - cap["planned_downtime_hours"] + 1e-9
    ).all()
    assert (cap["available_hours"] >= 0).all()
    assert (cap["expected_unplanned_downtime_hours"] >= 0).all()
    machines = cap[cap["resource_level"] == "machine"]
    assert machines["capacity_units"].to_numpy() == pytest.approx(
        (machines["available_hours"] * machines["rate_units_per_hour"]).to_numpy()
    )
    # failures are netted in: the low quantile is below the no-failure capacity
    week = rows(cap, "A", "week", "p10")
    assert (week["available_hours"] < week["calendar_hours"] - week["planned_downtime_hours"]).all()


def test_a_week_is_its_seven_days_summed_per_replication(base) -> None:
    _, results, cap, _ = base
    out = results["A"].output  # (replications, days)
    for w, monday in enumerate(rows(cap, "A", "week").index):
        weekly = out[:, 7 * w : 7 * w + 7].sum(axis=1)
        got = cap[
            (cap["resource_id"] == "A")
            & (cap["bucket_grain"] == "week")
            & (cap["bucket_start"] == monday)
        ]
        assert got.set_index("quantile")["capacity_units"].to_dict() == pytest.approx(
            dict(zip(["p10", "p50", "p90"], np.quantile(weekly, [0.1, 0.5, 0.9]), strict=True))
        )
    for col in ("calendar_hours", "planned_downtime_hours", "expected_unplanned_downtime_hours"):
        day = rows(cap, "A1", "day")[col].to_numpy()
        assert rows(cap, "A1", "week")[col].to_numpy() == pytest.approx(
            day.reshape(3, 7).sum(axis=1)
        )


def test_bottleneck_shares_and_ranks(base) -> None:
    _, _, cap, cm = base
    week = cm[(cm["line_id"] == "A") & (cm["bucket_grain"] == "week")]
    assert week.groupby("bucket_start")["bottleneck_share"].sum().to_numpy() == pytest.approx(1.0)
    first = week[week["rank"] == 1]
    assert set(first["machine_id"]) == {"A2"}  # 60/h against 86/h
    machines = rows(cap, "A2", "week")
    assert (machines["bottleneck_share"] > 0.5).all()
    assert (rows(cap, "A", "week")["bottleneck_share"] == 1.0).all()


def test_without_failures_every_quantile_is_rate_times_open_hours() -> None:
    lines = build_line_params(PLANT, None, None, None, BASE, START)
    b = lines["B"]
    # closed form of the simulation alone: no failures and no fitted week-to-week variation
    quiet = dataclasses.replace(
        b, machines=tuple(dataclasses.replace(m, tbf=None) for m in b.machines), weekly_cv=0.0
    )
    _, _, cap, _ = run(lines={"B": quiet})
    rate = quiet.machines[0].effective_rate * (1 - quiet.machines[0].scrap)
    for resource in ("B", "B1"):
        for grain in ("day", "week"):
            got = cap[(cap["resource_id"] == resource) & (cap["bucket_grain"] == grain)]
            open_h = got["calendar_hours"] - got["planned_downtime_hours"]
            assert got["capacity_units"].to_numpy() == pytest.approx((rate * open_h).to_numpy())
            assert got["rate_units_per_hour"].to_numpy() == pytest.approx(rate)
            assert (got["expected_unplanned_downtime_hours"].abs() < 1e-9).all()


def test_line_down_removes_those_days(base) -> None:
    _, _, cap, _ = run(scenario({"type": "line_down", "line": "B", "start_day": 7, "days": 2}))
    days = rows(cap, "B", "day")
    down = [dt.date(2026, 7, 6), dt.date(2026, 7, 7)]
    assert (days.loc[down, "capacity_units"] == 0).all()
    assert (days.loc[down, "planned_downtime_hours"] == days.loc[down, "calendar_hours"]).all()
    assert (days.loc[down, "calendar_hours"] == 8).all()
    before = rows(base[2], "B", "week")["capacity_units"]
    after = rows(cap, "B", "week")["capacity_units"]
    assert after.iloc[1] < 0.7 * before.iloc[1]
    assert after.iloc[0] == pytest.approx(before.iloc[0])  # the same random numbers elsewhere


def test_extra_shift_raises_calendar_and_capacity(base) -> None:
    sat = {"type": "extra_shift", "name": "sat", "start": "06:00", "end": "14:00", "days": ["sat"]}
    _, _, cap, _ = run(scenario(sat))
    for resource in ("A", "A2", "B"):
        before, after = rows(base[2], resource, "week"), rows(cap, resource, "week")
        assert (after["calendar_hours"] == before["calendar_hours"] + 8).all()
        assert (after["capacity_units"] > before["capacity_units"]).all()


def test_added_machine_raises_the_bottleneck_line(base) -> None:
    _, _, cap, _ = run(scenario({"type": "added_machine", "line": "A", "station": "bottleneck"}))
    before, after = rows(base[2], "A", "week"), rows(cap, "A", "week")
    assert (after["capacity_units"] > 1.2 * before["capacity_units"]).all()
    assert (after["rate_units_per_hour"] > before["rate_units_per_hour"]).all()
    assert rows(cap, "A2", "week")["rate_units_per_hour"].to_numpy() == pytest.approx(
        2 * rows(base[2], "A2", "week")["rate_units_per_hour"].to_numpy()
    )


def test_pm_window_moved_moves_planned_downtime_between_buckets(base) -> None:
    before = rows(base[2], "A2", "week")["planned_downtime_hours"]
    assert before.tolist() == [0.0, 0.0, 3.0]  # due day 14: Monday of week 3
    _, _, cap, _ = run(scenario({"type": "pm_window_moved", "machine": "A2", "shift_days": -7}))
    assert rows(cap, "A2", "week")["planned_downtime_hours"].tolist() == [0.0, 3.0, 0.0]
    _, _, cap, _ = run(scenario({"type": "pm_window_moved", "move_to": "weekend"}))
    assert (cap["planned_downtime_hours"] == 0).all()  # Saturdays are not worked here
    assert (
        rows(cap, "A", "week")["capacity_units"].sum()
        > rows(base[2], "A", "week")["capacity_units"].sum()
    )


def test_weekly_variation_widens_the_band_of_a_line_without_failures() -> None:
    """Without failures the engine's replications agree; the fitted weekly CV spreads them."""
    lines = build_line_params(PLANT, None, None, None, BASE, START)
    b = lines["B"]
    quiet = dataclasses.replace(
        b, machines=tuple(dataclasses.replace(m, tbf=None) for m in b.machines)
    )
    spread = {}
    for cv in (0.0, 0.05):
        _, _, cap, _ = run(lines={"B": dataclasses.replace(quiet, weekly_cv=cv)})
        week = {q: rows(cap, "B", "week", q)["capacity_units"].to_numpy() for q in ("p10", "p90")}
        spread[cv] = (week["p90"] - week["p10"]) / rows(cap, "B", "week")["capacity_units"]
    assert np.allclose(spread[0.0], 0.0)
    # lognormal, cv 5 %: P90 / P10 of the factor ~ 1.14 (40 replications: loose bounds)
    assert ((spread[0.05] > 0.06) & (spread[0.05] < 0.25)).all()
