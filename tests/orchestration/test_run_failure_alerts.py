"""A failed run is reported: a line in $TWIN_HOME/logs/run_failures.jsonl, and a POST to the
webhook when one is configured (a real HTTP server on 127.0.0.1 receives it)."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading

import dagster as dg
import pytest

from orchestration.defs.monitoring.sensors import run_failure_alerts
from orchestration.lib.alerts import (
    WEBHOOK_ENV,
    failure_log,
    redact_credentials,
    report_run_failure,
)
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
            # A revoked token: the receiver answers 404 and echoes the path, as real ones do.
            self.send_response(404 if "revoked" in self.path else 204)
            self.end_headers()
            if "revoked" in self.path:
                self.wfile.write(f"no such hook {self.path}".encode())

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


@contextlib.contextmanager
def _failed_run(home: TwinHome):
    """A real run that failed (an asset raising), as the failure sensor sees it: (context, run id)."""

    @dg.asset
    def broken_asset() -> None:
        raise RuntimeError("the lake is not reachable")

    with dg.instance_for_test() as instance:
        result = dg.materialize([broken_asset], instance=instance, raise_on_error=False)
        assert not result.success
        failure = next(
            event
            for event in instance.all_logs(result.run_id)
            if event.dagster_event and event.dagster_event.event_type_value == "PIPELINE_FAILURE"
        )
        yield (
            dg.build_run_status_sensor_context(
                sensor_name="run_failure_alerts",
                dagster_instance=instance,
                dagster_run=instance.get_run_by_id(result.run_id),
                dagster_event=failure.dagster_event,
                resources={"twin": home},
            ).for_run_failure(),
            result.run_id,
        )


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

    home = TwinHome(home=str(tmp_path / "home"), plant_file=str(plant_path()))
    with _failed_run(home) as (context, run_id):
        run_failure_alerts(context)
    [line] = _log_lines(home.paths)
    assert line["run_id"] == run_id
    assert "broken_asset" in line["error"]
    assert [body["run_id"] for body in received] == [run_id]


def test_a_failing_webhook_post_shows_no_part_of_the_url_path(tmp_path, webhook, caplog) -> None:
    url, received = webhook
    token = "T0ABCDEF/B0GHIJKL/revoked9XsecretToken"
    secret_url = url.replace("/hook", f"/services/{token}")
    paths = TwinPaths(tmp_path).ensure()
    with caplog.at_level("DEBUG"):
        problem = report_run_failure(paths, "kpi_job", "r1", "boom", secret_url)
    assert len(received) == 1  # it was posted, and refused
    assert problem is not None
    host = url.removesuffix("/hook")  # http://127.0.0.1:<port>
    assert problem == f"the {WEBHOOK_ENV} webhook ({host}) was not reached: HTTPError 404"
    shown = problem + failure_log(paths).read_text() + caplog.text
    for part in ("services", *token.split("/")):
        assert part not in shown


def test_the_failure_sensor_warning_shows_only_the_webhook_host(
    tmp_path, webhook, monkeypatch, capfd
) -> None:
    url, _ = webhook
    monkeypatch.setenv(WEBHOOK_ENV, url.replace("/hook", "/services/revoked-s3cret"))

    home = TwinHome(home=str(tmp_path / "home"), plant_file=str(plant_path()))
    with _failed_run(home) as (context, _):
        capfd.readouterr()  # only what the sensor writes from here on
        run_failure_alerts(context)  # Dagster's logger writes the warning to stderr
    out, err = capfd.readouterr()
    assert f"webhook ({url.removesuffix('/hook')}) was not reached: HTTPError 404" in err
    logged = out + err + failure_log(home.paths).read_text()
    assert "revoked-s3cret" not in logged
    assert "services" not in logged


def test_credentials_in_a_failure_message_are_not_logged_or_posted(tmp_path, webhook) -> None:
    url, received = webhook
    paths = TwinPaths(tmp_path).ensure()
    error = (
        "OperationalError: postgresql://mlflow:hunter2@db:5432/mlflow refused; see https://docs/x"
    )
    assert report_run_failure(paths, "ml_job", "r1", error, url) is None
    assert "hunter2" not in failure_log(paths).read_text()
    assert "hunter2" not in json.dumps(received)
    assert _log_lines(paths)[0]["error"] == (
        "OperationalError: postgresql://db:5432 refused; see https://docs/x"
    )
    assert redact_credentials("no url here") == "no url here"
