import pandas as pd
import pytest
from pydantic import ValidationError

from ml.config import FailureModelConfig, SplitConfig
from ml.split import apply_split, assert_no_straddle, split_point, time_split


def test_no_label_window_straddles_train_and_test(synthetic, config) -> None:
    frame = synthetic[0]
    train, test, split = time_split(frame, config.split.test_fraction, config.gap_h)
    gap = (test["as_of"].min() - train["as_of"].max()) / pd.Timedelta(hours=1)
    # Rows are hourly, so the last train row is a full hour before train_end.
    assert gap >= config.horizon_h + 1
    assert train["as_of"].max() < split.train_end <= split.t_split - pd.Timedelta(hours=72)
    assert_no_straddle(train, test, config.horizon_h)


def test_no_train_label_ever_points_at_a_test_failure(synthetic, config) -> None:
    train, test, _ = time_split(synthetic[0], 0.25, config.gap_h)
    failure_times = train["as_of"] + pd.to_timedelta(train["hours_to_next_failure"], unit="h")
    positives = train["fails_within_72h"] == 1
    assert (failure_times[positives] < test["as_of"].min()).all()


def test_straddle_check_fails_on_a_too_short_gap(synthetic) -> None:
    frame = synthetic[0]
    split = split_point(frame, 0.25, gap_h=24)  # shorter than the 72 h horizon
    train, test = apply_split(frame, split)
    with pytest.raises(AssertionError, match="label window"):
        assert_no_straddle(train, test, horizon_h=72)


def test_config_refuses_a_gap_shorter_than_the_horizon() -> None:
    with pytest.raises(ValidationError, match="at least horizon_h"):
        FailureModelConfig(split=SplitConfig(gap_h=48))
    assert FailureModelConfig(split=SplitConfig(gap_h=96)).gap_h == 96


def test_a_frame_too_short_for_the_gap_is_refused_clearly(synthetic) -> None:
    short = synthetic[0].groupby("machine_id").head(60)
    with pytest.raises(ValueError, match="too short"):
        split_point(short, 0.25, gap_h=72)
