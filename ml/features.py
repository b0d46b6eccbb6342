"""The generic hourly feature frame: which columns are features, which rows are usable, labels.

Input contract (``marts.fct_machine_hourly_features`` or any frame shaped like it): one row per machine
per hour with ``machine_id``, ``as_of`` (naive UTC), numeric features computed from data at or before
``as_of``, and the label columns ``fails_within_72h``, ``next_failure_mode``, ``hours_to_next_failure``
(null = no failure seen later), ``hours_observed_after`` (censoring horizon) and ``in_repair``.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from ml.config import FailureModelConfig

REQUIRED_COLUMNS = ("machine_id", "as_of")


def feature_columns(frame: pd.DataFrame, config: FailureModelConfig) -> list[str]:
    """Every numeric (or boolean) column that is not an id, a label or explicitly excluded."""
    skip = {
        *config.id_columns,
        *config.label_columns,
        config.label_column,
        *config.exclude_features,
    }
    cols = [
        c
        for c in frame.columns
        if c not in skip
        and (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
    ]
    if not cols:
        raise ValueError("the frame has no numeric feature columns besides ids and labels")
    return cols


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate ids, sort by machine and time, and drop rows inside a repair."""
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"the feature frame lacks required columns {missing}")
    out = frame.copy()
    out["machine_id"] = out["machine_id"].astype(str)
    out["as_of"] = pd.to_datetime(out["as_of"])
    if getattr(out["as_of"].dt, "tz", None) is not None:
        out["as_of"] = out["as_of"].dt.tz_convert("UTC").dt.tz_localize(None)
    if "in_repair" in out.columns:
        out = out[~out["in_repair"].fillna(False).astype(bool)]
    return out.sort_values(["machine_id", "as_of"], kind="stable").reset_index(drop=True)


def label_known(frame: pd.DataFrame, config: FailureModelConfig) -> pd.Series:
    """Rows whose label is trustworthy.

    A negative row observed for less than the horizon afterwards is right-censored: a failure might
    still come in the unobserved part of its window, so it is neither a clean negative nor a positive.
    """
    y = frame[config.label_column].fillna(0).astype(bool)
    if "hours_observed_after" not in frame.columns:
        return pd.Series(True, index=frame.index)
    observed = frame["hours_observed_after"].astype(float).fillna(np.inf)
    return y | (observed >= config.horizon_h)


def build(frame: pd.DataFrame, config: FailureModelConfig) -> tuple[pd.DataFrame, pd.Series]:
    """Frame → (X, y) on usable, label-known rows. Pure: the input is not modified."""
    prepared = prepare(frame)
    prepared = prepared[label_known(prepared, config)]
    cols = feature_columns(prepared, config)
    X = prepared[cols].astype(float)
    y = prepared[config.label_column].fillna(0).astype(int)
    return X, y


def failure_events_from_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """Failure events implied by the labels: ``as_of + hours_to_next_failure``, one per distinct time.

    Used when no CMMS events frame is at hand (fallback MTBF, evaluation). Times are rounded to the
    minute so that the 72 rows pointing at the same failure collapse into one event.
    """
    cols = ["machine_id", "failure_start", "failure_mode"]
    if "hours_to_next_failure" not in frame.columns:
        return pd.DataFrame(columns=cols)
    rows = frame[frame["hours_to_next_failure"].notna()]
    start = pd.to_datetime(rows["as_of"]) + pd.to_timedelta(
        rows["hours_to_next_failure"].astype(float), unit="h"
    )
    mode = rows["next_failure_mode"] if "next_failure_mode" in rows.columns else None
    events = pd.DataFrame(
        {
            "machine_id": rows["machine_id"].astype(str).to_numpy(),
            "failure_start": start.dt.round("min").to_numpy(),
            "failure_mode": None if mode is None else mode.to_numpy(),
        }
    )
    events = events.drop_duplicates(["machine_id", "failure_start"])
    return events.sort_values(["failure_start", "machine_id"]).reset_index(drop=True)


def mark_precursors(events: pd.DataFrame, modes_without_precursor: Collection[str]) -> pd.DataFrame:
    """``events`` with ``had_precursor``: kept if given; else False for the declared modes.

    With no declaration every failure's precursor is unknown (NA) and counts as detectable.
    """
    if "had_precursor" in events.columns:
        return events
    if not modes_without_precursor or "failure_mode" not in events.columns:
        return events.assign(had_precursor=pd.NA)
    silent = events["failure_mode"].astype("string").isin(list(modes_without_precursor))
    return events.assign(had_precursor=(~silent.fillna(False)).astype(bool))


def count_failures(frame: pd.DataFrame, config: FailureModelConfig) -> int:
    """Distinct failures whose 72 h window has at least one positive row in ``frame``."""
    pos = frame[frame[config.label_column].fillna(0).astype(bool)]
    if pos.empty:
        return 0
    if "hours_to_next_failure" in pos.columns and pos["hours_to_next_failure"].notna().all():
        return len(failure_events_from_labels(pos))
    # Without hours-to-failure, a run of consecutive positive rows of a machine is one failure.
    gaps = pos.groupby("machine_id")["as_of"].diff() > pd.Timedelta(hours=config.horizon_h)
    first = pos["machine_id"].ne(pos["machine_id"].shift())
    return int((gaps | first).sum())
