"""The capacity report in a real browser: publish on a tmp TWIN_HOME, open ``published/report.html``
from its file:// URL in headless Chromium with the network switched off, check the rendered DOM and
take a screenshot. ``TWIN_UPDATE_SCREENSHOTS=1`` copies the screenshot to docs/screenshots/ for the
README."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_contracts import load_published_contract
from twin.paths import TwinPaths
from twin.publish.versions import publish

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = (
    "headless Chromium is needed for the report's browser test: "
    "`apt-get update && apt-get install -y chromium` (Debian's package; run as root, or "
    "`make install`, which installs it when /usr/bin/chromium is missing)"
)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
HORIZON_START = dt.date(2026, 11, 25)  # a Wednesday: the first week is cut by the horizon
LINES = {
    "L1": (["L1-M1", "L1-M2", "L1-M3", "L1-M4"], 95.0),
    "L2": (["L2-M1", "L2-M2", "L2-M3"], 60.0),
}
SCENARIOS = {"baseline": 1.0, "saturday_overtime": 1.12, "pm_moved_to_weekend": 1.04}
MODES = ["spindle bearing", "hydraulic leak", "tool breakage", "servo overload", None]
KEY_IDS = (
    "report-header",
    "capacity-fan-L1",
    "capacity-fan-L2",
    "scenario-comparison",
    "bottlenecks",
    "machines-at-risk",
    "data-completeness",
    "forecast-accuracy",
    "prediction-effect",
    "why-at-risk",
    "feasibility",
)


def _frame(name: str, rows: list[dict]) -> pd.DataFrame:
    columns = list(load_published_contract(name)["columns"])
    return pd.DataFrame([{c: row.get(c) for c in columns} for row in rows], columns=columns)


def _capacity(rng: np.random.Generator) -> list[dict]:
    """13 weekly buckets per line and scenario; week 6 has a planned maintenance stop."""
    monday = HORIZON_START - dt.timedelta(days=HORIZON_START.weekday())
    rows = []
    for line, (_, rate) in LINES.items():
        for i in range(13):
            # Week rows are calendar weeks; the first is partial, covered from the horizon start.
            start = monday + dt.timedelta(weeks=i)
            end = start + dt.timedelta(weeks=1)
            covered_from = max(HORIZON_START, start)
            calendar = 120.0 * (end - covered_from).days / 7  # 3 shifts x 5 days
            planned = 16.0 if i == 5 else 2.0
            loss = rng.uniform(0.08, 0.16)
            for scenario, factor in SCENARIOS.items():
                for quantile, spread in (("p10", 1.6), ("p50", 1.0), ("p90", 0.55)):
                    unplanned = (calendar - planned) * loss * spread
                    available = (calendar - planned - unplanned) * min(factor, 1.0)
                    rows.append(
                        {
                            "site_id": "PLANT-DE-01",
                            "line_id": line,
                            "resource_id": line,
                            "resource_level": "line",
                            "bucket_grain": "week",
                            "bucket_start": start,
                            "bucket_end": end,
                            "scenario_id": scenario,
                            "quantile": quantile,
                            "calendar_hours": calendar,
                            "planned_downtime_hours": planned,
                            "expected_unplanned_downtime_hours": unplanned,
                            "available_hours": available,
                            "capacity_units": available * rate * factor,
                            "uom": "parts",
                            "rate_units_per_hour": rate * factor,
                            "bottleneck_share": 1.0,
                            "is_partial": covered_from > start,
                            "covered_from_at": dt.datetime.combine(covered_from, dt.time()),
                        }
                    )
    return rows


def _baseline_p50(capacity: list[dict]) -> list[dict]:
    return [r for r in capacity if r["scenario_id"] == "baseline" and r["quantile"] == "p50"]


def _effect(capacity: list[dict], risk: list[dict]) -> list[dict]:
    """Baseline capacity with the twin's risk vs history-only failure rates: 0–6 % less."""
    p10 = {
        (r["line_id"], r["bucket_start"]): r["capacity_units"]
        for r in capacity
        if r["scenario_id"] == "baseline" and r["quantile"] == "p10"
    }
    rows = []
    for i, row in enumerate(_baseline_p50(capacity)):
        cut = 0.06 if i < 2 else 0.0  # the risk weighs on the first weeks only
        with_risk, history_only = row["capacity_units"], row["capacity_units"] / (1 - cut)
        rows.append(
            {**row, "machines_with_risk": sum(r["p_failure_72h"] > 0.2 for r in risk),
             "capacity_p50_with_risk": with_risk, "capacity_p50_history_only": history_only,
             "p50_difference_units": with_risk - history_only,
             "p50_difference_share": with_risk / history_only - 1,
             "capacity_p10_with_risk": p10[(row["line_id"], row["bucket_start"])],
             "capacity_p10_history_only": p10[(row["line_id"], row["bucket_start"])] / (1 - cut),
             "model_version": "failure_model v12"}
        )  # fmt: skip
    return rows


def _feasibility(capacity: list[dict], rng: np.random.Generator) -> list[dict]:
    """A demand plan around capacity: some weeks feasible, some at risk, one infeasible."""
    rows = []
    for row in _baseline_p50(capacity):
        demand = row["capacity_units"] * float(rng.uniform(0.7, 1.15))
        load = demand / row["capacity_units"]
        p_meet = float(np.clip(1.6 - load, 0, 1))
        status = "feasible" if p_meet >= 0.9 else "at_risk" if p_meet >= 0.5 else "infeasible"
        rows.append(
            {**row, "plan_version": "S&OP 2026-11", "demand_units": demand,
             "split_demand_units": 0.0, "capacity_units_p10": row["capacity_units"] * 0.85,
             "capacity_units_p50": row["capacity_units"],
             "capacity_units_p90": row["capacity_units"] * 1.08,
             "p_meet_demand": p_meet,
             "shortfall_units_p50": max(demand - row["capacity_units"], 0.0),
             "load_ratio_p50": load, "status": status, "assumed_capacity_units": None,
             "gap_vs_assumed_pct": None}
        )  # fmt: skip
    return rows


