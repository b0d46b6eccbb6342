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
* ``line_down``: ``line``, ``days`` > 0 and ``start_day`` (days after the horizon start) or
  ``start_date`` (a site-local date);
* ``extra_shift``: a shift like the plant calendar's (``name``, ``start``, ``end``, ``days``) for
  ``lines`` (default every line); plant holidays are respected;
* ``added_machine``: ``line``, ``station`` (``bottleneck`` or a machine id of that line) and
  ``count`` identical machines added in parallel at that station (default 1);
* ``product_mix``: ``line`` and ``shares`` per product (summing to 1) made on that line.

As with the plant model, an unknown key, a bad value or an id the plant does not know is a
``ScenarioError`` naming the file and the key (a typo must not silently run the baseline).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from twin.paths import plant_path
from twin.plant.model import Plant, Shift, load_plant

_SHARE_TOLERANCE = 1e-3  # shares written with 3 decimals (0.333 x 3) still sum to 1


class ScenarioError(ValueError):
    """A scenario file is invalid; the message names the file and the offending key."""


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
                "give exactly one of start_day (days after the horizon start) or start_date"
            )
        return self


class ExtraShift(Shift):
    """A plant calendar shift (same fields and checks) added for some lines."""

    type: Literal["extra_shift"]
    lines: list[str] | None = None  # None = every line


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
    """Validate a parsed YAML document as a scenario and check its ids against ``plant``."""
    if not isinstance(raw, dict):
        raise ScenarioError(f"{source}: a scenario is a mapping with id, changes, ...")
    if "source" in raw:
        raise ScenarioError(f"{source}: source: unknown key 'source'")
    try:
        scenario = Scenario.model_validate({**raw, "source": source})
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors())
        raise ScenarioError(f"{source}: {problems}") from None
    check_ids(scenario, plant)
    return scenario


def check_ids(scenario: Scenario, plant: Plant) -> None:
    """Every line, machine and product a change names must exist in the plant (and fit)."""
    lines = {line.id: line for line in plant.lines}
    products = {p.id for p in plant.products}

    def fail(i: int, key: str, message: str) -> ScenarioError:
        return scenario.error(f"changes.{i}.{key}: {message}")

    def known_line(i: int, line_id: str, key: str = "line") -> None:
        if line_id not in lines:
            raise fail(i, key, f"unknown line {line_id!r} (plant lines: {sorted(lines)})")

    for i, c in enumerate(scenario.changes):
        if isinstance(c, PmWindowMoved):
            if c.line is not None:
                known_line(i, c.line)
            if c.machine != "all":
                try:
                    owner = plant.line_of(c.machine).id
                except KeyError:
                    raise fail(i, "machine", f"unknown machine {c.machine!r}") from None
                if c.line is not None and owner != c.line:
                    raise fail(
                        i, "machine", f"machine {c.machine!r} is on line {owner!r}, not {c.line!r}"
                    )
        elif isinstance(c, ExtraShift):
            for line_id in c.lines or []:
                known_line(i, line_id, "lines")
        elif isinstance(c, LineDown):
            known_line(i, c.line)
        elif isinstance(c, AddedMachine):
            known_line(i, c.line)
            ids = [m.id for m in lines[c.line].machines]
            if c.station != "bottleneck" and c.station not in ids:
                raise fail(
                    i,
                    "station",
                    f"{c.station!r} is neither 'bottleneck' nor a machine of {c.line} {ids}",
                )
        elif isinstance(c, ProductMix):
            known_line(i, c.line)
            for product, share in c.shares.items():
                if product not in products:
                    raise fail(i, f"shares.{product}", f"unknown product {product!r}")
                lacking = [
                    m.id for m in lines[c.line].machines if product not in m.ideal_cycle_time_s
                ]
                if share > 0 and lacking:
                    raise fail(
                        i, f"shares.{product}", f"no ideal cycle time for {product} on {lacking}"
                    )
    _no_conflicting_mix(scenario)


def _no_conflicting_mix(scenario: Scenario) -> None:
    seen: set[str] = set()
    for c in scenario.of_type(ProductMix):
        if c.line in seen:
            raise scenario.error(f"changes: two product_mix changes for line {c.line!r}")
        seen.add(c.line)


def load_scenario(path: str | Path, plant: Plant | None = None) -> Scenario:
    """Load one scenario YAML; ids are checked against ``plant`` (default: the plant in force)."""
    path = Path(path)
    plant = plant if plant is not None else load_plant(plant_path())
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: scenario file not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from None
    return parse_scenario(raw, plant, source=str(path))


def load_scenarios(folder: str | Path | None = None, plant: Plant | None = None) -> list[Scenario]:
    """Every ``*.yaml``/``*.yml`` scenario in ``folder`` (default: the shipped ones), sorted by id."""
    folder = Path(folder) if folder is not None else SHIPPED
    if not folder.is_dir():
        raise ScenarioError(f"{folder}: scenario folder not found")
    plant = plant if plant is not None else load_plant(plant_path())
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    scenarios = [load_scenario(f, plant) for f in files]
    by_id: dict[str, str] = {}
    for s in scenarios:
        if s.id in by_id:
            raise ScenarioError(f"{s.source}: id {s.id!r} is also used by {by_id[s.id]}")
        by_id[s.id] = s.source
    return sorted(scenarios, key=lambda s: s.id)


SHIPPED = Path(__file__).resolve().parents[1] / "scenarios"
BASELINE = Scenario(id="baseline", description="The plant as planned, no changes")
