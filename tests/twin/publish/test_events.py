"""Change events (DESIGN §3.6): real publications compared with the previous current version, the
outbox, and delivery to a real HTTP receiver on 127.0.0.1 (structured CloudEvents, retries, exactly
once, the webhook's token never shown)."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_structured_event
from cloudevents.core.v1.event import CloudEvent

from tests.support.publication import LINEAGE, WEEKS, make_tables
from twin import settings
from twin.paths import TwinPaths
from twin.publish.events.delivery import after_publication, deliver_events
from twin.publish.events.layout import (
    CAPACITY_CHANGED,
    FEASIBILITY_CHANGED,
    PUBLICATION_CREATED,
    RISK_RAISED,
    delivered_dir,
    deliveries_log,
    outbox_dir,
)
from twin.publish.events.outbox import read_event, write_events
from twin.publish.publication import Publication
from twin.publish.versions import publish

TOKEN = "T0KEN-s3cret-9f8e7d"


@dataclass
class Receiver:
    """What a local webhook received: (path, headers, body) per POST; ``status`` is its answer."""

    url: str
    status: int = 202
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def events(self) -> list[CloudEvent]:
        parsed = []
        for _, headers, body in self.requests:
            event = from_structured_event(HTTPMessage(headers=headers, body=body))
            assert isinstance(event, CloudEvent)
            parsed.append(event)
        return parsed


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook on 127.0.0.1 whose URL carries a token in its path, as real ones do."""
    state = Receiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = state.status
            if status < 300:
                state.requests.append((self.path, headers, body))
            self.send_response(status)
            self.end_headers()
            if status >= 300:  # echoes the path, as receivers with a revoked token do
                self.wfile.write(f"no such hook {self.path}".encode())

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/{TOKEN}"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def down_url() -> str:
    """A webhook URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/{TOKEN}"


def _tables(line_week_factor: float = 1.0, m2_risk: float = 0.4, m1_factor: float = 1.0):
    """make_tables with L1's first week in `baseline` scaled, and L1-M1 scaled everywhere."""
    tables = make_tables()
    cap = tables["capacity_supply"]
    line_week = (
        (cap.resource_id == "L1") & (cap.bucket_start == WEEKS[0]) & (cap.scenario_id == "baseline")
    )
    cap.loc[line_week, "capacity_units"] *= line_week_factor
    cap.loc[cap.resource_id == "L1-M1", "capacity_units"] *= m1_factor
    risk = tables["machine_failure_risk"]
    risk.loc[risk.machine_id == "L1-M2", "p_failure_72h"] = m2_risk
    return tables


def _publish(paths: TwinPaths, tables) -> tuple[Publication, str | None]:
    """Publish and return the publication with the id that was current before it (the switch's
    `from`, which is what publish() hands to after_publication)."""
    publication = publish(paths, tables, LINEAGE)
    return publication, publication.manifest["switch"]["from"]


def _outbox_events(paths: TwinPaths) -> list[CloudEvent]:
    return [read_event(p) for p in sorted(outbox_dir(paths).glob("*.json"))]


def _records(paths: TwinPaths) -> list[dict]:
    path = deliveries_log(paths)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_changed_line_week_reaches_the_receiver_as_structured_cloudevents(
    paths: TwinPaths, receiver: Receiver, monkeypatch
) -> None:
    monkeypatch.setenv("TWIN_EVENTS_WEBHOOK", receiver.url)
    first, _ = _publish(paths, _tables())
    receiver.requests.clear()  # the first publication's own publication.created
    earlier = {p.stem for p in delivered_dir(paths).glob("*.json")}
    # L1 week 1 baseline +10 % (above the 5 % default); L1-M1 +3 % everywhere (below it).
    # publish() itself writes and delivers the events (after its writer lock).
    second, previous = _publish(paths, _tables(line_week_factor=1.1, m1_factor=1.03))
    assert previous == first.publication_id

    for _, headers, _ in receiver.requests:
        assert headers["content-type"].split(";")[0] == "application/cloudevents+json"
    events = receiver.events()
    published_at = dt.datetime.fromisoformat(second.published_at.replace("Z", "+00:00"))
    for event in events:
        assert event.get_specversion() == "1.0"
        assert event.get_source() == "/twinbridge/S1"
        assert event.get_datacontenttype() == "application/json"
        assert event.get_time() == published_at
        assert event.get_time().tzinfo is not None
        assert event.get_subject()
    assert [e.get_type() for e in events] == [PUBLICATION_CREATED, CAPACITY_CHANGED]
    created, changed = events
    assert created.get_subject() == second.publication_id
    assert created.get_data() == {
        **created.get_data(),
        "model_version": "failure_model v3",
        "data_window": LINEAGE["data_window"],
        "scenario_set": LINEAGE["scenario_set"],
        "batch_count": 3,
        "previous_publication_id": first.publication_id,
    }
    assert changed.get_subject() == "L1"
    data = changed.get_data()
    assert {k: data[k] for k in ("bucket_start", "scenario_id", "p50_before", "p50_after")} == {
        "bucket_start": "2026-11-23",
        "scenario_id": "baseline",
        "p50_before": pytest.approx(7200.0),
        "p50_after": pytest.approx(7920.0),
    }
    assert data["change_pct"] == pytest.approx(10.0)
    # Delivered: moved out of the outbox, named by id, one record each.
    assert list(outbox_dir(paths).glob("*.json")) == []
    assert sorted(p.stem for p in delivered_dir(paths).glob("*.json")) == sorted(
        earlier | {e.get_id() for e in events}
    )
    records = [r for r in _records(paths) if r["event_id"] not in earlier]
    assert [(r["event_id"], r["status"]) for r in records] == [
        (e.get_id(), "delivered") for e in events
    ]
    assert all(r["http_status"] == 202 and r["attempted_at"] for r in records)


