"""Why a machine is at risk: the signals behind its score, for the trained model and the fallback.

Each machine's latest row is compared with the machine's own *healthy baseline*: its rows whose label
is a known negative (no failure in the following 72 h, observed for at least 72 h afterwards, not in
repair). A feature's deviation is a robust z-score, ``(x - median) / (1.4826 * MAD)``, so one spike in
the baseline does not hide the next. Features are grouped by signal (``vibration_mean_24h`` and
``vibration_slope_72h`` are both ``vibration``): correlated statistics of one sensor are one reason.

* Trained model: a signal's *contribution* is how much ``p_failure_72h`` falls when that signal's
  features are put back to the machine's baseline medians (occlusion; model-agnostic, one batch of
  ``predict_risk`` calls). Signals are ranked by contribution; ones that deviate (|z| >= 3) without
  moving the score follow.
* Fallback: its score depends only on the age since renewal, so the age comes first (against the
  median life of its fleet or type), then the sensor signals that deviate most.
"""

from __future__ import annotations

import re

import pandas as pd

from ml.config import FailureModelConfig
from ml.features import feature_columns, prepare

DRIVER_COLUMNS = ["risk_drivers", "driver_1", "driver_2", "driver_3"]
TOP = 3
MIN_BASELINE_ROWS = 24  # a day of healthy hours; fewer and the machine borrows the fleet's baseline
# |z| below 3 is within the spread of a healthy machine: the baseline mixes running, idle and setup
# hours, and on the 90-day demo a threshold of 2 listed quiet nights (stddev -2.3σ) as drivers.
MIN_ABS_Z = 3.0
MIN_CONTRIBUTION = 0.01  # a signal that moves p_failure_72h by under a point explains nothing
MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation
# The feature mart names signal statistics <signal>_<stat>_<window>h (fct_machine_hourly_features);
# anything else (load_kw_24h, completeness_24h, hours_since_maintenance) is its own group.
_SIGNAL_STAT = re.compile(
    r"^(?P<signal>.+?)_(mean|stddev|slope|level_ratio|level_zscore|peak_ratio|peak_excess)_\d+h$"
)


def signal_of(feature: str) -> str | None:
    """The sensor signal a feature is a statistic of, or None for operating and data columns."""
    match = _SIGNAL_STAT.match(feature)
    return match.group("signal") if match else None


def _features(model, rows: pd.DataFrame) -> list[str]:
    names = getattr(model, "feature_names_", None)
    if names is not None:
        return [c for c in names if c in rows.columns]
    return feature_columns(rows, FailureModelConfig())


def _healthy(rows: pd.DataFrame, label: str, horizon_h: float) -> pd.Series:
    keep = pd.Series(True, index=rows.index)
    if label in rows.columns:
        keep &= ~rows[label].fillna(False).astype(bool)
    if "hours_observed_after" in rows.columns:
        keep &= rows["hours_observed_after"].astype(float).fillna(0.0) >= horizon_h
    else:  # without the censoring column, the last horizon of each machine is not yet known
        last = rows.groupby("machine_id")["as_of"].transform("max")
        keep &= rows["as_of"] <= last - pd.Timedelta(hours=horizon_h)
    return keep


