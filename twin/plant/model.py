"""The plant model (DESIGN §3.2): site, calendar, products, serial lines, machines and their tags.

Loaded strictly: an unknown key, a duplicate id, a tag filed under the wrong machine or a non-positive
cycle time is a PlantModelError naming the file and the key, because a typo must never silently
change the twin.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from statistics import fmean
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from twin.yaml_files import parse_yaml

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")

PositiveFloat = Annotated[float, Field(gt=0)]


class PlantModelError(ValueError):
    """The plant model file is invalid; the message names the file and the offending key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Site(_Strict):
    id: str
    name: str
    timezone: str

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r}") from exc
        return value


class Shift(_Strict):
    name: str
    start: str
    end: str
    days: list[Weekday] = Field(min_length=1)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock_time(cls, value: object) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            # YAML 1.1 reads an unquoted 14:00 as the base-60 integer 840; give the clock back.
            value = f"{value // 60:02d}:{value % 60:02d}"
        if not _CLOCK.match(str(value)):
            raise ValueError(f"{value!r} is not a clock time HH:MM (00:00-24:00)")
        return str(value)

    @model_validator(mode="after")
    def _not_empty(self) -> Shift:
        if self.start == self.end:
            raise ValueError(f"shift {self.name!r} starts and ends at {self.start}")
        return self

    @property
    def crosses_midnight(self) -> bool:
        return self.end != "24:00" and self.end < self.start

    def hours(self) -> float:
        start, end = _minutes(self.start), _minutes(self.end)
        return ((end - start) % (24 * 60) or 24 * 60) / 60


class Calendar(_Strict):
    shifts: list[Shift] = Field(min_length=1)
    holidays: list[dt.date] = Field(default_factory=list)


class Product(_Strict):
    id: str
    family: str


class PlannedMaintenance(_Strict):
    every_days: PositiveFloat
    duration_h: PositiveFloat


class Tag(_Strict):
    tag: str
    signal: str
    unit: str
    period_s: PositiveFloat
    min: float
    max: float

    @model_validator(mode="after")
    def _range(self) -> Tag:
        if self.min >= self.max:
            raise ValueError(f"tag {self.tag!r}: min ({self.min}) must be below max ({self.max})")
        return self


class Machine(_Strict):
    id: str
    type: str
    ideal_cycle_time_s: dict[str, PositiveFloat] = Field(min_length=1)
    changeover_min: float = Field(default=0.0, ge=0)
    planned_maintenance: list[PlannedMaintenance] = Field(default_factory=list)
    tags: list[Tag] = Field(default_factory=list)
    # consecutive machines of a line with the same station work in parallel at one step of the
    # line (DESIGN §3.2); None: the machine is a station of its own
    station: str | None = None


class Line(_Strict):
    id: str
    buffer_capacity: int = Field(ge=0)
    machines: list[Machine] = Field(min_length=1)

    @model_validator(mode="after")
    def _stations_consecutive(self) -> Line:
        for name in dict.fromkeys(m.station for m in self.machines if m.station is not None):
            at = [i for i, m in enumerate(self.machines) if m.station == name]
            if at[-1] - at[0] + 1 != len(at):
                ids = [self.machines[i].id for i in at]
                raise ValueError(
                    f"line {self.id!r}: the machines of station {name!r} {ids} must be consecutive "
                    "in flow order (machines in parallel at one step of the line)"
                )
        return self

    @property
    def stations(self) -> list[list[Machine]]:
        """The line's steps in flow order: each a list of the machines working in parallel there."""
        out: list[list[Machine]] = []
        for m in self.machines:
            if m.station is not None and out and out[-1][0].station == m.station:
                out[-1].append(m)
            else:
                out.append([m])
        return out

    @property
    def products(self) -> list[str]:
        """The products every machine of the line has a cycle time for: what the line can make."""
        return sorted(set.intersection(*(set(m.ideal_cycle_time_s) for m in self.machines)))

    def constraint_rate_per_h(self, product: str, counts: Sequence[int] | None = None) -> float:
        """Ideal units per hour of ``product`` at the line's slowest station.

        A station's rate is the mean ideal rate of its machines times how many it has: ``counts``
        per station where a scenario adds machines, else the machines the plant model lists.
        """
        stations = self.stations
        counts = [len(s) for s in stations] if counts is None else counts
        return min(
            count * fmean(3600.0 / m.ideal_cycle_time_s[product] for m in station)
            for station, count in zip(stations, counts, strict=True)
        )


