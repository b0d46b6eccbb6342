"""Promotion and review rules against a real MLflow store (the session's SQLite under tmp), no Dagster.

Each test registers versions of the session's trained model under its own registered-model name, tags
them with the gate's real verdict (``should_promote`` on the real held-out metrics), and checks where the
aliases end up.
"""

import uuid

import pytest

from ml import evaluate, pipeline
from ml.config import FailureModelConfig, PromotionFloors
from ml.promotion import (
    apply_review,
    may_become_champion,
    promote_challenger,
    promotion_outcome,
    review_decisions_to_apply,
    unrecognised_review_values,
)
from ml.registry import (
    CHALLENGER,
    CHAMPION,
    GATE_CHAMPION_TAG,
    GATE_NO_CHAMPION,
    GATE_PASSED,
    GATE_REFUSED,
    GATE_TAG,
    REVIEW_APPLIED_TAG,
    REVIEW_APPROVED,
    REVIEW_OUTCOME_TAG,
    REVIEW_PENDING,
    REVIEW_REJECTED,
    REVIEW_TAG,
    REVIEWER_TAG,
    FailureModelRegistry,
    gate_tag,
)

# Floors nothing on the synthetic plant can clear: the gate refuses.
IMPOSSIBLE = PromotionFloors(min_test_failures=10_000)


