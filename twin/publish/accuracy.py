"""Backtest of the twin itself: published weekly capacity against the output that then happened.

``forecast_accuracy(paths, actual_daily)`` compares, per line and Monday-started week, the P10/P50/P90
of ``capacity_supply`` (line rows, week grain, scenario ``baseline``) with the line's actual good
output (``marts.fct_line_kpis_daily.good_qty``: the line's last machine). No Dagster here: the asset
``published/capacity_forecast_accuracy`` and ``bench/fidelity.py`` both call it.

Which publication judges a week: among the published versions whose capacity_supply has a whole
week row for that line and week (``bucket_end - bucket_start = 7`` days), the latest one with
``published_at`` before the week started (Monday 00:00 site time, compared in UTC); if none was
published before the week (a backfill, a replay, the first run), the earliest one covering the
week. The fallback is still out of sample: the horizon starts at the last data time
(``twin.simulation.scenario_run.horizon_start``) and a partial week (``is_partial``: the rest of the
week of the last data, capacity_supply 1.1.0) is never judged, so a whole week row of a version
lies entirely after its data.

Which weeks count: only complete ones, i.e. the line has actuals on all 7 days, or on every shift
day of the week (the days the chosen publication's day rows give calendar_hours > 0: the KPI marts
may carry no row for a weekend without shifts). Weeks with no actuals at all never appear.

``error_pct`` is the relative error of the P50 as a share, ``(actual - p50) / p50`` (0.05 = the
line made 5 % more than the P50 said; null when the P50 is 0), ``inside_band`` is
``p10 <= actual <= p90``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from data_contracts import load_published_contract
from data_contracts.duckdb_types import arrow_field
from twin.paths import TwinPaths
from twin.plant.timezone import plant_timezone
from twin.publish.versions import MANIFEST_NAME, list_versions

CONTRACT = "capacity_forecast_accuracy"
ACCURACY_COLUMNS = [
    "site_id",
    "line_id",
    "week_start",
    "publication_id",
    "scenario_id",
    "published_p10",
    "published_p50",
    "published_p90",
    "actual_units",
    "error_pct",
    "inside_band",
    "days_with_actuals",
]
_READ = [
    "site_id",
    "line_id",
    "resource_id",
    "resource_level",
    "bucket_grain",
    "bucket_start",
    "bucket_end",
    "scenario_id",
    "quantile",
    "calendar_hours",
    "capacity_units",
]


def empty_accuracy() -> pd.DataFrame:
    """No week to judge yet: the right columns, no rows."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in ACCURACY_COLUMNS})


def _published_at(value: str) -> dt.datetime:
    """Manifest time (``2026-11-22T03:15:00.000000Z``) as naive UTC."""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)


def _overlaps(manifest: dict, first: dt.date, last: dt.date) -> bool:
    """Whether the version's capacity horizon can hold a week of [first, last] (True if unknown)."""
    horizon = (manifest.get("data") or {}).get("capacity_horizon")
    if not horizon:
        return True
    start, end = dt.date.fromisoformat(horizon["start"]), dt.date.fromisoformat(horizon["end"])
    return start <= last and end > first