def test_the_change_threshold_comes_from_the_environment_and_is_validated(
    paths: TwinPaths, monkeypatch
) -> None:
    _publish(paths, _tables())
    second, previous = _publish(paths, _tables(m1_factor=1.03))
    monkeypatch.setenv("TWIN_EVENT_CHANGE_PCT", "2.5")
    write_events(paths, second, previous)
    changed = [e for e in _outbox_events(paths) if e.get_type() == CAPACITY_CHANGED]
    # L1-M1, 2 weeks x 2 scenarios, each +3 %
    assert sorted(
        (e.get_subject(), e.get_data()["bucket_start"], e.get_data()["scenario_id"])
        for e in changed
    ) == [("L1-M1", str(w), s) for w in WEEKS for s in ("baseline", "overtime")]

    monkeypatch.setenv("TWIN_EVENT_CHANGE_PCT", "five")
    with pytest.raises(ValueError, match=r"^TWIN_EVENT_CHANGE_PCT must be .*'five'\.$"):
        settings.event_change_pct()
    monkeypatch.delenv("TWIN_EVENT_CHANGE_PCT")
    assert settings.event_change_pct() == 5.0


def test_an_unchanged_republication_sends_publication_created_only(
    paths: TwinPaths, receiver: Receiver, monkeypatch
) -> None:
    monkeypatch.setenv("TWIN_EVENTS_WEBHOOK", receiver.url)
    after_publication(paths, *_publish(paths, _tables()))
    after_publication(paths, *_publish(paths, _tables()))
    types = [e.get_type() for e in receiver.events()]
    assert types == [PUBLICATION_CREATED, PUBLICATION_CREATED]
    assert len({e.get_id() for e in receiver.events()}) == 2


def test_a_receiver_that_is_down_gets_every_event_at_the_next_delivery_exactly_once(
    paths: TwinPaths, receiver: Receiver, down_url: str, monkeypatch
) -> None:
    monkeypatch.setenv("TWIN_EVENTS_WEBHOOK", down_url)
    first, _ = _publish(paths, _tables())
    after_publication(paths, first, None)  # nothing listens: does not raise, nothing lost
    second, previous = _publish(paths, _tables(line_week_factor=0.8, m2_risk=0.55))
    after_publication(paths, second, previous)
    queued = {e.get_id() for e in _outbox_events(paths)}
    assert len(queued) == 4  # 2 x publication.created, 1 capacity.changed, 1 risk_raised
    assert receiver.requests == []
    assert {r["status"] for r in _records(paths)} == {"failed"}

    # The receiver answers 503 for a while: still queued, attempt recorded.
    monkeypatch.setenv("TWIN_EVENTS_WEBHOOK", receiver.url)
    receiver.status = 503
    report = deliver_events(paths)
    assert set(report.pending) == queued
    assert report.delivered == ()
    assert {e.get_id() for e in _outbox_events(paths)} == queued

    # It is back: everything arrives, oldest publication first, and only once.
    receiver.status = 200
    report = deliver_events(paths)
    assert set(report.delivered) == queued
    assert report.pending == ()
    deliver_events(paths)  # a further round has nothing left to send
    write_events(paths, second, previous)  # a retried write does not queue delivered events again
    deliver_events(paths)
    ids = [e.get_id() for e in receiver.events()]
    assert sorted(ids) == sorted(queued)  # every one, no duplicate
    assert receiver.events()[0].get_subject() == first.publication_id
    assert [e.get_type() for e in receiver.events()][1] == PUBLICATION_CREATED
    delivered = [r["event_id"] for r in _records(paths) if r["status"] == "delivered"]
    assert sorted(delivered) == sorted(queued)


