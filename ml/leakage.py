"""Future-leakage checks for the feature frame: they can fail, and say which column and why.

Features must use data at or before ``as_of`` only. Three complementary checks:

1. ``mirrors_label``: a feature that is nearly a function of a label (|Spearman rho| >= 0.98 with
   ``hours_to_next_failure`` or with the 72 h label) was computed from the future. Real degradation
   signals correlate with time-to-failure, but noise keeps them far below 0.98.
2. ``label_boundary``: the label flips exactly ``horizon`` hours before a failure. A causal feature has no
   reason to jump there: the boundary is just a point on its degradation trend. For every failure, the
   largest hour-to-hour change of the feature within +-6 h of the boundary is ranked against the same
   statistic at six placebo points (boundary +-18/30/42 h). Under no leakage the boundary is the largest
   in about 1/7 of failures or fewer (trends make placebos nearer the failure larger); a label-derived
   column (the label, shifted by up to 6 h, or added to a real signal) is the largest in most of them.
3. ``check_truncation_invariance``: the decisive test when the feature code can be re-run: features of
   rows at or before a cutoff must not change when the raw data after the cutoff is removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import binomtest, spearmanr

from ml.config import FailureModelConfig
from ml.features import failure_events_from_labels, feature_columns, prepare

BAND_H = 6.0
PLACEBO_OFFSETS_H = (-42.0, -30.0, -18.0, 18.0, 30.0, 42.0)
MIRROR_RHO = 0.98
# Flag when the boundary wins in at least 35 % of failures and a binomial test against the 1/7 of an
# exchangeable position rejects at 0.1 %: 5 of 5 failures flag (p = 6e-5), 4 of 5 do not (p = 0.002).
BOUNDARY_SHARE = 0.35
BOUNDARY_ALPHA = 1e-3


@dataclass
class LeakageReport:
    """Columns suspected of using the future, with the evidence for each."""

    leaky: dict[str, str] = field(default_factory=dict)
    boundary_share: dict[str, float] = field(default_factory=dict)
    n_failures_checked: int = 0

    @property
    def passed(self) -> bool:
        return not self.leaky


def _boundary_wins(
    rows: pd.DataFrame, events: pd.DataFrame, col: str, horizon_h: float
) -> tuple[int, int]:
    """(failures where the feature's biggest step sits at the label boundary, failures checked)."""
    centres = [horizon_h, *(horizon_h + o for o in PLACEBO_OFFSETS_H)]
    reach = max(centres) + BAND_H + 1
    by_machine = dict(tuple(rows.groupby("machine_id", sort=False)))
    wins, checked = 0, 0
    for machine, start in zip(events["machine_id"], events["failure_start"], strict=True):
        g = by_machine.get(machine)
        if g is None:
            continue
        r = (start - g["as_of"]) / pd.Timedelta(hours=1)
        w = g[(r > 0) & (r <= reach)]
        if len(w) < 10:
            continue
        r_w = ((start - w["as_of"]) / pd.Timedelta(hours=1)).to_numpy()
        steps = np.abs(np.diff(w[col].to_numpy(dtype=float)))
        r_steps = r_w[1:]  # the step into a row is filed under that row's hours-to-failure
        stats = []
        for c in centres:
            band = steps[(r_steps >= c - BAND_H) & (r_steps <= c + BAND_H)]
            band = band[~np.isnan(band)]
            stats.append(band.max() if len(band) else np.nan)
        placebo = np.array(stats[1:])
        if np.isnan(stats[0]) or np.sum(~np.isnan(placebo)) < 3:
            continue
        checked += 1
        wins += stats[0] > np.nanmax(placebo)
    return int(wins), checked


def check_no_future_leakage(
    frame: pd.DataFrame, config: FailureModelConfig, feature_cols: list[str] | None = None
) -> LeakageReport:
    """Run the label-mirror and label-boundary checks on every feature column."""
    rows = prepare(frame)
    cols = feature_cols or feature_columns(rows, config)
    events = failure_events_from_labels(rows)
    events = events[events["failure_start"].notna()]
    report = LeakageReport(n_failures_checked=len(events))
    targets = {
        name: rows[name].astype(float)
        for name in ("hours_to_next_failure", config.label_column)
        if name in rows.columns
    }
    for col in cols:
        x = rows[col].astype(float)
        for name, target in targets.items():
            ok = x.notna() & target.notna()
            if ok.sum() > 20 and x[ok].nunique() > 1 and target[ok].nunique() > 1:
                rho = float(spearmanr(x[ok], target[ok]).statistic)
                if abs(rho) >= MIRROR_RHO:
                    report.leaky[col] = f"mirrors {name} (|Spearman rho| = {abs(rho):.3f})"
                    break
        if col in report.leaky or len(events) < 3:
            continue
        wins, checked = _boundary_wins(rows, events, col, config.horizon_h)
        if not checked:
            continue
        share = wins / checked
        report.boundary_share[col] = share
        p_value = binomtest(wins, checked, 1 / (1 + len(PLACEBO_OFFSETS_H)), "greater").pvalue
        if share >= BOUNDARY_SHARE and p_value < BOUNDARY_ALPHA:
            report.leaky[col] = (
                f"jumps at the {config.horizon_h:g} h label boundary before {wins} of {checked} "
                f"failures (binomial p = {p_value:.1e}; a causal feature does so before about 1/7)"
            )
    return report


def check_truncation_invariance(
    full: pd.DataFrame,
    truncated: pd.DataFrame,
    cutoff: pd.Timestamp,
    feature_cols: list[str],
    *,
    rtol: float = 1e-9,
    atol: float = 1e-9,
) -> dict[str, int]:
    """Compare features built from all data with features built from data up to ``cutoff``.

    Returns ``{column: number of rows at or before the cutoff whose value differs}``, empty when the
    features are causal. Both frames need ``machine_id`` and ``as_of``.
    """
    key = ["machine_id", "as_of"]
    a = full[pd.to_datetime(full["as_of"]) <= cutoff].set_index(key).sort_index()
    b = truncated[pd.to_datetime(truncated["as_of"]) <= cutoff].set_index(key).sort_index()
    a, b = a.align(b, join="inner", axis=0)
    diffs = {}
    for col in feature_cols:
        x, y = a[col].to_numpy(dtype=float), b[col].to_numpy(dtype=float)
        same = np.isclose(x, y, rtol=rtol, atol=atol) | (np.isnan(x) & np.isnan(y))
        if (~same).any():
            diffs[col] = int((~same).sum())
    return diffs