@pytest.fixture
def registry(tracking_uri) -> FailureModelRegistry:
    """An empty registered model of its own in the session's tracking store."""
    return FailureModelRegistry(tracking_uri, model_name=f"rules_{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="module")
def metrics(trained, config) -> dict[str, float]:
    return evaluate.score(trained.model, trained.test, config).metrics


@pytest.fixture
def register(registry, trained, metrics, config):
    """Register a challenger judged by the gate with ``floors``, as ``pipeline.retrain`` does."""

    def _register(floors: PromotionFloors = config.floors, change: dict | None = None) -> str:
        """``change`` shifts held-out metrics (the version then scored that much differently)."""
        scored = {k: v + (change or {}).get(k, 0.0) for k, v in metrics.items()}
        gate = evaluate.should_promote(scored, None, floors)
        version = registry.register_challenger(
            trained.model,
            metrics=scored,
            params=config.model_dump(),
            data_window=trained.split.as_dict(),
            dagster_run_id="rules",
            input_frame=trained.test,
            gate=gate,
        )
        registry.record_gate(version, gate[0])
        return version

    return _register


def test_names_stored_in_existing_registries_do_not_change() -> None:
    assert (CHAMPION, CHALLENGER) == ("champion", "challenger")
    assert (GATE_TAG, GATE_PASSED, GATE_REFUSED) == ("gate", "passed", "refused")
    assert (REVIEW_TAG, REVIEW_PENDING, REVIEW_APPROVED, REVIEW_REJECTED) == (
        "review",
        "pending",
        "approved",
        "rejected",
    )
    assert (REVIEWER_TAG, REVIEW_APPLIED_TAG) == ("reviewer", "review_applied")
    assert (gate_tag(True), gate_tag(False)) == (GATE_PASSED, GATE_REFUSED)


@pytest.mark.parametrize(
    ("tags", "review_required", "allowed"),
    [
        ({GATE_TAG: GATE_PASSED, REVIEW_TAG: REVIEW_PENDING}, False, True),
        ({GATE_TAG: GATE_PASSED, REVIEW_TAG: REVIEW_PENDING}, True, False),
        ({GATE_TAG: GATE_PASSED, REVIEW_TAG: REVIEW_APPROVED}, True, True),
        ({GATE_TAG: GATE_PASSED, REVIEW_TAG: REVIEW_REJECTED}, True, False),
        ({GATE_TAG: GATE_REFUSED, REVIEW_TAG: REVIEW_APPROVED}, True, False),
        ({GATE_TAG: GATE_REFUSED, REVIEW_TAG: REVIEW_APPROVED}, False, False),
        ({REVIEW_TAG: REVIEW_APPROVED}, False, False),  # never judged by the gate
    ],
)
def test_who_may_become_champion(tags, review_required, allowed) -> None:
    assert may_become_champion(tags, review_required=review_required) is allowed


def test_without_a_challenger_nothing_is_promoted(registry) -> None:
    outcome = promote_challenger(registry, review_required=False)
    assert outcome.kind == "no_challenger"
    assert not outcome.promoted
    assert outcome.version is None
    assert registry.champion_version() is None


def test_a_version_that_passes_the_gate_becomes_champion(registry, register, trained) -> None:
    version = register()
    assert registry.version_tags(version)[GATE_TAG] == GATE_PASSED
    outcome = promote_challenger(registry, review_required=False)
    assert outcome.promoted
    assert outcome.version == version
    assert outcome.description == "promoted"
    assert registry.champion_version() == version
    model, loaded = registry.load_champion()
    assert loaded == version
    assert model.predict_risk(trained.test).equals(trained.model.predict_risk(trained.test))


def test_a_version_that_fails_the_gate_does_not_become_champion(registry, register) -> None:
    version = register(IMPOSSIBLE)
    assert registry.version_tags(version)[GATE_TAG] == GATE_REFUSED
    for review_required in (False, True):
        outcome = promote_challenger(registry, review_required=review_required)
        assert outcome.kind == "gate_refused"
        assert outcome.description == f"none: challenger v{version} did not pass the gate"
    assert registry.champion_version() is None
    assert registry.challenger_version() == version


def test_a_refused_challenger_leaves_the_champion_in_place(registry, register) -> None:
    first = register()
    promote_challenger(registry, review_required=False)
    second = register(IMPOSSIBLE)
    assert registry.challenger_version() == second
    assert promote_challenger(registry, review_required=False).kind == "gate_refused"
    assert registry.champion_version() == first


def test_a_newer_passing_challenger_replaces_the_champion(registry, register) -> None:
    register()
    promote_challenger(registry, review_required=False)
    second = register()
    assert promote_challenger(registry, review_required=False).promoted
    assert registry.champion_version() == second


def test_with_review_required_a_passing_version_waits_until_approved(registry, register) -> None:
    version = register()
    assert registry.versions_awaiting_review() == [version]
    outcome = promote_challenger(registry, review_required=True)
    assert outcome.kind == "awaiting_review"
    assert (
        outcome.description
        == f"awaiting review: tag v{version} {REVIEW_TAG}={REVIEW_APPROVED} in MLflow"
    )
    assert registry.champion_version() is None
    assert review_decisions_to_apply(registry) == []  # nothing for the sensor to do yet

    registry.set_review(version, REVIEW_APPROVED, reviewer="maintenance.lead")
    assert registry.versions_awaiting_review() == []
    assert review_decisions_to_apply(registry) == [(version, REVIEW_APPROVED)]
    assert apply_review(registry, version, REVIEW_APPROVED) == "promoted"
    assert registry.champion_version() == version
    assert registry.version_tags(version)[REVIEW_APPLIED_TAG] == REVIEW_APPROVED
    assert review_decisions_to_apply(registry) == []  # acted on once
    assert promotion_outcome(registry, review_required=True).promoted


def test_a_rejected_version_never_becomes_champion(registry, register) -> None:
    version = register()
    registry.set_review(version, REVIEW_REJECTED)
    assert promote_challenger(registry, review_required=True).kind == "awaiting_review"
    assert registry.champion_version() is None

    assert review_decisions_to_apply(registry) == [(version, REVIEW_REJECTED)]
    assert apply_review(registry, version, REVIEW_REJECTED) == "challenger_retired"
    assert registry.challenger_version() is None
    assert registry.champion_version() is None
    assert registry.version_tags(version)[REVIEW_APPLIED_TAG] == REVIEW_REJECTED
    assert review_decisions_to_apply(registry) == []
    assert promote_challenger(registry, review_required=True).kind == "no_challenger"
    assert registry.champion_version() is None


def test_an_approval_cannot_override_the_gate(registry, register) -> None:
    version = register(IMPOSSIBLE)
    registry.set_review(version, REVIEW_APPROVED)
    assert review_decisions_to_apply(registry) == []
    assert promote_challenger(registry, review_required=True).kind == "gate_refused"
    assert registry.champion_version() is None


def test_rejecting_an_older_version_keeps_the_current_challenger(registry, register) -> None:
    first = register()
    second = register()
    registry.set_review(first, REVIEW_REJECTED)
    assert review_decisions_to_apply(registry) == [(first, REVIEW_REJECTED)]
    assert apply_review(registry, first, REVIEW_REJECTED) == "recorded"
    assert registry.challenger_version() == second
    assert registry.version_tags(first)[REVIEW_APPLIED_TAG] == REVIEW_REJECTED
    assert registry.versions_awaiting_review() == [second]


def test_only_decided_unapplied_versions_are_acted_on(registry, register) -> None:
    pending = register()
    approved = register()
    rejected = register()
    registry.set_review(approved, REVIEW_APPROVED)
    registry.set_review(rejected, REVIEW_REJECTED)
    decisions = review_decisions_to_apply(registry)
    assert sorted(decisions) == sorted([(approved, REVIEW_APPROVED), (rejected, REVIEW_REJECTED)])
    assert pending not in {v for v, _ in decisions}
    apply_review(registry, rejected, REVIEW_REJECTED)
    assert review_decisions_to_apply(registry) == [(approved, REVIEW_APPROVED)]


def test_retrain_records_the_gate_verdict_that_promotion_reads(registry, frame_factory) -> None:
    frame, _ = frame_factory(n_machines=8, days=90, seed=1)
    strict = FailureModelConfig().with_floor_overrides(min_test_failures=10_000)
    refused = pipeline.retrain(frame, registry, strict, dagster_run_id="rules-1")
    assert not refused.gate_passed
    assert registry.version_tags(refused.version)[GATE_TAG] == GATE_REFUSED
    assert not promote_challenger(registry, review_required=False).promoted

    passed = pipeline.retrain(frame, registry, FailureModelConfig(), dagster_run_id="rules-2")
    assert passed.gate_passed, passed.gate_reasons
    assert registry.version_tags(passed.version)[GATE_TAG] == GATE_PASSED
    assert promote_challenger(registry, review_required=False).promoted
    assert registry.champion_version() == passed.version


def test_per_run_floor_overrides_replace_only_what_is_set() -> None:
    base = FailureModelConfig(floors=PromotionFloors(min_event_recall=0.7, max_ece=0.2))
    changed = base.with_floor_overrides(min_event_recall=0.9, min_precision=None, max_ece=None)
    assert changed.floors.min_event_recall == 0.9
    assert changed.floors.min_precision == base.floors.min_precision
    assert changed.floors.max_ece == 0.2
    assert changed.model_dump(exclude={"floors"}) == base.model_dump(exclude={"floors"})
    assert base.floors.min_event_recall == 0.7  # the base config is not modified


def test_the_champion_the_gate_compared_with_is_recorded(registry, register) -> None:
    first = register()
    assert registry.version_tags(first)[GATE_CHAMPION_TAG] == GATE_NO_CHAMPION
    promote_challenger(registry, review_required=False)
    second = register()
    assert registry.version_tags(second)[GATE_CHAMPION_TAG] == first


def test_approving_an_older_version_worse_than_the_champion_keeps_the_champion(
    registry, register
) -> None:
    # Judged when there was no champion yet: it passed the gate, but it ranks failures far worse.
    older = register(change={"pr_auc": -0.3})
    assert registry.version_tags(older)[GATE_TAG] == GATE_PASSED
    newer = register()
    assert promote_challenger(registry, review_required=False).promoted
    assert registry.champion_version() == newer

    registry.set_review(older, REVIEW_APPROVED, reviewer="maintenance.lead")
    assert review_decisions_to_apply(registry) == [(older, REVIEW_APPROVED)]
    assert apply_review(registry, older, REVIEW_APPROVED) == "refused"
    assert registry.champion_version() == newer
    tags = registry.version_tags(older)
    assert f"champion v{newer}" in tags[REVIEW_OUTCOME_TAG]
    assert "pr_auc" in tags[REVIEW_OUTCOME_TAG]
    description = registry.client.get_model_version(registry.model_name, older).description
    assert "Approval not applied" in description
    assert tags[REVIEW_APPLIED_TAG] == REVIEW_APPROVED
    assert review_decisions_to_apply(registry) == []  # refused once, not asked again


def test_approving_an_older_version_as_good_as_the_champion_promotes_it(registry, register) -> None:
    older = register()
    register()
    promote_challenger(registry, review_required=False)
    registry.set_review(older, REVIEW_APPROVED)
    assert (
        apply_review(registry, older, REVIEW_APPROVED) == "promoted"
    )  # a rollback the gate allows
    assert registry.champion_version() == older


def test_approving_a_version_that_failed_the_gate_does_nothing(registry, register) -> None:
    champion = register()
    promote_challenger(registry, review_required=False)
    refused = register(IMPOSSIBLE)
    registry.set_review(refused, REVIEW_APPROVED)
    assert apply_review(registry, refused, REVIEW_APPROVED) == "refused"
    assert registry.champion_version() == champion
    assert registry.challenger_version() == refused
    assert "did not pass the promotion gate" in registry.version_tags(refused)[REVIEW_OUTCOME_TAG]


def test_an_unknown_decision_value_changes_nothing(registry, register) -> None:
    version = register()
    registry.client.set_model_version_tag(registry.model_name, version, REVIEW_TAG, "maybe")
    assert review_decisions_to_apply(registry) == []
    assert unrecognised_review_values(registry) == [(version, "maybe")]
    assert apply_review(registry, version, "maybe") == "ignored"
    assert registry.challenger_version() == version  # not treated as a rejection
    assert registry.champion_version() is None
    assert REVIEW_APPLIED_TAG not in registry.version_tags(version)
    with pytest.raises(ValueError, match="review decision"):
        registry.set_review(version, "maybe")
