"""What-if scenarios for the capacity engine, loaded strictly from YAML (one scenario per file).

A scenario is the baseline twin plus a list of ``changes`` applied on top of it:

    id: line_down
    description: Line L2 down for 3 days in week 3
    horizon_weeks: 13          # default 13
    replications: 500          # default 500
    seed: 42                   # same seed in every scenario = common random numbers: differences
                               # between scenarios are not drowned in sampling noise
    changes:
      - {type: line_down, line: L2, start_day: 14, days: 3}

Change types (``twin.simulation.line_params`` applies them; its docstring gives the exact semantics):

* ``pm_window_moved``: ``machine`` (id or ``all``, optionally narrowed by ``line``) and either
  ``shift_days`` (move every due date by N days, may be negative) or ``move_to: weekend``;
* ``line_down``: ``line``, ``days`` > 0 and ``start_day`` (days after the first whole planning
  week's Monday 00:00, i.e. the Monday after the last data: the horizon itself starts at the last
  data time, and counting from there would move a scenario's stop with the weekday the data
  ends on) or ``start_date`` (a site-local date, also inside the first, partial week);
* ``extra_shift``: a shift like the plant calendar's (``name``, ``start``, ``end``, ``days``) for
  ``lines`` (default every line); plant holidays are respected;
* ``added_machine``: ``line``, ``station`` (``bottleneck`` or a machine id of that line) and
  ``count`` identical machines added in parallel at that station (default 1);
* ``product_mix``: ``line`` and ``shares`` per product (summing to 1) made on that line.

Selectors let a scenario fit any plant without naming its ids (the shipped set, ``SHIPPED``, uses
only these): wherever a change names a line, ``all`` (every line) or ``bottleneck`` (the line whose
slowest station has the highest ideal cycle time per part: ``bottleneck_line``); ``machine: all``;
``station: bottleneck``. ``resolve`` replaces them by the plant's ids when the scenario is parsed,
so everything downstream sees ids (``station: bottleneck`` excepted: it needs the fitted baseline).

Which folder: ``scenario_folder_for`` (TWIN_SCENARIOS, else ``scenarios/`` next to the plant model
file, else the shipped generic set).

As with the plant model, an unknown key, a bad value or an id the plant does not know is a
``ScenarioError`` naming the file and the key (a typo must not silently run the baseline); it
carries every problem found, one ``file: key: why`` line each.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from twin import settings
from twin.paths import plant_path
from twin.plant.model import Line, Plant, Shift, load_plant
from twin.yaml_files import parse_yaml

_SHARE_TOLERANCE = 1e-3  # shares written with 3 decimals (0.333 x 3) still sum to 1


class ScenarioError(ValueError):
    """A scenario file is invalid; the message names the file and the offending key.

    ``problems`` holds one ``file: key: why`` line per problem; the message is those lines.
    """

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems: tuple[str, ...] = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PmWindowMoved(_Strict):
    type: Literal["pm_window_moved"]
    machine: str = "all"
    line: str | None = None  # narrows machine: all to one line
    shift_days: float = 0.0
    move_to: Literal["weekend"] | None = None

    @model_validator(mode="after")
    def _one_move(self) -> PmWindowMoved:
        if (self.shift_days != 0) == (self.move_to is not None):
            raise ValueError("give exactly one of shift_days (non-zero) or move_to: weekend")
        return self


class LineDown(_Strict):
    type: Literal["line_down"]
    line: str
    days: Annotated[float, Field(gt=0)]
    start_day: Annotated[float, Field(ge=0)] | None = None
    start_date: dt.date | None = None

    @model_validator(mode="after")
    def _one_start(self) -> LineDown:
        if (self.start_day is None) == (self.start_date is None):
            raise ValueError(
                "give exactly one of start_day (days after the first planning Monday) or start_date"
            )
        return self


class ExtraShift(Shift):
    """A plant calendar shift (same fields and checks) added for some lines."""

    type: Literal["extra_shift"]
    lines: list[str] | None = (
        None  # None = every line; entries may be the selectors all, bottleneck
    )

    @field_validator("lines", mode="before")
    @classmethod
    def _one_selector(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value  # lines: all == lines: [all]


class AddedMachine(_Strict):
    type: Literal["added_machine"]
    line: str
    station: str = "bottleneck"
    count: Annotated[int, Field(ge=1)] = 1


class ProductMix(_Strict):
    type: Literal["product_mix"]
    line: str
    shares: dict[str, Annotated[float, Field(ge=0)]] = Field(min_length=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> ProductMix:
        total = sum(self.shares.values())
        if abs(total - 1.0) > _SHARE_TOLERANCE:
            raise ValueError(f"shares must sum to 1, got {total:g}")
        return self


Change = Annotated[
    PmWindowMoved | LineDown | ExtraShift | AddedMachine | ProductMix,
    Field(discriminator="type"),
]


class Scenario(_Strict):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]
    description: str = ""
    horizon_weeks: Annotated[int, Field(ge=1, le=104)] = 13
    replications: Annotated[int, Field(ge=1, le=100_000)] = 500
    seed: Annotated[int, Field(ge=0)] = 0
    changes: list[Change] = Field(default_factory=list)
    source: str = Field(default="<scenario>", exclude=True)  # file it came from, for messages

    def of_type(self, kind: type) -> list:
        """The changes of one type, in file order."""
        return [c for c in self.changes if isinstance(c, kind)]

    def error(self, message: str) -> ScenarioError:
        return ScenarioError(f"{self.source}: {message}")


def _describe(error: dict) -> str:
    # drop the union tag pydantic puts into the location ("changes.0.line_down.days")
    parts = [str(p) for p in error["loc"] if p not in _CHANGE_TAGS]
    location = ".".join(parts)
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = f"unknown key {error['loc'][-1]!r}"
    elif error["type"] == "union_tag_invalid":
        message = f"unknown change type (expected one of {sorted(_CHANGE_TAGS)})"
    elif error["type"] == "union_tag_not_found":
        message = f"a change needs a type (one of {sorted(_CHANGE_TAGS)})"
    return f"{location}: {message}" if location else message


_CHANGE_TAGS = {"pm_window_moved", "line_down", "extra_shift", "added_machine", "product_mix"}


def parse_scenario(raw: object, plant: Plant, *, source: str = "<scenario>") -> Scenario:
    """Validate a parsed YAML document as a scenario and resolve it against ``plant``.

    The returned scenario names ids only: the line selectors and ``machine: all`` are replaced by
    the plant's ids here (``resolve``), so nothing downstream needs to know about selectors.
    """
    if not isinstance(raw, dict):
        raise ScenarioError(f"{source}: a scenario is a mapping with id, changes, ...")
    if "source" in raw:
        raise ScenarioError(f"{source}: source: unknown key 'source'")
    try:
        scenario = Scenario.model_validate({**raw, "source": source})
    except ValidationError as exc:
        raise ScenarioError(*(f"{source}: {_describe(e)}" for e in exc.errors())) from None
    return resolve(scenario, plant)


def line_cycle_time_s(line: Line) -> float:
    """Ideal seconds per part of the line's slowest station (the line's capacity limit by design).

    A machine's time per part is the mean of its ideal cycle times over the products every machine
    of the line has one for (equal shares, as the capacity engine assumes without a mix; all of its
    own products when the line has none in common). Consecutive machines with the same ``station``
    work in parallel: the station's time is 1 / sum(1 / time of each machine).
    """
    common = set.intersection(*(set(m.ideal_cycle_time_s) for m in line.machines))
    stations: list[tuple[object, list[float]]] = []
    for m in line.machines:
        products = sorted(common) or sorted(m.ideal_cycle_time_s)
        seconds = sum(m.ideal_cycle_time_s[p] for p in products) / len(products)
        station = getattr(m, "station", None)
        if station is not None and stations and stations[-1][0] == station:
            stations[-1][1].append(seconds)
        else:
            stations.append((station, [seconds]))
    return max(1.0 / sum(1.0 / s for s in times) for _, times in stations)


def bottleneck_line(plant: Plant) -> str:
    """The line with the least capacity by the plant model alone (known before any history).

    It is the line whose slowest station has the highest ideal cycle time per part
    (``line_cycle_time_s``); on a tie, the first such line in the plant file.
    """
    return max(plant.lines, key=line_cycle_time_s).id  # max keeps the first of equal keys


def resolve(scenario: Scenario, plant: Plant) -> Scenario:
    """``scenario`` with every selector replaced by the plant's ids, after checking every id.

    Line selectors (wherever a change names a line): ``all`` = one change per line of the plant
    (for ``extra_shift``'s ``lines``: every line), ``bottleneck`` = ``bottleneck_line``. A plant
    line that is literally called ``all`` or ``bottleneck`` wins over the selector. Machine
    selector (``pm_window_moved``): ``all`` = one change per machine (of the narrowing ``line``, if
    given; a machine id always means that machine). ``station: bottleneck`` of ``added_machine`` stays: it is resolved from the fitted
    baseline (``twin.simulation.line_params``). Every problem is collected: the ScenarioError lists
    them all, one ``file: key: why`` each.
    """
    lines = {line.id: line for line in plant.lines}
    products = {p.id for p in plant.products}
    problems: list[str] = []

    def fail(i: int, key: str, message: str) -> None:
        problems.append(f"{scenario.source}: changes.{i}.{key}: {message}")

    def line_ids(i: int, value: str, key: str = "line") -> list[str]:
        if value in lines:
            return [value]
        if value == ALL:
            return list(lines)
        if value == BOTTLENECK:
            return [bottleneck_line(plant)]
        fail(
            i,
            key,
            f"unknown line {value!r} (plant lines: {sorted(lines)}; or the selectors "
            f"{ALL!r}, {BOTTLENECK!r})",
        )
        return []

    changes: list = []
    for i, c in enumerate(scenario.changes):
        if isinstance(c, PmWindowMoved):
            on = list(lines) if c.line is None else line_ids(i, c.line)
            if not on:
                continue
            if c.machine == ALL:
                changes += [
                    c.model_copy(update={"machine": m.id, "line": lid})
                    for lid in on
                    for m in lines[lid].machines
                ]
                continue
            try:
                owner = plant.line_of(c.machine).id
            except KeyError:
                fail(i, "machine", f"unknown machine {c.machine!r} (or the selector {ALL!r})")
                continue
            if owner not in on:
                fail(i, "machine", f"machine {c.machine!r} is on line {owner!r}, not {c.line!r}")
                continue
            changes.append(c.model_copy(update={"line": owner}))
        elif isinstance(c, ExtraShift):
            picked = [lid for v in (c.lines or [ALL]) for lid in line_ids(i, v, "lines")]
            changes.append(c.model_copy(update={"lines": list(dict.fromkeys(picked))}))
        elif isinstance(c, LineDown):
            changes += [c.model_copy(update={"line": lid}) for lid in line_ids(i, c.line)]
        elif isinstance(c, AddedMachine):
            for lid in line_ids(i, c.line):
                ids = [m.id for m in lines[lid].machines]
                if c.station != BOTTLENECK and c.station not in ids:
                    fail(
                        i,
                        "station",
                        f"{c.station!r} is neither {BOTTLENECK!r} nor a machine of {lid} {ids}",
                    )
                else:
                    changes.append(c.model_copy(update={"line": lid}))
        elif isinstance(c, ProductMix):
            for lid in line_ids(i, c.line):
                fits = True
                for product, share in c.shares.items():
                    if product not in products:
                        fail(i, f"shares.{product}", f"unknown product {product!r}")
                        fits = False
                        continue
                    lacking = [
                        m.id for m in lines[lid].machines if product not in m.ideal_cycle_time_s
                    ]
                    if share > 0 and lacking:
                        fail(
                            i,
                            f"shares.{product}",
                            f"no ideal cycle time for {product} on {lacking}",
                        )
                        fits = False
                if fits:
                    changes.append(c.model_copy(update={"line": lid}))
    problems += _conflicting_mix(scenario, changes)
    if problems:
        raise ScenarioError(*problems)
    return scenario.model_copy(update={"changes": changes})


def check_ids(scenario: Scenario, plant: Plant) -> None:
    """Every line, machine and product a change names must exist in the plant (and fit)."""
    resolve(scenario, plant)


def _conflicting_mix(scenario: Scenario, changes: list) -> list[str]:
    seen: set[str] = set()
    problems = []
    for c in changes:
        if not isinstance(c, ProductMix):
            continue
        if c.line in seen:
            problems.append(
                f"{scenario.source}: changes: two product_mix changes for line {c.line!r}"
            )
        seen.add(c.line)
    return problems


def load_scenario(path: str | Path, plant: Plant | None = None) -> Scenario:
    """Load one scenario YAML; ids are checked against ``plant`` (default: the plant in force)."""
    path = Path(path)
    plant = plant if plant is not None else load_plant(plant_path())
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: scenario file not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from None
    return parse_scenario(raw, plant, source=str(path))


def scenario_folder_for(plant_file: str | Path) -> Path:
    """The scenario folder in force for the plant model at ``plant_file`` (DESIGN §3.1).

    TWIN_SCENARIOS if set (even if it does not exist: loading then says so), else a
    ``scenarios/`` folder next to the plant model file if there is one, else the shipped generic
    set (``SHIPPED``), which names no line or machine id and so fits any plant.
    """
    chosen = settings.scenarios_dir()
    if chosen is not None:
        return chosen
    beside = Path(plant_file).resolve().parent / "scenarios"
    return beside if beside.is_dir() else SHIPPED


def scenario_files(folder: Path) -> list[Path]:
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def check_scenarios(folder: str | Path, plant: Plant) -> tuple[list[Scenario], list[str]]:
    """Load every scenario of ``folder`` against ``plant``: (the good ones, every problem found)."""
    folder = Path(folder)
    if not folder.is_dir():
        return [], [f"{folder}: scenario folder not found"]
    scenarios: list[Scenario] = []
    problems: list[str] = []
    for path in scenario_files(folder):
        try:
            scenarios.append(load_scenario(path, plant))
        except ScenarioError as error:
            problems += error.problems
    by_id: dict[str, str] = {}
    for s in scenarios:
        if s.id in by_id:
            problems.append(f"{s.source}: id: the id {s.id!r} is also used by {by_id[s.id]}")
        by_id.setdefault(s.id, s.source)
    return sorted(scenarios, key=lambda s: s.id), problems


def load_scenarios(folder: str | Path | None = None, plant: Plant | None = None) -> list[Scenario]:
    """Every ``*.yaml``/``*.yml`` scenario in ``folder``, sorted by id.

    ``folder`` defaults to ``scenario_folder_for`` the plant model in force; ``plant`` to that
    plant. Any problem (in any file) is one ScenarioError listing them all.
    """
    folder = Path(folder) if folder is not None else scenario_folder_for(plant_path())
    plant = plant if plant is not None else load_plant(plant_path())
    scenarios, problems = check_scenarios(folder, plant)
    if problems:
        raise ScenarioError(*problems)
    return scenarios


ALL = "all"
BOTTLENECK = "bottleneck"
SHIPPED = Path(__file__).resolve().parents[1] / "scenarios"
BASELINE = Scenario(id="baseline", description="The plant as planned, no changes")
