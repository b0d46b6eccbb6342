"""The virtual plant: seeded, deterministic landing files for historian, MES and CMMS (DESIGN §3.1).

    generate(plant, landing, days=28)            # continue the plant's history (or end yesterday)

Design in one paragraph: a plant history is a pure function of (plant, seed). Maintenance events
(planned every `every_days`, corrective failures as a renewal process in operating time) are derived
from a fixed origin (2020-01-01, vp_timeline); everything inside a day (states, signals, defects)
is drawn from streams keyed by (seed, machine or tag, that day or shift). The machines of a line
are coupled by the flow of parts through its buffers (starved, blocked), simulated one site-local
week at a time from a fixed starting state (vp_flow, vp_line_week). Generating days 1-10 and then
11-20 therefore writes the same bytes for 11-20 as one call for 1-20. The only state
kept is where the last call stopped (for start=None) and late slices waiting for delivery:
`<landing>/../generator/state.json` and `.../generator/pending/`.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from twin.plant.model import Plant
from twin.virtual_plant.defects import late_plan, mes_duplicates, tag_defects
from twin.virtual_plant.landing_files import (
    CMMS_COLUMNS,
    MES_PRODUCTION_COLUMNS,
    MES_STATES_COLUMNS,
    HistorianWriter,
    iso_seconds,
    read_json,
    write_csv,
    write_json,
)
from twin.virtual_plant.line_week import EventIndex, LineWeek, day_events, render_line_week, week_of
from twin.virtual_plant.mes import production_rows, state_rows
from twin.virtual_plant.records import (
    cmms_rows,
    failure_truth,
    late_truth,
    read_truth,
    to_frame,
    write_truth,
)
from twin.virtual_plant.signals import heat, render_tag
from twin.virtual_plant.timeline import ORIGIN, Event, OpClock, failure_events, pm_events

__all__ = ["GenerationReport", "generate", "read_truth"]

# Failures are simulated this far past the last generated day, so that a failure shortly after it
# already shows its precursor (bearing ramps reach back up to 90 operating hours, ~9 calendar days
# on a 2-shift plant, longer over holidays); it also covers the rest of the last day's week, which
# the line's flow is simulated over (vp_line_week).
LOOKAHEAD_DAYS = 21


@dataclass
class GenerationReport:
    """What one call of generate() wrote."""

    first_day: dt.date
    last_day: dt.date
    days: int
    seed: int
    files: list[Path] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    failures: list[dict] = field(default_factory=list)
    defects: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    # good parts finished by each line's last machine over these days: what the line made
    line_good_units: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        modes = Counter(f["failure_mode"] for f in self.failures)
        rows = ", ".join(f"{k} {v:,}" for k, v in self.rows.items())
        return (
            f"generated {self.days} day(s) {self.first_day}..{self.last_day} (seed {self.seed}) in "
            f"{self.seconds:.1f} s: {len(self.files)} files; rows: {rows}; "
            f"failures: {len(self.failures)} {dict(modes)}; defects: {dict(self.defects)}"
        )


def _state_dir(landing: Path) -> Path:
    return landing.parent / "generator"


def _choose_start(landing: Path, days: int, start: dt.date | None) -> dt.date:
    if start is not None:
        return start
    last = read_json(_state_dir(landing) / "state.json").get("last_day")
    if last:
        return dt.date.fromisoformat(last) + dt.timedelta(days=1)
    return dt.date.today() - dt.timedelta(days=days)


def _machine_events(plant: Plant, clock: OpClock, seed: int) -> dict[str, list[Event]]:
    out = {}
    for machine in plant.machines:
        pms = pm_events(plant, clock, machine, seed)
        out[machine.id] = sorted(
            pms + failure_events(clock, machine, seed, pms), key=lambda e: e.start
        )
    return out


def generate(
    plant: Plant,
    landing: Path,
    *,
    days: int,
    start: dt.date | None = None,
    seed: int = 7,
    defects: bool = True,
    truth_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    historian_format: str = "parquet",
) -> GenerationReport:
    """Write `days` site-local days of landing files for `plant` into `landing/<source>/`.

    start=None continues after the last day generated into this landing area, or (first call) starts
    `days` days before today so that the data ends yesterday. The same seed always yields the same
    plant history, whatever the split into calls. Ground truth (failures, injected defects) goes to
    `truth_dir` (default `<landing>/../generator/truth/`), one CSV per day under failures/ and defects/.
    """
    began = time.perf_counter()
    if days < 1:
        raise ValueError("days must be at least 1")
    landing = Path(landing)
    state_dir = _state_dir(landing)
    truth_dir = Path(truth_dir) if truth_dir is not None else state_dir / "truth"
    first = _choose_start(landing, days, start)
    if first < ORIGIN:
        raise ValueError(f"the virtual plant starts on {ORIGIN}; cannot generate {first}")
    last = first + dt.timedelta(days=days - 1)
    say = progress or (lambda _msg: None)
    clock = OpClock(plant, last + dt.timedelta(days=LOOKAHEAD_DAYS))
    events = _machine_events(plant, clock, seed)
    index: EventIndex = {
        m: (
            evs,
            np.array([min(e.ramp_wall_start, e.start) for e in evs]),
            np.array([e.end for e in evs]),
        )
        for m, evs in events.items()
    }
    tag_names = [t.tag for _, t in plant.iter_tags()]
    tag_index = {t: i for i, t in enumerate(tag_names)}
    report = GenerationReport(
        first,
        last,
        days,
        seed,
        rows=dict.fromkeys(("historian", "mes_states", "mes_production", "cmms"), 0),
    )
    defect_counts: Counter[str] = Counter()
    state = read_json(state_dir / "state.json")
    pending: list[dict] = state.get("pending", [])

    weeks: dict[str, LineWeek] = {}
    date = first
    while date <= last:
        monday = week_of(date)
        for line in plant.lines:
            if line.id not in weeks or weeks[line.id].monday != monday:
                weeks[line.id] = render_line_week(
                    seed, plant, line, clock, monday, index, until=last
                )
        day = weeks[plant.lines[0].id].contexts[date]
        late = late_plan(seed, plant, day) if defects else None
        stamp = date.isoformat()
        ext = "parquet" if historian_format == "parquet" else "csv"
        hist = HistorianWriter(
            landing / "historian" / f"historian_{stamp}.{ext}", tag_names, historian_format
        )
        late_hist = None
        if late is not None and late.source == "historian":
            late_hist = HistorianWriter(
                state_dir / "pending" / f"historian_{stamp}_late.{ext}", tag_names, historian_format
            )
        states, prods, cmms, truth_defects, day_failures = [], [], [], [], []
        for line in plant.lines:
            week = weeks[line.id]
            for i, machine in enumerate(line.machines):
                evs = day_events(index, machine.id, day)
                md = week.days[date][i]
                flow = week.flows[i]
                states.append(state_rows(machine, md, day))
                prods.append(production_rows(machine, md, day, flow.completed, flow.good))
                if i == len(line.machines) - 1:
                    made = int(prods[-1]["good_qty"].sum())
                    report.line_good_units[line.id] = report.line_good_units.get(line.id, 0) + made
                cmms += cmms_rows(seed, evs, day)
                day_failures += [
                    failure_truth(e)
                    for e in evs
                    if e.kind == "CORRECTIVE" and day.start <= np.floor(e.start) < day.end
                ]
                heat_s = (
                    heat(md)
                    if any(t.signal.lower() == "temperature" for t in machine.tags)
                    else None
                )
                for tag in machine.tags:
                    ts, value = render_tag(seed, machine, tag, md, day, heat_s)
                    if defects:
                        ts, value, quality, found = tag_defects(seed, tag, day, ts, value)
                        truth_defects += found
                    else:
                        quality = np.zeros(len(ts), np.int8)
                    if late_hist is not None and late is not None and late.target == machine.id:
                        held = (ts >= late.start * 1_000_000) & (ts < late.end * 1_000_000)
                        late_hist.add(tag_index[tag.tag], ts[held], value[held], quality[held])
                        ts, value, quality = ts[~held], value[~held], quality[~held]
                    hist.add(tag_index[tag.tag], ts, value, quality)
        report.files.append(hist.close())
        report.rows["historian"] += hist.rows

        frames = {
            "mes_states": to_frame(states, MES_STATES_COLUMNS, ("start_ts", "end_ts")),
            "mes_production": to_frame(prods, MES_PRODUCTION_COLUMNS, ("start_ts", "end_ts")),
            "cmms": to_frame(
                [
                    {
                        k: np.array(
                            [r[k] for r in cmms],
                            dtype=object
                            if k not in ("reported_ts", "start_ts", "end_ts")
                            else np.int64,
                        )
                        for k in CMMS_COLUMNS
                    }
                ]
                if cmms
                else [],
                CMMS_COLUMNS,
                ("reported_ts", "start_ts", "end_ts"),
            ),
        }
        if late is not None and late.source == "mes_production":
            prod = frames["mes_production"]
            machines = {m.id for ln in plant.lines if ln.id == late.target for m in ln.machines}
            lo_s, hi_s = iso_seconds(np.array([late.start, late.end]))
            held = (
                prod["machine_id"].isin(machines)
                & (prod["start_ts"] >= lo_s)
                & (prod["start_ts"] < hi_s)
            )
            frames["mes_production"] = prod[~held]
            path = write_csv(prod[held], state_dir / "pending" / f"mes_production_{stamp}_late.csv")
            pending = _queue(
                pending,
                {"file": path.name, "source": "mes_production", "due": late.due.isoformat()},
            )
            truth_defects.append(late_truth(late, int(held.sum())))
        if late_hist is not None and late is not None:
            path = late_hist.close()
            pending = _queue(
                pending, {"file": path.name, "source": "historian", "due": late.due.isoformat()}
            )
            truth_defects.append(late_truth(late, late_hist.rows))
        if defects:
            for source in ("mes_states", "mes_production"):
                frame = frames[source]
                dup = mes_duplicates(seed, source, day, len(frame))
                if len(dup):
                    frames[source] = pd.concat([frame, frame.iloc[dup]]).sort_index(kind="stable")
                    for i in dup.tolist():
                        truth_defects.append(
                            {
                                "date": stamp,
                                "source": source,
                                "kind": "duplicate",
                                "target": str(frame["machine_id"].iloc[i]),
                                "start": frame["start_ts"].iloc[i],
                                "end": frame["end_ts"].iloc[i],
                                "rows": 1,
                            }
                        )
        for source, frame in frames.items():
            report.files.append(write_csv(frame, landing / source / f"{source}_{stamp}.csv"))
            report.rows[source] += len(frame)

        # late slices due by today arrive now (after today's own files, as a late export would)
        still = []
        for item in pending:
            if dt.date.fromisoformat(item["due"]) <= date:
                target = landing / item["source"] / item["file"]
                target.parent.mkdir(parents=True, exist_ok=True)
                src = state_dir / "pending" / item["file"]
                if src.exists():
                    os.replace(src, target)
                    report.files.append(target)
            else:
                still.append(item)
        pending = still
        defect_counts.update(d["kind"] for d in truth_defects)
        report.failures += day_failures
        write_truth(truth_dir, stamp, day_failures, truth_defects)
        previous = state.get("last_day")
        state = {
            "seed": seed,
            "plant": plant.site.id,
            "pending": pending,
            "last_day": max(previous or stamp, stamp),
        }
        write_json(state, state_dir / "state.json")
        say(
            f"{stamp}: historian {hist.rows:,} rows, {len(frames['mes_states']):,} states, "
            f"{len(cmms)} work orders"
        )
        date += dt.timedelta(days=1)
    report.defects = dict(sorted(defect_counts.items()))
    report.seconds = time.perf_counter() - began
    return report


def _queue(pending: list[dict], item: dict) -> list[dict]:
    """Add a late file to the delivery queue (regenerating a day replaces its entry)."""
    return [p for p in pending if p["file"] != item["file"]] + [item]
