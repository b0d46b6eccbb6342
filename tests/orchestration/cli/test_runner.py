"""In-process runs load the code location for the twin the environment names, never another one."""

from orchestration.cli import runner


def test_a_process_that_runs_two_twins_loads_each_its_own_definitions(tmp_path, monkeypatch):
    monkeypatch.setenv("TWIN_HOME", str(tmp_path / "first"))
    first = runner._definitions()
    assert runner._definitions() is first  # loaded once per twin, not per run
    monkeypatch.setenv("TWIN_HOME", str(tmp_path / "second"))
    second = runner._definitions()
    assert second is not first
    assert second.resources["twin"].home == str((tmp_path / "second").resolve())
    assert first.resources["twin"].home == str((tmp_path / "first").resolve())
