import math

import numpy as np
import pandas as pd
import pytest

from ml import evaluate
from ml.config import PromotionFloors
from ml.metrics import alarm_episodes, detect_events, event_window_scores

T0 = pd.Timestamp("2026-03-01")


def _scored(p: list[float], y: list[int], machine: str = "A") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "machine_id": machine,
            "as_of": T0 + pd.to_timedelta(range(len(p)), unit="h"),
            "p": p,
            "y": y,
        }
    )


def test_event_recall_and_lead_time_by_hand() -> None:
    # 10 hourly rows, failure at hour 10, horizon 4 h: window rows are hours 6..9.
    scored = _scored([0, 0, 0.9, 0, 0, 0, 0.2, 0.7, 0.8, 0.1], [0] * 6 + [1] * 4)
    events = pd.DataFrame({"machine_id": ["A"], "failure_start": [T0 + pd.Timedelta(hours=10)]})
    windows = event_window_scores(scored, events, horizon_h=4)
    assert windows.loc[0, "n_window_rows"] == 4
    hit = detect_events(windows, threshold=0.5)
    assert bool(hit.loc[0, "detected"])
    assert hit.loc[0, "lead_time_h"] == 3  # first alarm at hour 7
    assert not bool(detect_events(windows, threshold=0.95).loc[0, "detected"])


def test_alarm_episodes_merge_short_gaps_and_split_long_ones() -> None:
    p = [0.9, 0.9, 0, 0.9] + [0] * 10 + [0.9, 0.9]
    y = [0] * 14 + [1, 1]
    episodes = alarm_episodes(_scored(p, y), threshold=0.5, gap_h=2)
    assert len(episodes) == 2  # hours 0-3 (gap of 1 h merged) and hours 14-15
    assert episodes["true"].tolist() == [False, True]


def test_an_alarm_that_is_always_on_is_one_work_request_per_horizon_not_one_per_machine() -> None:
    # Regression: with one episode per uninterrupted alarm, an alarm left on for the whole held-out
    # period was a single "true" episode (it ends before a failure), so episode precision was 1.0
    # for a model that says nothing; the threshold policy then chose exactly that.
    p = [1.0] * 200
    y = [0] * 150 + [1] * 50  # a failure at hour 200, horizon 50 h
    episodes = alarm_episodes(_scored(p, y), threshold=0.5, gap_h=6, max_h=50)
    assert len(episodes) == 4
    assert episodes["n_rows"].tolist() == [50, 50, 50, 50]
    assert episodes["true"].tolist() == [False, False, False, True]
    # a short alarm before the failure is unaffected
    short = alarm_episodes(_scored([0.0] * 170 + [1.0] * 30, y), threshold=0.5, gap_h=6, max_h=50)
    assert short["true"].tolist() == [True]
    assert short["n_rows"].tolist() == [30]


def test_score_reports_every_metric_and_separates_failures_without_precursor(
    trained, synthetic, config
) -> None:
    ev = evaluate.score(trained.model, trained.test, config, events=synthetic[1])
    m = ev.metrics
    for key in (
        "event_recall",
        "event_recall_all",
        "row_precision",
        "episode_precision",
        "pr_auc",
        "mean_lead_time_h",
        "false_alarms_per_machine_week",
        "brier",
        "ece",
    ):
        assert not math.isnan(m[key]), key
    assert m["n_test_failures"] >= 10
    assert m["n_test_failures_no_precursor"] >= 1
    detectable = ev.events[ev.events["had_precursor"].astype(bool)]
    assert m["event_recall"] == pytest.approx(detectable["detected"].mean())
    assert 0 < m["mean_lead_time_h"] <= config.horizon_h
    assert set(ev.per_mode["failure_mode"]) == {"wear", "overheat"}
    # The synthetic degradation is clear: the model must clear the default floors.
    assert m["event_recall"] >= 0.8
    assert m["episode_precision"] >= 0.5
    assert m["ece"] < 0.1
    ok, reasons = evaluate.should_promote(m, None, config.floors)
    assert ok, reasons


