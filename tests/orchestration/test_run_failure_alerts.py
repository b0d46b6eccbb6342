"""A failed run is reported: a line in $TWIN_HOME/logs/run_failures.jsonl, and a POST to the
webhook when one is configured (a real HTTP server on 127.0.0.1 receives it)."""

from __future__ import annotations

import http.server
import json
import threading

import dagster as dg
import pytest

from orchestration.defs.monitoring.sensors import run_failure_alerts
from orchestration.lib.alerts import WEBHOOK_ENV, failure_log, report_run_failure
from orchestration.lib.resources import TwinHome
from twin.paths import TwinPaths, plant_path


@pytest.fixture
def webhook():
    """A local webhook receiver; yields (url, received bodies)."""
    received: list[dict] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


def _log_lines(paths: TwinPaths) -> list[dict]:
    return [json.loads(line) for line in failure_log(paths).read_text().splitlines()]


def test_a_failure_is_logged_and_posted(tmp_path, webhook) -> None:
    url, received = webhook
    paths = TwinPaths(tmp_path).ensure()
    problem = report_run_failure(paths, "kpi_job", "abcdef12-3456", "dbt build failed", url)
    assert problem is None
    assert [line["job"] for line in _log_lines(paths)] == ["kpi_job"]
    assert len(received) == 1
    assert received[0]["run_id"] == "abcdef12-3456"
    assert "kpi_job failed: dbt build failed" in received[0]["text"]


def test_an_unreachable_webhook_still_leaves_the_log_line(tmp_path, webhook) -> None:
    url, _ = webhook
    dead = url.replace("/hook", "").rsplit(":", 1)[0] + ":9"  # discard port: nothing listens
    paths = TwinPaths(tmp_path).ensure()
    problem = report_run_failure(paths, "kpi_job", "r1", "boom", dead)
    assert problem is not None
    assert "not reached" in problem
    assert _log_lines(paths)[0]["error"] == "boom"


def test_without_a_webhook_only_the_log_is_written(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    paths = TwinPaths(tmp_path).ensure()
    assert report_run_failure(paths, "kpi_job", "r1", "boom") is None
    assert len(_log_lines(paths)) == 1


def test_the_sensor_reports_a_real_failed_run(tmp_path, webhook, monkeypatch) -> None:
    url, received = webhook
    monkeypatch.setenv(WEBHOOK_ENV, url)

    @dg.asset
    def broken_asset() -> None:
        raise RuntimeError("the lake is not reachable")

    home = TwinHome(home=str(tmp_path / "home"), plant_file=str(plant_path()))
    with dg.instance_for_test() as instance:
        result = dg.materialize([broken_asset], instance=instance, raise_on_error=False)
        assert not result.success
        failure = next(
            event
            for event in instance.all_logs(result.run_id)
            if event.dagster_event and event.dagster_event.event_type_value == "PIPELINE_FAILURE"
        )
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_alerts",
            dagster_instance=instance,
            dagster_run=instance.get_run_by_id(result.run_id),
            dagster_event=failure.dagster_event,
            resources={"twin": home},
        ).for_run_failure()
        run_failure_alerts(context)
    [line] = _log_lines(home.paths)
    assert line["run_id"] == result.run_id
    assert "broken_asset" in line["error"]
    assert [body["run_id"] for body in received] == [result.run_id]
