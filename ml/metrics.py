"""Alarm metrics for failure prediction, pure functions on a scored frame.

Definitions (an *alarm* is a row whose calibrated ``p`` is at or above the threshold):

* **event recall**: share of failures with at least one alarm among the machine's rows with ``as_of`` in
  ``[failure_start - horizon, failure_start)``, i.e. the rows whose label is positive because of it.
* **lead time**: hours from the first alarm in that window to ``failure_start`` (at most the horizon).
* **row precision**: share of alarm rows whose label is positive.
* **alarm episode**: consecutive alarm rows of one machine, merging gaps up to ``episode_gap_h``; one
  episode is one work request for a maintenance planner. A request stays open for at most the horizon:
  an alarm still on after that is a new episode (``max_h``). It is *true* when its first row has a
  positive label, i.e. a failure followed within the horizon of the request being raised; otherwise it
  is a *false alarm*. (Judged by any row instead, an alarm left on all the time was one or two true
  episodes per failure, and scored an episode precision above 0.5 on the virtual plant while saying
  nothing: row precision equal to the base rate.)
* **episode precision**: true episodes / all episodes.
* **false alarms per machine-week**: false episodes / (scored machine-hours / 168).
* **ECE**: expected calibration error, ``sum_b n_b/N * |mean(p)_b - mean(y)_b|`` over 10 equal-width bins.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HOURS_PER_WEEK = 168.0


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    if len(y) == 0:
        return float("nan")
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    sum_p = np.bincount(bins, weights=p, minlength=n_bins)
    sum_y = np.bincount(bins, weights=y, minlength=n_bins)
    nonempty = counts > 0
    gap = np.abs(sum_p[nonempty] - sum_y[nonempty]) / counts[nonempty]
    return float(np.sum(gap * counts[nonempty]) / len(y))


def event_window_scores(
    scored: pd.DataFrame, events: pd.DataFrame, horizon_h: float
) -> pd.DataFrame:
    """Per failure: the rows in its window, the highest ``p`` there, and the times of those rows.

    ``scored`` needs ``machine_id``, ``as_of``, ``p``; ``events`` needs ``machine_id``, ``failure_start``.
    Returns the events with ``n_window_rows``, ``max_p`` (NaN when no row was scored in the window) and
    ``window_times``/``window_p`` (arrays, for lead times at any threshold).
    """
    out = events.copy().reset_index(drop=True)
    horizon = pd.Timedelta(hours=horizon_h)
    by_machine = {
        m: (g["as_of"].to_numpy(dtype="datetime64[ns]"), g["p"].to_numpy(dtype=float))
        for m, g in scored.sort_values("as_of").groupby("machine_id", sort=False)
    }
    n_rows, max_p, times, probs = [], [], [], []
    for machine, start in zip(out["machine_id"], pd.to_datetime(out["failure_start"]), strict=True):
        t, p = by_machine.get(machine, (np.array([], dtype="datetime64[ns]"), np.array([])))
        lo = np.searchsorted(t, np.datetime64(start - horizon), side="left")
        hi = np.searchsorted(t, np.datetime64(start), side="left")
        n_rows.append(hi - lo)
        max_p.append(float(p[lo:hi].max()) if hi > lo else float("nan"))
        times.append(t[lo:hi])
        probs.append(p[lo:hi])
    out["n_window_rows"] = n_rows
    out["max_p"] = max_p
    out["window_times"] = times
    out["window_p"] = probs
    return out


def detect_events(windows: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Detected flag and lead time (hours) per failure at a threshold."""
    out = windows.drop(columns=["window_times", "window_p"]).copy()
    detected, lead = [], []
    for start, t, p in zip(
        pd.to_datetime(windows["failure_start"]),
        windows["window_times"],
        windows["window_p"],
        strict=True,
    ):
        hits = np.flatnonzero(p >= threshold)
        detected.append(len(hits) > 0)
        lead.append(
            (np.datetime64(start) - t[hits[0]]) / np.timedelta64(1, "h") if len(hits) else np.nan
        )
    out["detected"] = detected
    out["lead_time_h"] = lead
    return out


def alarm_episodes(
    scored: pd.DataFrame, threshold: float, gap_h: float, max_h: float | None = None
) -> pd.DataFrame:
    """Alarm episodes: ``machine_id``, ``start``, ``end``, ``n_rows``, ``true`` (see module docstring).

    ``max_h``: an episode longer than this is cut into consecutive episodes of at most ``max_h``.
    """
    alarms = scored[scored["p"] >= threshold].sort_values(["machine_id", "as_of"])
    cols = ["machine_id", "start", "end", "n_rows", "true"]
    if alarms.empty:
        return pd.DataFrame(columns=cols)
    new_machine = alarms["machine_id"].ne(alarms["machine_id"].shift())
    gap = alarms["as_of"].diff() > pd.Timedelta(hours=gap_h) + pd.Timedelta(hours=1)
    episode = (new_machine | gap).cumsum().to_numpy()
    if max_h is not None:
        as_of = alarms["as_of"].to_numpy(dtype="datetime64[ns]")
        first = pd.Series(as_of).groupby(episode).transform("min").to_numpy()
        chunk = ((as_of - first) / np.timedelta64(1, "h") // max_h).astype(np.int64)
        episode = pd.factorize(pd.MultiIndex.from_arrays([episode, chunk]))[0]
    grouped = alarms.groupby(episode)
    out = pd.DataFrame(
        {
            "machine_id": grouped["machine_id"].first(),
            "start": grouped["as_of"].min(),
            "end": grouped["as_of"].max(),
            "n_rows": grouped.size(),
            "true": grouped["y"].first().astype(bool),
        }
    )
    return out.reset_index(drop=True)


def machine_weeks(scored: pd.DataFrame) -> float:
    """Scored exposure in machine-weeks, counting each row as one hour (the frame's grain)."""
    return len(scored) / HOURS_PER_WEEK


def threshold_curve(
    scored: pd.DataFrame,
    windows: pd.DataFrame,
    thresholds: np.ndarray,
    gap_h: float,
    max_h: float | None = None,
) -> pd.DataFrame:
    """Event recall, episode and row precision for each candidate threshold."""
    max_p = windows["max_p"].to_numpy(dtype=float)
    has_rows = ~np.isnan(max_p)
    n_events = max(int(has_rows.sum()), 1)
    p, y = scored["p"].to_numpy(dtype=float), scored["y"].to_numpy(dtype=bool)
    rows = []
    for thr in thresholds:
        alarm = p >= thr
        episodes = alarm_episodes(scored, thr, gap_h, max_h)
        n_ep = len(episodes)
        rows.append(
            {
                "threshold": float(thr),
                "event_recall": float(np.sum(max_p[has_rows] >= thr) / n_events),
                "episode_precision": float(episodes["true"].mean()) if n_ep else np.nan,
                "row_precision": float(y[alarm].mean()) if alarm.any() else np.nan,
                "n_episodes": n_ep,
            }
        )
    return pd.DataFrame(rows)
