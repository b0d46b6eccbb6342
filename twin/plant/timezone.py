"""The plant's time zone (TWIN_PLANT's `site.timezone`), read at call time, never at import."""

from twin.paths import plant_path
from twin.plant.model import load_plant


def plant_timezone() -> str:
    """The IANA name, e.g. ``Europe/Berlin``: schedules, freshness checks and the backtest use it."""
    return load_plant(plant_path()).site.timezone