def make_tables(seed: int = 7) -> dict[str, pd.DataFrame]:
    """A plausible plant: two lines, three scenarios, risk scores and two weeks of KPIs."""
    rng = np.random.default_rng(seed)
    capacity = _capacity(rng)
    weeks = sorted({(r["bucket_start"], r["bucket_end"]) for r in capacity})
    constraint = []
    for line, (machines, _) in LINES.items():
        shares = rng.dirichlet(np.linspace(4, 1, len(machines)))
        for start, end in weeks:
            for rank, (machine, share) in enumerate(
                sorted(zip(machines, shares, strict=True), key=lambda m: -m[1]), start=1
            ):
                constraint += [
                    {"site_id": "PLANT-DE-01", "line_id": line, "scenario_id": s,
                     "bucket_grain": "week", "bucket_start": start, "bucket_end": end,
                     "machine_id": machine, "bottleneck_share": float(share), "rank": rank}
                    for s in SCENARIOS
                ]  # fmt: skip
    machines = [m for ms, _ in LINES.values() for m in ms]
    risk = []
    for i, machine in enumerate(machines):
        h50 = float(rng.uniform(20, 900))
        risk.append(
            {"site_id": "PLANT-DE-01", "machine_id": machine, "as_of": dt.datetime(2026, 11, 24, 22),
             "p_failure_72h": float(rng.beta(1.2, 5)), "hours_to_failure_p10": h50 * 0.3,
             "hours_to_failure_p50": h50, "hours_to_failure_p90": h50 * 2.5,
             "failure_mode": MODES[i % len(MODES)], "model_version": "failure_model v12",
             "risk_drivers": "vibration_rms_mean_24h +3.2σ (Δp +0.21)",
             "driver_1": "vibration_rms_mean_24h", "driver_2": None, "driver_3": None}
        )  # fmt: skip
    kpi = []
    for line in LINES:
        for d in range(14):
            a, p, q = rng.uniform(0.82, 0.95), rng.uniform(0.88, 0.97), rng.uniform(0.97, 0.995)
            kpi.append(
                {"site_id": "PLANT-DE-01", "line_id": line, "machine_id": None,
                 "date": HORIZON_START - dt.timedelta(days=d + 1), "availability": a,
                 "performance": p, "quality": q, "oee": a * p * q, "planned_busy_hours": 24.0,
                 "production_hours": 24.0 * a,
                 "data_completeness": 0.87 if (line, d) == ("L2", 2) else float(rng.uniform(0.97, 1))}
            )  # fmt: skip
    return {
        "capacity_supply": _frame("capacity_supply", capacity),
        "prediction_effect": _frame("prediction_effect", _effect(capacity, risk)),
        "capacity_feasibility": _frame("capacity_feasibility", _feasibility(capacity, rng)),
        "constraint_map": _frame("constraint_map", constraint),
        "machine_failure_risk": _frame("machine_failure_risk", risk),
        "kpi_daily": _frame("kpi_daily", kpi),
    }


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with everything that could reach the network switched off."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} not found. {INSTALL_HINT}")
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",  # tests run as root in containers; the page is our own file
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"chromium failed ({result.returncode}): {result.stderr[-2000:]}"
    return result


def png_stats(png: bytes) -> tuple[int, int, int]:
    """Width, height and number of distinct byte values in the decoded pixel rows (no Pillow)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", png[16:24])
    data, offset = b"", 8
    while offset < len(png):
        length, kind = struct.unpack(">I4s", png[offset : offset + 8])
        if kind == b"IDAT":
            data += png[offset + 8 : offset + 8 + length]
        offset += 12 + length
    return width, height, len(set(zlib.decompress(data)))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real publication on a tmp TWIN_HOME: the report is written by the publication hook."""
    paths = TwinPaths(tmp_path_factory.mktemp("twin_home")).ensure()
    lineage = {
        "model_version": "failure_model v12",
        "batch_ids": ["b1", "b2"],
        "data_window": {"start": "2026-09-01", "end": "2026-11-24"},
        "scenario_set": sorted(SCENARIOS),
    }
    publish(paths, make_tables(), lineage)
    return paths.published / "report.html"


def test_report_renders_every_section_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    dom = chromium("--dump-dom", report.as_uri(), profile=tmp_path / "profile").stdout
    for element_id in KEY_IDS:
        assert f'id="{element_id}"' in dom, f"{element_id} missing from the rendered page"
    assert "<svg" in dom
    assert "PLANT-DE-01" in dom
    assert "No actuals yet for a published week." in dom


def test_report_screenshot_is_a_real_page(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "capacity_report.png"
    chromium(
        f"--screenshot={shot}", "--window-size=1280,2000", report.as_uri(), profile=tmp_path / "p"
    )
    png = shot.read_bytes()
    width, height, distinct = png_stats(png)
    assert (width, height) == (1280, 2000)
    assert len(png) > 20_000, "screenshot suspiciously small: blank page?"
    assert distinct > 50, "screenshot is nearly uniform: the page did not render"
    if os.environ.get("TWIN_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOTS / "capacity_report.png")


def test_missing_chromium_fails_loudly_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A skipped browser test would hide a report nobody looked at: it must fail and say what to do.
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        chromium("--dump-dom", "about:blank", profile=tmp_path)
