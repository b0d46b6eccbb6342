"""Promotion and review rules: which registered version the champion alias may point at.

The gate itself (floors, comparison with the champion) is ``ml.evaluate.should_promote``; its
verdict is stored on the version as ``GATE_TAG`` (ml/registry.py). These rules decide, from that tag
and the reviewer's, what happens to the aliases; they take a ``FailureModelRegistry`` and so are
tested against a real (temporary) MLflow store, without Dagster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ml.config import PromotionFloors, load_config
from ml.evaluate import should_promote
from ml.registry import (
    GATE_CHAMPION_TAG,
    REVIEW_APPLIED_TAG,
    REVIEW_APPROVED,
    REVIEW_DECISIONS,
    REVIEW_PENDING,
    REVIEW_TAG,
    FailureModelRegistry,
    passed_gate,
)


def may_become_champion(tags: Mapping[str, str], *, review_required: bool) -> bool:
    """A version may become champion if it passed the gate and, in reviewer mode, was approved."""
    if not passed_gate(tags):
        return False
    return not review_required or tags.get(REVIEW_TAG) == REVIEW_APPROVED


PromotionKind = Literal["no_challenger", "gate_refused", "awaiting_review", "promoted"]


@dataclass(frozen=True)
class PromotionOutcome:
    """What ``promote_challenger`` did with the challenger."""

    kind: PromotionKind
    version: str | None  # the challenger's version (None when there is none)

    @property
    def promoted(self) -> bool:
        return self.kind == "promoted"

    @property
    def description(self) -> str:
        if self.kind == "no_challenger":
            return "none: no challenger registered"
        if self.kind == "gate_refused":
            return f"none: challenger v{self.version} did not pass the gate"
        if self.kind == "awaiting_review":
            return f"awaiting review: tag v{self.version} {REVIEW_TAG}={REVIEW_APPROVED} in MLflow"
        return "promoted"


def promotion_outcome(registry: FailureModelRegistry, *, review_required: bool) -> PromotionOutcome:
    """What should happen to the current challenger (reads the registry, changes nothing)."""
    challenger = registry.challenger_version()
    if challenger is None:
        return PromotionOutcome("no_challenger", None)
    tags = registry.version_tags(challenger)
    if not passed_gate(tags):
        return PromotionOutcome("gate_refused", challenger)
    if not may_become_champion(tags, review_required=review_required):
        return PromotionOutcome("awaiting_review", challenger)
    return PromotionOutcome("promoted", challenger)


def promote_challenger(
    registry: FailureModelRegistry, *, review_required: bool
) -> PromotionOutcome:
    """Make the challenger champion if it passed the gate (and, in reviewer mode, was approved)."""
    outcome = promotion_outcome(registry, review_required=review_required)
    if outcome.promoted:
        registry.promote(outcome.version)
    return outcome


def review_decisions_to_apply(registry: FailureModelRegistry) -> list[tuple[str, str]]:
    """(version, decision) for every reviewer decision not yet acted on, in the registry's order.

    An approval of a version that did not pass the gate is ignored: a reviewer cannot override the gate.
    """
    out = []
    for version, tags in registry.all_version_tags():
        decision = tags.get(REVIEW_TAG)
        if decision not in REVIEW_DECISIONS or tags.get(REVIEW_APPLIED_TAG):
            continue
        if decision == REVIEW_APPROVED and not passed_gate(tags):
            continue
        out.append((version, decision))
    return out


def unrecognised_review_values(registry: FailureModelRegistry) -> list[tuple[str, str]]:
    """(version, value) of REVIEW_TAG values that are neither pending nor a decision: ignored."""
    known = (REVIEW_PENDING, *REVIEW_DECISIONS)
    return [
        (version, tags[REVIEW_TAG])
        for version, tags in registry.all_version_tags()
        if REVIEW_TAG in tags and tags[REVIEW_TAG] not in known
    ]


ReviewEffect = Literal["promoted", "challenger_retired", "recorded", "refused", "ignored"]


def approval_refusal(
    registry: FailureModelRegistry, version: str, floors: PromotionFloors | None = None
) -> str | None:
    """Why an approved ``version`` may not replace the current champion now (None: it may).

    The same rule as automatic promotion: the version must have passed the gate, and the gate must
    hold against the *current* champion. When the gate already compared it with this champion (at
    registration, like-for-like on its held-out data) its verdict stands; otherwise (an older version,
    or a champion promoted since) ``should_promote`` is re-run on the two versions' held-out metrics.
    """
    tags = registry.version_tags(version)
    if not passed_gate(tags):
        return f"v{version} did not pass the promotion gate"
    champion = registry.champion_version()
    if champion is None or champion == str(version) or tags.get(GATE_CHAMPION_TAG) == champion:
        return None
    floors = floors if floors is not None else load_config().floors
    ok, reasons = should_promote(
        registry.version_metrics(version), registry.version_metrics(champion), floors
    )
    if ok:
        return None
    return f"v{version} does not pass the gate against champion v{champion}: " + "; ".join(reasons)


def apply_review(
    registry: FailureModelRegistry,
    version: str,
    decision: str,
    floors: PromotionFloors | None = None,
) -> ReviewEffect:
    """Act on a reviewer's decision, recorded as REVIEW_APPLIED_TAG so it is acted on once.

    ``approved``: the version becomes champion if ``approval_refusal`` finds no reason against it
    (the gate is re-checked against the current champion); otherwise the champion stays and the
    reason goes on the version (REVIEW_OUTCOME_TAG and its description): effect ``refused``.
    ``rejected``: a rejected challenger loses alias ``challenger``. Any other value is not a
    decision: nothing changes (effect ``ignored``).
    """
    if decision not in REVIEW_DECISIONS:
        return "ignored"
    effect: ReviewEffect = "recorded"
    if decision == REVIEW_APPROVED:
        reason = approval_refusal(registry, version, floors)
        if reason is None:
            registry.promote(version)
            effect = "promoted"
        else:
            registry.refuse_approval(version, reason)
            effect = "refused"
    elif registry.challenger_version() == version:
        registry.retire_challenger()
        effect = "challenger_retired"
    registry.mark_review_applied(version, decision)
    return effect
