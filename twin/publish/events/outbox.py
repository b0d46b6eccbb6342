"""CloudEvents built from the changes and written, one file per event, into the outbox."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from twin import settings
from twin.files import fsync_dir, write_text_atomically
from twin.publish.events.changes import (
    DETECTORS,
    Change,
    Rules,
    Version,
    load_version,
    publication_created,
)
from twin.publish.events.layout import ID_NAMESPACE, MANIFEST_NAME, delivered_dir, outbox_dir

if TYPE_CHECKING:
    from twin.paths import TwinPaths
    from twin.publish.publication import Publication


def event_id(publication_id: str, change: Change) -> str:
    """Deterministic: the same publication and change always give the same id."""
    name = "|".join([publication_id, change.type, change.subject, *change.key])
    return str(uuid.uuid5(ID_NAMESPACE, name))


log = logging.getLogger(__name__)


def _published_at(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if moment.tzinfo is None:  # the manifest writes UTC
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _site_id(version: Version) -> str:
    for table, column in (("capacity_supply", "site_id"), ("machine_failure_risk", "site_id")):
        sites = sorted({str(r[column]) for r in version.rows(table, [column]) if r.get(column)})
        if sites:
            return sites[0]  # one deployment per site (DESIGN §3.7)
    return "unknown"


def build_events(
    paths: TwinPaths, publication: Publication, previous: str | None
) -> list[CloudEvent]:
    """The events of ``publication`` against ``previous`` (the id that was current before it)."""
    after = load_version(paths, publication.publication_id)
    before = None
    if previous and previous != publication.publication_id:
        if (paths.published / "versions" / previous / MANIFEST_NAME).is_file():  # complete
            before = load_version(paths, previous)
        else:
            log.warning("previous publication %s is not a complete version: no changes", previous)
    rules = Rules(change_pct=settings.event_change_pct())
    changes = [publication_created(before, after)]
    for detector in DETECTORS:
        changes += detector(before, after, rules)
    source = f"/twinbridge/{_site_id(after)}"
    time = _published_at(after.manifest.get("published_at") or publication.published_at)
    return [
        CloudEvent(
            attributes={
                "specversion": "1.0",
                "id": event_id(publication.publication_id, change),
                "source": source,
                "type": change.type,
                "time": time,
                "subject": change.subject,
                "datacontenttype": "application/json",
            },
            data=change.data,
        )
        for change in changes
    ]


def write_events(paths: TwinPaths, publication: Publication, previous: str | None) -> list[Path]:
    """Write the publication's events into the outbox, one file per event; returns the files written.

    An event already delivered (same id in ``delivered/``) is not queued again; one still in the
    outbox is rewritten with the same content.
    """
    outbox, delivered = outbox_dir(paths), delivered_dir(paths)
    outbox.mkdir(parents=True, exist_ok=True)
    delivered.mkdir(parents=True, exist_ok=True)
    written = []
    for event in build_events(paths, publication, previous):
        name = f"{event.get_id()}.json"
        if (delivered / name).exists():
            continue
        body = JSONFormat().write(event).decode("utf-8")
        write_text_atomically(outbox / name, body + "\n", durable=True)
        written.append(outbox / name)
    fsync_dir(outbox)
    return written


def read_event(path: Path) -> CloudEvent:
    """An outbox (or delivered) file back as a CloudEvent, validated by the SDK."""
    event = JSONFormat().read(CloudEvent, path.read_bytes())
    assert isinstance(event, CloudEvent)
    return event
