"""Delivery of the outbox to TWIN_EVENTS_WEBHOOK in structured mode, each attempt recorded."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cloudevents.core.bindings.http import to_structured_event
from cloudevents.core.v1.event import CloudEvent

from twin import settings
from twin.files import exclusive_lock, fsync_dir
from twin.publish.events.layout import (
    TYPE_ORDER,
    delivered_dir,
    deliveries_log,
    events_dir,
    outbox_dir,
)
from twin.publish.events.outbox import read_event, write_events

if TYPE_CHECKING:
    from twin.paths import TwinPaths
    from twin.publish.publication import Publication


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery round did. ``target`` is the redacted webhook ("" when none is set)."""

    target: str
    delivered: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()  # still in the outbox afterwards (failed ones included)
    errors: dict[str, str] = field(default_factory=dict)  # event id -> why (never the URL)


log = logging.getLogger(__name__)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx is not a delivery: following it would turn the POST into a GET elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _why(exc: BaseException) -> str:
    """Why a POST failed, without the URL: exception texts (ValueError, URLError) may quote it."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, OSError) and reason.strerror:
        return f"{type(reason).__name__}: {reason.strerror}"
    return type(reason).__name__ if isinstance(reason, BaseException) else type(exc).__name__


def _post(url: str, event: CloudEvent, timeout_s: float) -> tuple[int | None, str | None]:
    """(HTTP status or None when nothing answered, error or None)."""
    message = to_structured_event(event)
    headers = {**message.headers, "User-Agent": "twinbridge-events"}
    opener = urllib.request.build_opener(_NoRedirect)
    try:  # Request() itself rejects a URL it cannot parse, quoting it: inside the try
        request = urllib.request.Request(url, data=message.body, headers=headers, method="POST")
        with opener.open(request, timeout=timeout_s) as response:
            return response.status, None
    except urllib.error.HTTPError as exc:
        exc.close()  # the body may echo the URL's path: never read into messages
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, HTTPException, ValueError) as exc:
        return None, _why(exc)


def _delivery_lock(folder: Path):
    """One delivery round at a time, so two callers never POST the same event twice."""
    return exclusive_lock(folder / ".deliver.lock")


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _append(path: Path, record: Mapping[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _order(event: CloudEvent) -> tuple[Any, ...]:
    time = event.get_time() or dt.datetime.min.replace(tzinfo=dt.UTC)
    data = json.dumps(event.get_data(), sort_keys=True, default=str)
    return (time, TYPE_ORDER.get(event.get_type(), 99), event.get_subject() or "", data)


def _outbox(paths: TwinPaths) -> list[tuple[Path, CloudEvent]]:
    """The outbox, oldest first (publication time, then publication.created before its changes)."""
    found = []
    for path in sorted(outbox_dir(paths).glob("*.json")):
        try:
            found.append((path, read_event(path)))
        except (
            Exception
        ) as exc:  # kept in the outbox for an operator; never lost, never sent broken
            log.warning(
                "outbox file %s is not a valid CloudEvent (%s): left in place", path.name, exc
            )
    return sorted(found, key=lambda item: _order(item[1]))


def deliver_events(
    paths: TwinPaths, url: str | None = None, timeout_s: float = 10
) -> DeliveryReport:
    """POST every outbox event (structured mode) to ``url`` or TWIN_EVENTS_WEBHOOK, oldest first.

    A 2xx moves the file to ``delivered/``; anything else keeps it in the outbox for the next call.
    Every attempt is a line in ``deliveries.jsonl``. When nothing answers (refused, timeout), the
    round stops there: the remaining events stay queued untried instead of each waiting out the
    timeout. A receiver that rejects one event (an HTTP error) does not hold back the others.
    Never raises for a receiver's failure; never shows more of the URL than ``redact_url``.
    """
    url = (settings.events_webhook() if url is None else url).strip()
    target = settings.redact_url(url)
    if not url:
        return DeliveryReport("", pending=tuple(e.get_id() for _, e in _outbox(paths)))
    delivered_folder = delivered_dir(paths)
    delivered_folder.mkdir(parents=True, exist_ok=True)
    delivered: list[str] = []
    failed: list[str] = []
    errors: dict[str, str] = {}
    with _delivery_lock(events_dir(paths)):
        for path, event in _outbox(paths):
            attempted_at = _now()
            status, error = _post(url, event, timeout_s)
            ok = status is not None and 200 <= status < 300
            if ok:
                os.replace(path, delivered_folder / path.name)  # before the record: no re-send
            record = {
                "event_id": event.get_id(),
                "type": event.get_type(),
                "subject": event.get_subject(),
                "status": "delivered" if ok else "failed",
                "http_status": status,
                "attempted_at": attempted_at,
                "target": target,
                "error": error,
            }
            _append(deliveries_log(paths), record)
            if ok:
                delivered.append(event.get_id())
                continue
            failed.append(event.get_id())
            errors[event.get_id()] = str(error)
            log.warning(
                "change event %s not delivered to %s (%s): kept in the outbox for the next delivery",
                event.get_id(),
                target,
                error,
            )
            if status is None:
                break  # nothing answers: the rest would only wait out their timeouts
        fsync_dir(delivered_folder)
        fsync_dir(outbox_dir(paths))
        pending = tuple(e.get_id() for _, e in _outbox(paths))
    if delivered:
        log.info("delivered %d change event(s) to %s", len(delivered), target)
    return DeliveryReport(target, tuple(delivered), tuple(failed), pending, errors)


def after_publication(paths: TwinPaths, publication: Publication, previous_id: str | None) -> None:
    """Write the new publication's events, then deliver the outbox (earlier leftovers included).

    ``previous_id`` is the version that was current before the switch (``live["switch"]["from"]``
    in ``publish``). Writing errors (disk) propagate; delivery failures are recorded, not raised.
    """
    write_events(paths, publication, previous_id)
    deliver_events(paths)