def _center_scale(values: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    center = values.median()
    mad = (values - center).abs().median() * MAD_TO_SIGMA
    # A feature that is flat most of the time (MAD 0) still has a spread: use its standard deviation.
    scale = mad.where(mad > 0, values.std())
    return center, scale.where(scale > 0)


def healthy_baseline(
    rows: pd.DataFrame,
    features: list[str],
    *,
    label: str = "fails_within_72h",
    horizon_h: float = 72,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per machine (index) and feature (columns): the healthy median and robust scale."""
    healthy = rows[_healthy(rows, label, horizon_h)]
    fleet_center, fleet_scale = _center_scale(healthy[features].astype(float))
    centers, scales = {}, {}
    for machine in rows["machine_id"].unique():
        own = healthy.loc[healthy["machine_id"] == machine, features].astype(float)
        if len(own) >= MIN_BASELINE_ROWS:
            c, s = _center_scale(own)
            centers[machine], scales[machine] = c.fillna(fleet_center), s.fillna(fleet_scale)
        else:
            centers[machine], scales[machine] = fleet_center, fleet_scale
    return pd.DataFrame(centers).T, pd.DataFrame(scales).T


def _occlusion(
    model, latest: pd.DataFrame, center: pd.DataFrame, groups: dict[str, list[str]]
) -> pd.DataFrame:
    """Drop of p_failure_72h when each signal group is reset to the machine's baseline medians."""
    names = list(groups)
    copies = []
    for _, row in latest.iterrows():
        for name in names:
            c = row.copy()
            cols = groups[name]
            base = center.loc[row["machine_id"], cols]
            c[cols] = base.where(base.notna(), row[cols]).to_numpy()
            copies.append(c)
    frame = pd.DataFrame(copies).reset_index(drop=True)
    # prepare() sorts by (machine_id, as_of) stably; the copies are already in that order.
    p_occluded = model.predict_risk(frame)["p_failure_72h"].to_numpy().reshape(len(latest), -1)
    p_now = model.predict_risk(latest)["p_failure_72h"].to_numpy()[:, None]
    return pd.DataFrame(p_now - p_occluded, index=latest["machine_id"].to_numpy(), columns=names)


def _signal_drivers(z: pd.Series, contribution: pd.Series | None, groups: dict) -> list:
    """(feature, text) per group: contributors first (by contribution), then deviations (by |z|)."""
    picked = []
    for name, cols in groups.items():
        zs = z[cols].dropna()
        if zs.empty:
            continue
        feature = zs.abs().idxmax()
        c = float(contribution[name]) if contribution is not None else 0.0
        if c < MIN_CONTRIBUTION and abs(zs[feature]) < MIN_ABS_Z:
            continue
        value = float(zs[feature])
        # beyond 99σ the number only says how flat the baseline was
        text = (
            f"{feature} {value:+.1f}σ"
            if abs(value) < 99
            else f"{feature} {'>+' if value > 0 else '<-'}99σ"
        )
        if c >= MIN_CONTRIBUTION:
            text += f" (Δp {c:+.2f})"
        picked.append((c >= MIN_CONTRIBUTION, c, abs(zs[feature]), feature, text))
    picked.sort(key=lambda d: (d[0], d[1] if d[0] else d[2]), reverse=True)
    return [(d[3], d[4]) for d in picked]


def risk_drivers(
    frame: pd.DataFrame, latest: pd.DataFrame, model, *, top: int = TOP
) -> pd.DataFrame:
    """One row per machine of ``latest``: ``risk_drivers`` (text) and ``driver_1..3`` (features).

    ``frame`` is the history the baselines come from, ``latest`` the rows that were scored.
    """
    rows, latest = prepare(frame), prepare(latest)
    features = _features(model, rows)
    center, scale = healthy_baseline(rows, features)
    values = latest.set_index("machine_id")[features].astype(float)
    z = (values - center.reindex(values.index)) / scale.reindex(values.index)
    is_fallback = hasattr(model, "age_context")
    groups: dict[str, list[str]] = {}
    for f in features:
        signal = signal_of(f)
        if signal is not None or not is_fallback:  # the fallback's own input is the age
            groups.setdefault(signal or f, []).append(f)
    contribution = None if is_fallback else _occlusion(model, latest, center, groups)
    age = model.age_context(latest) if is_fallback else None
    out = []
    for machine in values.index:
        drivers = []
        if age is not None:
            a = age.loc[machine]
            drivers.append(
                (
                    "age_since_renewal_h",
                    f"age {a['age_h']:.0f} h since "
                    f"{'renewal' if a['renewed'] else 'first data (no renewal recorded)'} "
                    f"({a['age_h'] / a['median_life_h']:.1f}× median life {a['median_life_h']:.0f} h)",
                )
            )
        c = None if contribution is None else contribution.loc[machine]
        drivers += _signal_drivers(z.loc[machine], c, groups)
        drivers = drivers[: min(top, TOP)]
        names = [d[0] for d in drivers] + [None] * (TOP - len(drivers))
        text = "; ".join(d[1] for d in drivers) or (
            f"no signal outside ±{MIN_ABS_Z:.0f}σ of its healthy baseline"
        )
        out.append(
            {
                "machine_id": machine,
                "risk_drivers": text,
                **{f"driver_{i + 1}": names[i] for i in range(TOP)},
            }
        )
    return pd.DataFrame(out, columns=["machine_id", *DRIVER_COLUMNS])
