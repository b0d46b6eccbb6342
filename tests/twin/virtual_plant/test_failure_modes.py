"""The demo plant's FMEA declaration matches what the virtual plant generates."""

from twin.paths import DEMO_PLANT
from twin.plant.model import load_plant
from twin.virtual_plant.timeline import MODES


def test_the_demo_plant_declares_exactly_the_generated_modes_without_precursor() -> None:
    # The failure model's evaluation trusts this declaration to set failures apart as expected
    # misses; it must name the modes the generator gives no precursor signal, and no others.
    plant = load_plant(DEMO_PLANT)
    silent = {mode for mode, (_, signal, _) in MODES.items() if signal is None}
    assert plant.modes_without_precursor == silent
    assert {f.id for f in plant.failure_modes} == set(MODES)