def test_the_webhook_token_is_never_shown(
    paths: TwinPaths, receiver: Receiver, down_url: str, monkeypatch, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    first, _ = _publish(paths, _tables())
    write_events(paths, first, None)
    reports = []
    # Nothing listening, a receiver that rejects the token and echoes the path, and a bare secret.
    receiver.status = 404
    for url in (down_url, receiver.url, TOKEN):
        monkeypatch.setenv("TWIN_EVENTS_WEBHOOK", url)
        reports.append(deliver_events(paths))
    assert all(r.delivered == () and r.failed for r in reports)
    assert [r.target for r in reports] == [
        settings.redact_url(down_url),
        settings.redact_url(receiver.url),
        "<redacted>",
    ]
    assert len(_records(paths)) == 3
    shown = [caplog.text, deliveries_log(paths).read_text(), *map(repr, reports)]
    for text in shown:
        assert TOKEN not in text
        assert "/hooks" not in text
    assert "not delivered" in caplog.text


def test_risk_crossing_one_half_upwards_raises_an_event_staying_above_does_not(
    paths: TwinPaths,
) -> None:
    def risk_events(m2_risk: float) -> list[CloudEvent]:
        for path in outbox_dir(paths).glob("*.json"):
            path.unlink()
        publication, previous = _publish(paths, _tables(m2_risk=m2_risk))
        write_events(paths, publication, previous)
        return [e for e in _outbox_events(paths) if e.get_type() == RISK_RAISED]

    assert risk_events(0.4) == []  # first publication: nothing to compare with
    raised = risk_events(0.62)
    assert [e.get_subject() for e in raised] == ["L1-M2"]
    assert raised[0].get_data() == {
        **raised[0].get_data(),
        "p_failure_72h_before": pytest.approx(0.4),
        "p_failure_72h_after": pytest.approx(0.62),
        "failure_mode": "bearing_wear",
    }
    assert risk_events(0.8) == []  # stays above 0.5
    assert risk_events(0.3) == []  # falls
    assert [e.get_subject() for e in risk_events(0.5)] == ["L1-M2"]  # reaching 0.5 crosses


def test_a_partial_week_changing_its_coverage_is_not_a_capacity_change(
    paths: TwinPaths, receiver: Receiver, monkeypatch
) -> None:
    # capacity_supply 1.1.0: the first week is the rest of the week of the last data; a day later
    # it covers a day less and its P50 falls by a fifth with nothing changed
    monkeypatch.setenv("TWIN_EVENTS_WEBHOOK", receiver.url)
    before = _tables()
    before["capacity_supply"]["is_partial"] = before["capacity_supply"]["bucket_start"] == WEEKS[0]
    after_publication(paths, *_publish(paths, before))
    after = _tables(line_week_factor=0.8)
    after["capacity_supply"]["is_partial"] = after["capacity_supply"]["bucket_start"] == WEEKS[0]
    after_publication(paths, *_publish(paths, after))
    assert [e.get_type() for e in receiver.events()] == [PUBLICATION_CREATED] * 2
    # the same drop on a whole week is a change (as test_a_changed_line_week... shows in full)
    after_publication(paths, *_publish(paths, _tables()))
    after_publication(paths, *_publish(paths, _tables(line_week_factor=0.8)))
    assert CAPACITY_CHANGED in [e.get_type() for e in receiver.events()]


def test_a_line_week_whose_feasibility_status_moves_raises_one_event(
    paths: TwinPaths, receiver: Receiver, monkeypatch
) -> None:
    monkeypatch.setenv("TWIN_EVENTS_WEBHOOK", receiver.url)

    def with_status(status: str, p_meet: float):
        tables = _tables()
        feasibility = tables["capacity_feasibility"]
        week = feasibility["bucket_start"] == WEEKS[-1]
        feasibility.loc[week, "status"] = status
        feasibility.loc[week, "p_meet_demand"] = p_meet
        return tables

    after_publication(paths, *_publish(paths, with_status("at_risk", 0.6)))  # the first: no change
    after_publication(paths, *_publish(paths, with_status("at_risk", 0.55)))  # same status
    after_publication(paths, *_publish(paths, with_status("infeasible", 0.3)))
    changed = [e for e in receiver.events() if e.get_type() == FEASIBILITY_CHANGED]
    assert [e.get_subject() for e in changed] == ["L1"]
    assert changed[0].get_data() == {
        **changed[0].get_data(),
        "bucket_start": str(WEEKS[-1]),
        "scenario_id": "baseline",
        "status_before": "at_risk",
        "status_after": "infeasible",
        "p_meet_demand_after": pytest.approx(0.3),
    }