def test_failures_from_labels_match_the_cmms_events(trained, synthetic, config) -> None:
    with_events = evaluate.score(trained.model, trained.test, config, events=synthetic[1])
    from_labels = evaluate.score(trained.model, trained.test, config)
    assert from_labels.metrics["n_test_failures"] == with_events.metrics["n_test_failures"]
    assert from_labels.metrics["event_recall_all"] == with_events.metrics["event_recall_all"]


GOOD = {
    "n_test_failures": 12,
    "event_recall": 0.9,
    "episode_precision": 0.7,
    "ece": 0.03,
    "pr_auc": 0.8,
}


def test_gate_promotes_a_good_first_model() -> None:
    ok, reasons = evaluate.should_promote(GOOD, None, PromotionFloors())
    assert ok
    assert "no champion yet" in reasons


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"event_recall": 0.7}, "event_recall"),
        ({"episode_precision": 0.4}, "episode_precision"),
        ({"n_test_failures": 2}, "test failures"),
        ({"event_recall": float("nan")}, "event_recall"),
    ],
)
def test_gate_refuses_below_the_floors(change, why) -> None:
    ok, reasons = evaluate.should_promote(GOOD | change, None, PromotionFloors())
    assert not ok
    assert len(reasons) == 1
    assert reasons[0].startswith(why)


def test_calibration_gates_only_when_configured() -> None:
    # The default floors are event recall and precision; an ECE floor is opt-in.
    assert evaluate.should_promote(GOOD | {"ece": 0.2}, None, PromotionFloors())[0]
    ok, reasons = evaluate.should_promote(GOOD | {"ece": 0.2}, None, PromotionFloors(max_ece=0.1))
    assert not ok
    assert reasons == ["ece 0.200 <= 0.1"]


def test_gate_refuses_a_challenger_worse_than_the_champion() -> None:
    champion = GOOD | {"pr_auc": 0.9}
    ok, reasons = evaluate.should_promote(GOOD, champion, PromotionFloors(tolerance=0.02))
    assert not ok
    assert reasons == ["pr_auc 0.800 >= champion 0.900 - tolerance 0.02"]
    # Within tolerance it passes: noise on the same held-out data is not a regression.
    ok, _ = evaluate.should_promote(GOOD, GOOD | {"pr_auc": 0.81}, PromotionFloors(tolerance=0.02))
    assert ok


def test_floors_are_configurable() -> None:
    strict = PromotionFloors(min_event_recall=0.95, precision_metric="row_precision")
    ok, reasons = evaluate.should_promote(GOOD | {"row_precision": 0.9}, None, strict)
    assert not ok
    assert reasons == ["event_recall 0.900 >= 0.95"]


def test_feature_importance_ranks_the_degrading_signals_first(trained, config) -> None:
    imp = evaluate.feature_importance(trained.model, trained.test, config, max_rows=2000)
    assert set(imp["feature"].head(3)) >= {"a_mean_12h", "b_mean_12h"}
    assert np.isfinite(imp["importance"]).all()


def test_failures_of_a_mode_declared_without_precursor_are_reported_apart(trained, config) -> None:
    # The plant model's FMEA declaration (failure_modes: precursor false) reaches the evaluation
    # as a set of modes; without it every failure counts against recall, as before.
    plain = evaluate.score(trained.model, trained.test, config)
    declared = evaluate.score(
        trained.model, trained.test, config, modes_without_precursor={"overheat"}
    )
    events = declared.events
    overheat = events["failure_mode"] == "overheat"
    assert overheat.any()
    assert (~overheat).any()
    assert plain.metrics["n_test_failures_no_precursor"] == 0
    assert declared.metrics["n_test_failures_no_precursor"] == overheat.sum()
    assert declared.metrics["event_recall"] == pytest.approx(
        events.loc[~overheat, "detected"].mean()
    )
    assert declared.metrics["event_recall_all"] == plain.metrics["event_recall_all"]
    assert declared.metrics["no_precursor_detected"] == events.loc[overheat, "detected"].sum()