def published_capacity(
    paths: TwinPaths,
    *,
    scenario_id: str = "baseline",
    resource_ids: Mapping[str, str] | None = None,
    window: tuple[dt.date, dt.date] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(weeks, shift days) of every complete published version.

    weeks: site_id, line_id, week_start, publication_id, published_at, published_p10/p50/p90, one
    row per version and whole week. shift days: publication_id, line_id, date of days with
    calendar_hours > 0. ``resource_ids`` maps a line to the resource whose rows stand for it (the
    line row by default; ``bench/fidelity.py`` passes the line's last machine for a like-for-like
    comparison on an uncoupled plant). ``window`` skips versions whose horizon misses it.
    """
    weeks, days = [], []
    for publication_id in list_versions(paths):
        folder = paths.published / "versions" / publication_id
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
        if window is not None and not _overlaps(manifest, *window):
            continue
        file = folder / "capacity_supply.parquet"
        if not file.exists():
            continue
        # versions before capacity_supply 1.1.0 have no is_partial: their weeks were all whole
        partial = ["is_partial"] if "is_partial" in pq.read_schema(file).names else []
        frame = pq.read_table(
            file, columns=_READ + partial, filters=[("scenario_id", "=", scenario_id)]
        ).to_pandas()
        if not partial:
            frame["is_partial"] = False
        line_ids = frame["line_id"].unique()
        wanted = {line: (resource_ids or {}).get(line, line) for line in line_ids}
        frame = frame[frame["resource_id"] == frame["line_id"].map(wanted)]
        frame = frame.assign(
            bucket_start=pd.to_datetime(frame["bucket_start"]).dt.date,
            bucket_end=pd.to_datetime(frame["bucket_end"]).dt.date,
        )
        whole = frame[
            (frame["bucket_grain"] == "week")
            & ((frame["bucket_end"] - frame["bucket_start"]) == dt.timedelta(days=7))
            & ~frame["is_partial"].astype(bool)
        ]
        wide = whole.pivot_table(
            index=["site_id", "line_id", "bucket_start"],
            columns="quantile",
            values="capacity_units",
            aggfunc="first",
        ).reset_index()
        if not {"p10", "p50", "p90"} <= set(wide.columns):
            continue
        wide = wide.rename(
            columns={
                "bucket_start": "week_start",
                "p10": "published_p10",
                "p50": "published_p50",
                "p90": "published_p90",
            }
        )
        wide["publication_id"] = publication_id
        wide["published_at"] = _published_at(manifest["published_at"])
        weeks.append(wide)
        open_days = frame[
            (frame["bucket_grain"] == "day")
            & (frame["quantile"] == "p50")
            & (frame["calendar_hours"] > 0)
        ]
        days.append(
            pd.DataFrame(
                {
                    "publication_id": publication_id,
                    "line_id": open_days["line_id"],
                    "date": open_days["bucket_start"],
                }
            )
        )
    if not weeks:
        return pd.DataFrame(), pd.DataFrame(columns=["publication_id", "line_id", "date"])
    return pd.concat(weeks, ignore_index=True), pd.concat(days, ignore_index=True)


def _week_start_utc(monday: dt.date, tz: ZoneInfo) -> dt.datetime:
    local = dt.datetime.combine(monday, dt.time()).replace(tzinfo=tz)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def choose_publications(weeks: pd.DataFrame, tz: ZoneInfo) -> pd.DataFrame:
    """One row per (site, line, week): the latest version published before the week started, else
    the earliest covering it (module docstring)."""
    starts = {d: _week_start_utc(d, tz) for d in weeks["week_start"].unique()}
    before = weeks["published_at"] < pd.to_datetime(weeks["week_start"].map(starts))
    # before-the-week versions first, latest first; then the others, earliest first
    ranked = weeks.assign(
        _before=before,
        _order=np.where(
            before,
            -weeks["published_at"].astype("int64"),
            weeks["published_at"].astype("int64"),
        ),
    ).sort_values(["_before", "_order", "publication_id"], ascending=[False, True, True])
    chosen = ranked.drop_duplicates(["site_id", "line_id", "week_start"], keep="first")
    return chosen.drop(columns=["_before", "_order"]).reset_index(drop=True)


def forecast_accuracy(
    paths: TwinPaths,
    actual_daily: pd.DataFrame,
    *,
    scenario_id: str = "baseline",
    timezone: str | ZoneInfo | None = None,
    resource_ids: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Published P10/P50/P90 against actual output per line and complete week (module docstring).

    ``actual_daily``: line_id, date (site-local), good_qty; one row per line and day (more rows
    per day are summed). ``timezone``: the site's (default: the plant model's, TWIN_PLANT).
    """
    actual = actual_daily[["line_id", "date", "good_qty"]].dropna(subset=["good_qty"])
    if actual.empty:
        return empty_accuracy()
    actual = actual.assign(date=pd.to_datetime(actual["date"]).dt.date)
    actual = actual.groupby(["line_id", "date"], as_index=False)["good_qty"].sum()
    actual["week_start"] = [d - dt.timedelta(days=d.weekday()) for d in actual["date"]]
    window = (min(actual["week_start"]), max(actual["date"]))
    weeks, open_days = published_capacity(
        paths, scenario_id=scenario_id, resource_ids=resource_ids, window=window
    )
    if weeks.empty:
        return empty_accuracy()
    tz = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone or plant_timezone())
    chosen = choose_publications(weeks, tz)

    per_week = actual.groupby(["line_id", "week_start"]).agg(
        actual_units=("good_qty", "sum"),
        days_with_actuals=("date", "nunique"),
        dates=("date", lambda s: frozenset(s)),
    )
    frame = chosen.merge(per_week.reset_index(), on=["line_id", "week_start"], how="inner")
    if frame.empty:
        return empty_accuracy()
    shift_days = open_days.groupby(["publication_id", "line_id"])["date"].agg(frozenset)

    def complete(row: pd.Series) -> bool:
        if row["days_with_actuals"] >= 7:
            return True
        week = {row["week_start"] + dt.timedelta(days=i) for i in range(7)}
        shifts = shift_days.get((row["publication_id"], row["line_id"]), frozenset()) & week
        # a week without any shift day has nothing to judge; otherwise every shift day must be in
        return bool(shifts) and shifts <= row["dates"]

    frame = frame[frame.apply(complete, axis=1)]
    if frame.empty:
        return empty_accuracy()
    p50 = frame["published_p50"].astype(float)
    frame = frame.assign(
        scenario_id=scenario_id,
        actual_units=frame["actual_units"].astype(float),
        error_pct=np.where(p50 > 0, (frame["actual_units"] - p50) / p50.where(p50 > 0), np.nan),
        inside_band=(frame["published_p10"] <= frame["actual_units"])
        & (frame["actual_units"] <= frame["published_p90"]),
        days_with_actuals=frame["days_with_actuals"].astype(int),
    )
    return (
        frame[ACCURACY_COLUMNS]
        .sort_values(["site_id", "line_id", "week_start"])
        .reset_index(drop=True)
    )