class FailureMode(_Strict):
    """A failure mode as the plant's FMEA knows it (optional, DESIGN §3.2 extension).

    ``precursor: false`` declares a mode that gives no measurable warning (FMEA detectability: an
    electrical fault, a power surge): the failure-risk model cannot be expected to see it coming, so
    its evaluation reports such failures apart, as expected misses, instead of counting them
    against the model's recall. Modes not listed are assumed to have a precursor.
    """

    id: str = Field(min_length=1)
    precursor: bool = Field(default=True, strict=True)


class Plant(_Strict):
    site: Site
    calendar: Calendar
    products: list[Product] = Field(min_length=1)
    lines: list[Line] = Field(min_length=1)
    failure_modes: list[FailureMode] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Plant:
        _no_duplicates("products", [p.id for p in self.products])
        _no_duplicates("lines", [line.id for line in self.lines])
        _no_duplicates("machines", [m.id for m in self.machines])
        _no_duplicates("tags", [t.tag for _, t in self.iter_tags()])
        _no_duplicates("calendar.shifts", [s.name for s in self.calendar.shifts])
        _no_duplicates("failure_modes", [f.id for f in self.failure_modes])
        products = {p.id for p in self.products}
        machine_ids = {m.id for m in self.machines}
        for line in self.lines:
            for machine in line.machines:
                unknown = sorted(set(machine.ideal_cycle_time_s) - products)
                if unknown:
                    raise ValueError(
                        f"machine {machine.id!r}: ideal_cycle_time_s names unknown product(s) {unknown}"
                    )
                for tag in machine.tags:
                    # A tag named after another machine was filed under the wrong one: its
                    # readings would be attributed to the wrong equipment.
                    owner = tag.tag.split(".", 1)[0]
                    if "." in tag.tag and owner in machine_ids and owner != machine.id:
                        raise ValueError(
                            f"tag {tag.tag!r} is listed under machine {machine.id!r} but names machine {owner!r}"
                        )
        return self

    @property
    def machines(self) -> list[Machine]:
        return [m for line in self.lines for m in line.machines]

    @property
    def modes_without_precursor(self) -> frozenset[str]:
        """CMMS failure modes the plant model declares as giving no warning (``precursor: false``)."""
        return frozenset(f.id for f in self.failure_modes if not f.precursor)

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.site.timezone)

    def iter_tags(self) -> Iterator[tuple[Machine, Tag]]:
        for machine in self.machines:
            for tag in machine.tags:
                yield machine, tag

    def line_of(self, machine_id: str) -> Line:
        for line in self.lines:
            if any(m.id == machine_id for m in line.machines):
                return line
        raise KeyError(machine_id)

    def machine(self, machine_id: str) -> Machine:
        for m in self.machines:
            if m.id == machine_id:
                return m
        raise KeyError(machine_id)


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _no_duplicates(what: str, ids: list[str]) -> None:
    dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dupes:
        raise ValueError(f"duplicate id(s) in {what}: {dupes}")


def _describe(error: dict) -> str:
    location = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = f"unknown key {error['loc'][-1]!r}"
        if error["loc"][-1] == "tags" and len(error["loc"]) == 1:
            message += " (tags are declared under the machine they belong to)"
    return f"{location}: {message}" if location else message


def parse_plant(raw: object, *, source: str = "<plant model>") -> Plant:
    """Validate an already-parsed YAML document as a plant model."""
    if not isinstance(raw, dict):
        raise PlantModelError(
            f"{source}: a plant model is a mapping with site, calendar, products, lines"
        )
    try:
        return Plant.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors())
        raise PlantModelError(f"{source}: {problems}") from None


def load_plant(path: str | Path) -> Plant:
    """Load and validate the plant model YAML at ``path``."""
    path = Path(path)
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlantModelError(f"{path}: plant model file not found (set TWIN_PLANT)") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise PlantModelError(f"{path}: not valid YAML: {exc}") from None
    return parse_plant(raw, source=str(path))
