import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/factories.py

from factories import demo_plant

from twin.paths import TwinPaths


@pytest.fixture
def paths(tmp_path) -> TwinPaths:
    return TwinPaths(tmp_path / "home").ensure()


@pytest.fixture(scope="session")
def plant():
    return demo_plant()
