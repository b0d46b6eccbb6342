"""Fixtures shared by every test: each test gets its own TWIN_HOME and Dagster instance."""

import pytest

from tests.support.batches import demo_plant
from twin.paths import TwinPaths


@pytest.fixture(autouse=True)
def twin_env(tmp_path, monkeypatch):
    """Isolate every test: state under tmp_path, the demo plant, no analytics calls."""
    home = tmp_path / "twin_home"
    monkeypatch.setenv("TWIN_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.delenv("TWIN_PLANT", raising=False)
    monkeypatch.setenv("GX_ANALYTICS_ENABLED", "false")
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    return home


@pytest.fixture
def paths(tmp_path) -> TwinPaths:
    """A fresh TWIN_HOME with its folders."""
    return TwinPaths(tmp_path / "home").ensure()


@pytest.fixture(scope="session")
def plant():
    """The demo plant model."""
    return demo_plant()


def pytest_collection_modifyitems(items):
    """The deployed-twin test first: it takes minutes, mostly waiting on its daemon, so with two
    xdist workers (`make test`) it then runs alongside the rest of the suite instead of after it."""
    items.sort(key=lambda item: "test_deployed_twin" not in item.nodeid)  # stable: order kept
