"""The deployed twin with nobody pressing buttons: `twin ui` (Dagster webserver + daemon, MLflow UI)
on a fresh TWIN_HOME and free ports; generated landing files are dropped in, and the sensors and
declarative automation carry them to a new publication. Then headless Chromium (Debian's package,
driven by playwright) opens the Dagster UI and the capacity report. Everything started is stopped.

Three of the demo's scenarios run, cut to a few weeks and replications (the chain is under test,
not the engine); ``TWIN_BENCH_FULL_SCENARIOS=1`` runs all of them as shipped. Prints the time from the files landing
to the publication and where it went (BENCHMARKS.md, "Deployed twin", measures it with the full
scenarios). ``TWIN_UPDATE_SCREENSHOTS=1`` copies the screenshots to docs/screenshots/ for the README.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from bench.deployed_timeline import format_timeline, run_timings
from orchestration.lib.alerts import failure_log
from tests.support.ports import free_port
from tests.support.scenarios import DEMO, write_short_scenarios
from twin.paths import TwinPaths
from twin.publish.versions import list_versions, read_manifest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "docs" / "screenshots"
DAYS, START, SEED = 3, "2026-03-26", 3
STARTUP_TIMEOUT_S = 300
PUBLICATION_TIMEOUT_S = 900  # bounded; the target is 3 minutes on the 2-core machine
TEST_SCENARIOS = ("baseline", "added_machine", "line_down")
ACTIVE = {"QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"}


@dataclass
class DeployedTwin:
    paths: TwinPaths
    url: str
    ui: subprocess.Popen
    staging: Path  # a TWIN_HOME the virtual plant writes into; its landing files are dropped in
    env: dict

    @property
    def staged(self) -> Path:
        return self.staging / "landing"

    def generate(self, *args: str) -> None:
        subprocess.run(
            [BIN / "twin", "generate", "--seed", str(SEED), *args],
            env={**self.env, "TWIN_HOME": str(self.staging)},
            check=True,
            capture_output=True,
        )


def _wait_for_http(url: str, timeout_s: float, ui: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert ui.poll() is None, "twin ui exited during start-up"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError(f"{url} did not answer within {timeout_s} s")


def _graphql(url: str, query: str) -> dict:
    """The webserver's GraphQL API: what the UI itself reads."""
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


RUNS = """{ runsOrError { ... on Runs { results { runId status assetSelection { path } } } } }"""


def _runs(url: str) -> list[dict]:
    return _graphql(url, RUNS)["runsOrError"]["results"]


