"""Historian completeness: good samples received / samples expected from each tag's period_s.

The covered window is the batch's own span, [first_ts, last_ts] of its loaded rows over all tags
(documented in data_contracts/ingested/historian.yml). A tag of a machine the batch covers (any of
that machine's tags is present) expects ``floor((last_ts - first_ts) / period_s) + 1`` samples; a
tag it lacks received 0. Tags of machines the batch does not mention are not judged: another batch
carries them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from twin.plant.model import Plant

# Isolated gaps (a sensor dropping out for an hour) are routine: they warn, naming the tags, and the
# KPIs carry the machine-day's completeness. A batch in which more than this share of the tags fall
# short is missing a material part of its data: it is held out of the lake (quarantined) so the
# KPIs never count a half-delivered day as a quiet one.
BLOCKING_SHARE_OF_TAGS = 0.10
WORST_LISTED = (
    50  # Dagster metadata stays readable: the 50 worst tags, the count of all failing ones
)


@dataclass(frozen=True)
class CompletenessOutcome:
    passed: bool
    threshold: float
    window_start: datetime | None
    window_end: datetime | None
    tags_checked: int
    tags_failing: int
    failing_tags: list[dict] = field(
        default_factory=list
    )  # worst first: tag, machine_id, good, expected, completeness

    @property
    def share_failing(self) -> float:
        return self.tags_failing / self.tags_checked if self.tags_checked else 0.0

    @property
    def material(self) -> bool:
        """More than BLOCKING_SHARE_OF_TAGS of the judged tags fell short: the batch is held."""
        return not self.passed and self.share_failing > BLOCKING_SHARE_OF_TAGS

    def to_dict(self) -> dict:
        return {
            "passed": self.passed,
            "threshold": self.threshold,
            "window_start": self.window_start.isoformat() if self.window_start else None,
            "window_end": self.window_end.isoformat() if self.window_end else None,
            "tags_checked": self.tags_checked,
            "tags_failing": self.tags_failing,
            "failing_tags": self.failing_tags,
        }


def tag_completeness(
    plant: Plant,
    good_by_tag: dict[str, int],
    first_ts: datetime | None,
    last_ts: datetime | None,
    threshold: float,
) -> CompletenessOutcome:
    """Judge every tag of the covered machines against ``threshold`` (0–1)."""
    if first_ts is None or last_ts is None:
        return CompletenessOutcome(True, threshold, None, None, 0, 0, [])
    span_s = (last_ts - first_ts).total_seconds()
    present = set(good_by_tag)
    covered = {m.id for m, t in plant.iter_tags() if t.tag in present}
    failing: list[dict] = []
    checked = 0
    for machine, tag in plant.iter_tags():
        if machine.id not in covered:
            continue
        checked += 1
        expected = math.floor(span_s / tag.period_s) + 1
        good = good_by_tag.get(tag.tag, 0)
        share = min(1.0, good / expected)
        if share < threshold:
            failing.append(
                {
                    "tag": tag.tag,
                    "machine_id": machine.id,
                    "good": good,
                    "expected": expected,
                    "completeness": round(share, 4),
                }
            )
    failing.sort(key=lambda row: (row["completeness"], row["tag"]))
    return CompletenessOutcome(
        passed=not failing,
        threshold=threshold,
        window_start=first_ts,
        window_end=last_ts,
        tags_checked=checked,
        tags_failing=len(failing),
        failing_tags=failing[:WORST_LISTED],
    )
