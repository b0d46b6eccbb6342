"""The plant's time zone for schedules, read when the code location loads (never at import)."""

from twin.paths import plant_path
from twin.plant.model import load_plant


def plant_timezone() -> str:
    return load_plant(plant_path()).site.timezone