def _group_members(pgid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> DeployedTwin:
    root = tmp_path_factory.mktemp("deployed")
    home, staging = root / "home", root / "staging"
    env = {
        **os.environ,
        "TWIN_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "GX_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    env.pop("TWIN_PLANT", None)
    env.pop("TWIN_SCENARIOS", None)
    if os.environ.get("TWIN_BENCH_FULL_SCENARIOS") != "1":
        # three scenarios: one wave of runs (four run at a time), as many hops as six
        write_short_scenarios(root / "scenarios", source=DEMO, only=TEST_SCENARIOS)
        env["TWIN_SCENARIOS"] = str(root / "scenarios")
    port, mlflow_port = free_port(), free_port()
    log = (root / "ui.log").open("w")
    ui = subprocess.Popen(
        [BIN / "twin", "ui", "--port", str(port), "--mlflow-port", str(mlflow_port)],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_http(f"{url}/server_info", STARTUP_TIMEOUT_S, ui)
        _wait_for_http(f"http://127.0.0.1:{mlflow_port}/health", STARTUP_TIMEOUT_S, ui)
        twin = DeployedTwin(TwinPaths(home), url, ui, staging, env)
        twin.generate("--days", str(DAYS), "--start", START)
        yield twin
    finally:
        ui.send_signal(signal.SIGINT)  # twin ui stops the webserver, daemon, code servers, MLflow
        try:
            ui.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(ui.pid, signal.SIGKILL)
            ui.wait()
            pytest.fail("twin ui did not stop within 90 s of SIGINT")
        finally:
            log.close()
        time.sleep(1)
        assert _group_members(ui.pid) == [], "processes of twin ui outlived it"


def _drop(staged: Path, landing: Path) -> set[str]:
    """Move every generated file into landing (a rename: each appears complete); their batch ids."""
    batch_ids = set()
    for file in sorted(p for p in staged.rglob("*") if p.is_file()):
        target = landing / file.relative_to(staged)
        target.parent.mkdir(parents=True, exist_ok=True)
        batch_ids.add(hashlib.sha256(file.read_bytes()).hexdigest())
        os.replace(file, target)
    return batch_ids


def _wait_for_version(deployed: DeployedTwin, count: int, landed: float) -> float:
    while len(list_versions(deployed.paths)) < count:
        assert time.monotonic() - landed < PUBLICATION_TIMEOUT_S, "no publication in time"
        assert deployed.ui.poll() is None, "twin ui exited"
        time.sleep(2)
    return time.monotonic() - landed


def _wait_until_idle(url: str, landed: float) -> None:
    """Until the runs after the publication (the backtest, the report) have finished too."""
    while any(r["status"] in ACTIVE for r in _runs(url)):
        assert time.monotonic() - landed < PUBLICATION_TIMEOUT_S, "runs still going"
        time.sleep(2)


def _timeline(deployed: DeployedTwin, since: float) -> list:
    """The runs since the landing, printed (BENCHMARKS.md quotes it: where the seconds go)."""
    with dg.DagsterInstance.from_config(deployed.env["DAGSTER_HOME"]) as instance:
        timings = run_timings(instance, since)
    print(format_timeline(timings))
    return timings


def test_landed_files_reach_a_new_publication_with_nobody_acting(deployed: DeployedTwin) -> None:
    assert list_versions(deployed.paths) == []
    since = time.time()
    batch_ids = _drop(deployed.staged, deployed.paths.landing)
    assert len(batch_ids) >= 4 * DAYS
    landed = time.monotonic()
    elapsed = _wait_for_version(deployed, 1, landed)
    print(f"\nfile to publication: {elapsed:.0f} s ({len(batch_ids)} landed files, {DAYS} days)")
    _wait_until_idle(deployed.url, landed)
    loads = [t for t in _timeline(deployed, since) if t.job == "ingest_job"]
    # one landing burst is one load run (two if a sensor tick fell between two of the renames)
    assert 1 <= len(loads) <= 2, (
        f"{len(loads)} load runs for {len(batch_ids)} files landed together"
    )
    runs = _runs(deployed.url)
    assert {r["status"] for r in runs} == {"SUCCESS"}, "every run succeeded"
    rebuilds = [r for r in runs if any(k["path"][0] == "marts" for k in r["assetSelection"] or [])]
    assert len(rebuilds) <= 2, "files landed together are one KPI rebuild, not one per source"
    manifest = read_manifest(deployed.paths)
    assert set(manifest["data"]["batches"]["ids"]) == batch_ids, "every batch is in the lineage"
    assert manifest["scenarios"], "capacity for the scenario set"
    assert not failure_log(deployed.paths).exists(), failure_log(deployed.paths).read_text()


def test_the_next_days_files_publish_a_new_version(deployed: DeployedTwin) -> None:
    """The daily case: one more day lands on a running twin."""
    before = list_versions(deployed.paths)
    if not before:
        pytest.skip("needs the publication of the test above")
    deployed.generate("--days", "1")  # continues the same plant history
    since = time.time()
    batch_ids = _drop(deployed.staged, deployed.paths.landing)
    landed = time.monotonic()
    elapsed = _wait_for_version(deployed, len(before) + 1, landed)
    print(f"\nnext day, file to publication: {elapsed:.0f} s ({len(batch_ids)} landed files)")
    _wait_until_idle(deployed.url, landed)
    timings = _timeline(deployed, since)
    assert len([t for t in timings if t.job == "ingest_job"]) <= 2, "a day's files are one load run"
    rebuilds = [t for t in timings if any(a.startswith("marts/") for a in t.assets)]
    assert len(rebuilds) == 1, "the day's files from every source are one KPI rebuild"

    assert {r["status"] for r in _runs(deployed.url)} == {"SUCCESS"}
    manifest = read_manifest(deployed.paths)
    assert manifest["publication_id"] not in before, "catalog.duckdb serves the new version"
    assert batch_ids <= set(manifest["data"]["batches"]["ids"])


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("headless Chromium is needed: `make browser` installs Debian's package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


def _screenshot(page, name: str, folder: Path, *, readme: bool = True) -> Path:
    page.wait_for_timeout(3_000)  # let the panels that load after the checked elements settle
    shot = folder / name
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000, "an empty page"
    if readme and os.environ.get("TWIN_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, SCREENSHOTS / name)
    return shot


def test_the_dagster_ui_shows_the_publication_and_its_lineage(
    deployed: DeployedTwin, browser, tmp_path
) -> None:
    if not list_versions(deployed.paths):
        pytest.skip("needs the publication of the test above")
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{deployed.url}/assets", timeout=120_000)
    skip = page.get_by_role("button", name="Skip")  # the community sign-up shown on first visit
    skip.wait_for(timeout=60_000)
    skip.click()

    page.goto(
        f"{deployed.url}/assets/published/planning_tables"
        "?view=lineage&lineageScope=upstream&lineageDepth=2",
        timeout=120_000,
    )
    graph = page.locator("body")
    for node in ("planning_tables", "capacity_supply", "capacity_runs", "kpi_daily"):
        graph.get_by_text(node, exact=True).first.wait_for(timeout=60_000)
    _screenshot(page, "dagster_lineage.png", tmp_path)

    # the asset page: its description for plant engineers, the publication's metadata and checks
    page.goto(f"{deployed.url}/assets/published/planning_tables", timeout=120_000)
    for text in ("publication_id", "A new immutable version of the capacity tables"):
        page.get_by_text(text).first.wait_for(timeout=60_000)
    _screenshot(page, "dagster_planning_tables.png", tmp_path)

    # a chart in the metadata renders as an image in the UI (the inline PNG is not stripped)
    page.get_by_text("[Show Markdown]").first.click()
    chart = page.locator("img[src^='data:image/png;base64,']").first
    chart.wait_for(timeout=30_000)
    assert chart.evaluate("image => image.naturalWidth") > 300
    _screenshot(page, "dagster_capacity_chart.png", tmp_path)

    page.goto(f"{deployed.url}/automation", timeout=120_000)
    for sensor in ("twin_automation_sensor", "landing_files_sensor", "nightly_scenario_schedule"):
        page.get_by_text(sensor).first.wait_for(timeout=60_000)
    page.close()


def test_the_capacity_report_of_the_publication_opens_from_its_file(
    deployed: DeployedTwin, browser, tmp_path
) -> None:
    report = deployed.paths.published / "report.html"
    if not report.exists():
        pytest.skip("needs the publication of the first test")
    context = browser.new_context(offline=True)  # no CDN, no server: the file alone
    page = context.new_page()
    page.goto(report.as_uri())
    for element in ("report-header", "scenario-comparison", "bottlenecks", "machines-at-risk"):
        assert page.locator(f"#{element}").count() == 1, element
    assert json.dumps(read_manifest(deployed.paths)["publication_id"]).strip('"') in page.content()
    _screenshot(page, "capacity_report_deployed.png", tmp_path, readme=False)
    context.close()
