"""A synthetic plant of any size: the scale knobs for benchmarks and load tests.

The plant is built as the same dict a YAML file would give and validated by `parse_plant`, so a
synthetic plant is held to exactly the rules of a real one.
"""

from __future__ import annotations

import numpy as np

from twin.plant.model import Plant, parse_plant

# (signal, unit, min, max) cycled through per machine: the demo plant's mix of measurements
SIGNALS: tuple[tuple[str, str, float, float], ...] = (
    ("temperature", "degC", -20.0, 200.0),
    ("vibration", "mm/s", 0.0, 50.0),
    ("power", "kW", 0.0, 60.0),
    ("torque", "Nm", 0.0, 400.0),
    ("pressure", "bar", 0.0, 20.0),
    ("speed", "rpm", 0.0, 6000.0),
    ("humidity", "%RH", 0.0, 100.0),
)


def synthetic_plant(*args, **kwargs) -> Plant:
    """The synthetic plant (see `synthetic_plant_dict` for the arguments), validated."""
    return parse_plant(synthetic_plant_dict(*args, **kwargs), source="<synthetic plant>")


def synthetic_plant_dict(
    lines: int,
    machines_per_line: int,
    tags_per_machine: int,
    period_s: float,
    seed: int = 7,
    *,
    products_per_line: int = 2,
    shifts: str = "2x5",
) -> dict:
    """A plant model, as its YAML file reads: `lines` serial lines x `machines_per_line` machines
    x `tags_per_machine` tags.

    Every tag samples every `period_s` seconds. Cycle times (20-60 s) and changeovers are drawn from
    `seed`. `shifts` is "2x5" (two 8 h shifts Mon-Fri, like the demo plant) or "3x7" (around the clock).
    """
    if min(lines, machines_per_line) < 1 or tags_per_machine < 0:
        raise ValueError("need at least one line and one machine per line")
    rng = np.random.default_rng(seed)
    if shifts == "3x7":
        week = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        shift_list = [
            {"name": n, "start": s, "end": e, "days": week}
            for n, s, e in (
                ("early", "06:00", "14:00"),
                ("late", "14:00", "22:00"),
                ("night", "22:00", "06:00"),
            )
        ]
    elif shifts == "2x5":
        week = ["mon", "tue", "wed", "thu", "fri"]
        shift_list = [
            {"name": "early", "start": "06:00", "end": "14:00", "days": week},
            {"name": "late", "start": "14:00", "end": "22:00", "days": week},
        ]
    else:
        raise ValueError(f"shifts must be '2x5' or '3x7', not {shifts!r}")
    products = [f"P{i:03d}" for i in range(1, lines * products_per_line + 1)]
    line_list = []
    for li in range(lines):
        line_products = products[li * products_per_line : (li + 1) * products_per_line]
        machines = []
        for mi in range(machines_per_line):
            mid = f"S{li + 1:02d}-M{mi + 1:03d}"
            base = float(rng.uniform(20, 60))
            tags = []
            for ti in range(tags_per_machine):
                signal, unit, lo, hi = SIGNALS[ti % len(SIGNALS)]
                tags.append(
                    {
                        "tag": f"{mid}.{signal}_{ti + 1}",
                        "signal": signal,
                        "unit": unit,
                        "period_s": period_s,
                        "min": lo,
                        "max": hi,
                    }
                )
            machines.append(
                {
                    "id": mid,
                    "type": "generic",
                    "ideal_cycle_time_s": {
                        p: round(base * float(rng.uniform(0.9, 1.2)), 1) for p in line_products
                    },
                    "changeover_min": float(rng.choice([10, 20, 30, 45])),
                    "planned_maintenance": [
                        {
                            "every_days": float(rng.choice([21, 28, 35, 42])),
                            "duration_h": float(rng.choice([2, 3, 4])),
                        }
                    ],
                    "tags": tags,
                }
            )
        line_list.append({"id": f"S{li + 1:02d}", "buffer_capacity": 20, "machines": machines})
    return {
        "site": {"id": "SYNTH", "name": "Synthetic plant", "timezone": "Europe/Berlin"},
        "calendar": {"shifts": shift_list, "holidays": []},
        "products": [{"id": p, "family": "synthetic"} for p in products],
        "lines": line_list,
    }
