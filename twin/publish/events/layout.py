"""Event types and where the outbox lives under $TWIN_HOME/published/events/."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from cloudevents.core.formats.json import JSONFormat

if TYPE_CHECKING:
    from twin.paths import TwinPaths

# versions.py (the publisher) calls after_publication, so this module reads the version layout
# itself instead of importing versions: no import cycle between the two.
MANIFEST_NAME = "manifest.json"  # versions/<id>/manifest.json, as twin.publish.versions writes it

PUBLICATION_CREATED = "io.twinbridge.publication.created"
CAPACITY_CHANGED = "io.twinbridge.capacity.changed"
RISK_RAISED = "io.twinbridge.machine.risk_raised"
# subject a line id; data bucket_start, status_before, status_after (capacity_feasibility, §3.5)
FEASIBILITY_CHANGED = "io.twinbridge.feasibility.changed"

RISK_THRESHOLD = 0.5  # p_failure_72h crossing this upwards raises machine.risk_raised
STRUCTURED_CONTENT_TYPE = JSONFormat.CONTENT_TYPE  # application/cloudevents+json
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://twinbridge.io/events")
TYPE_ORDER = {PUBLICATION_CREATED: 0, CAPACITY_CHANGED: 1, FEASIBILITY_CHANGED: 2, RISK_RAISED: 3}
PCT_TOLERANCE = 1e-9  # 100 -> 105 is a 5 % move even though the float says 4.99999...


def events_dir(paths: TwinPaths) -> Path:
    return paths.published / "events"


def outbox_dir(paths: TwinPaths) -> Path:
    return events_dir(paths) / "outbox"


def delivered_dir(paths: TwinPaths) -> Path:
    return events_dir(paths) / "delivered"


def deliveries_log(paths: TwinPaths) -> Path:
    return events_dir(paths) / "deliveries.jsonl"