def summary(accuracy: pd.DataFrame) -> dict[str, float | int | None]:
    """Mean absolute P50 error (share) and the share of line-weeks inside P10-P90."""
    if accuracy.empty:
        return {
            "line_weeks": 0,
            "mean_abs_error_pct": None,
            "band_coverage": None,
            "bias_pct": None,
        }
    errors = accuracy["error_pct"].astype(float).dropna()
    return {
        "line_weeks": len(accuracy),
        "mean_abs_error_pct": float(errors.abs().mean()) if len(errors) else None,
        "bias_pct": float(errors.mean()) if len(errors) else None,
        "band_coverage": float(accuracy["inside_band"].astype(bool).mean()),
    }


def to_contract_table(accuracy: pd.DataFrame) -> pa.Table:
    """The frame in the contract's column order and types; a required column with nulls raises."""
    contract = load_published_contract(CONTRACT)
    columns = contract["columns"]
    if list(accuracy.columns) != list(columns):
        raise ValueError(
            f"{CONTRACT}: columns {list(accuracy.columns)} != contract {list(columns)}"
        )
    schema = pa.schema([arrow_field(name, spec) for name, spec in columns.items()])
    nulls = [c for c, s in columns.items() if s.get("required") and accuracy[c].isna().any()]
    if nulls:
        raise ValueError(f"{CONTRACT}: nulls in required column(s) {nulls}")
    data = {c: accuracy[c].astype(object).where(accuracy[c].notna(), None) for c in columns}
    return pa.Table.from_pydict({c: list(v) for c, v in data.items()}, schema=schema)
