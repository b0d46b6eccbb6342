"""Time-based split with a gap of at least the label horizon.

Train rows have ``as_of < t_split - gap``, test rows ``as_of >= t_split``. A train row's label looks at
most ``horizon`` hours ahead, so with ``gap >= horizon`` no label window of a train row reaches into the
test period: the model never sees a test failure through a label. The same function cuts the training
period into a fit part and a validation slice (for calibration and the alarm threshold).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class TimeSplit:
    """Where a frame was cut; every boundary is a naive UTC timestamp."""

    start: pd.Timestamp
    train_end: pd.Timestamp  # exclusive: train rows are strictly before it
    t_split: pd.Timestamp  # inclusive: test rows are at or after it
    end: pd.Timestamp
    gap_h: float

    def as_dict(self) -> dict[str, str | float]:
        return {
            "start": self.start.isoformat(),
            "train_end": self.train_end.isoformat(),
            "t_split": self.t_split.isoformat(),
            "end": self.end.isoformat(),
            "gap_h": self.gap_h,
        }


def split_point(frame: pd.DataFrame, test_fraction: float, gap_h: float) -> TimeSplit:
    """Choose ``t_split`` so that about ``test_fraction`` of the time span is test, on an hour boundary."""
    if frame.empty:
        raise ValueError("cannot split an empty frame")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    as_of = pd.to_datetime(frame["as_of"])
    start, end = as_of.min(), as_of.max()
    t_split = (end - (end - start) * test_fraction).ceil("h")
    train_end = t_split - pd.Timedelta(hours=gap_h)
    if train_end <= start:
        raise ValueError(
            f"the frame spans {(end - start) / pd.Timedelta(hours=1):.0f} h: too short for a "
            f"{gap_h:.0f} h gap and a {test_fraction:.0%} test period"
        )
    return TimeSplit(start=start, train_end=train_end, t_split=t_split, end=end, gap_h=gap_h)


def apply_split(frame: pd.DataFrame, split: TimeSplit) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows before ``train_end`` and rows at or after ``t_split``; the gap rows are dropped."""
    as_of = pd.to_datetime(frame["as_of"])
    return frame[as_of < split.train_end], frame[as_of >= split.t_split]


def time_split(
    frame: pd.DataFrame, test_fraction: float, gap_h: float
) -> tuple[pd.DataFrame, pd.DataFrame, TimeSplit]:
    split = split_point(frame, test_fraction, gap_h)
    train, test = apply_split(frame, split)
    return train, test, split


def assert_no_straddle(train: pd.DataFrame, test: pd.DataFrame, horizon_h: float) -> None:
    """Raise if a train row's label window ``(as_of, as_of + horizon]`` reaches the first test row."""
    if train.empty or test.empty:
        return
    last_window_end = pd.to_datetime(train["as_of"]).max() + pd.Timedelta(hours=horizon_h)
    first_test = pd.to_datetime(test["as_of"]).min()
    if last_window_end >= first_test:
        raise AssertionError(
            f"train label window ends {last_window_end}, at or after the first test row {first_test}"
        )
