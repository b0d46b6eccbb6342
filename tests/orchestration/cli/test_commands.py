"""The `twin` command line: user errors are one clear sentence (exit 2), publications can be rolled back."""

import pytest

from orchestration.cli.commands import main
from tests.support.publication import LINEAGE, make_tables
from twin.paths import TwinPaths
from twin.publish.versions import publish, read_manifest


def test_a_bad_plant_model_is_one_sentence_not_a_traceback(tmp_path, monkeypatch, capsys) -> None:
    plant = tmp_path / "plant.yaml"
    plant.write_text("site: {id: P, name: x, timezone: Europe/Berlin}\nlines: []\ncolour: red\n")
    monkeypatch.setenv("TWIN_PLANT", str(plant))
    assert main(["generate", "--days", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("twin: ")
    assert "unknown key 'colour'" in err
    assert "TWIN_PLANT" in err
    assert "Traceback" not in err


def test_run_on_a_missing_twin_home_says_what_to_do(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TWIN_HOME", str(tmp_path / "nowhere"))
    assert main(["run"]) == 2
    assert "twin generate" in capsys.readouterr().err


def test_demo_refuses_to_wipe_a_folder_it_did_not_create(twin_env, capsys) -> None:
    twin_env.mkdir(parents=True)
    (twin_env / "plant_data.csv").write_text("precious")
    assert main(["demo"]) == 2
    assert "not a demo home" in capsys.readouterr().err
    assert (twin_env / "plant_data.csv").read_text() == "precious"


def test_publish_lists_versions_and_rolls_back(twin_env, capsys) -> None:
    paths = TwinPaths(twin_env).ensure()
    first = publish(paths, make_tables(1.0), LINEAGE).publication_id
    second = publish(paths, make_tables(1.1), LINEAGE).publication_id
    capsys.readouterr()
    assert main(["publish", "--list"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"  {first}", f"* {second}"]

    assert main(["publish", "--rollback", first]) == 0
    assert read_manifest(paths)["publication_id"] == first
    assert main(["publish", "--rollback", "20990101T000000Z-000000"]) == 2
    assert "twin publish --list" in capsys.readouterr().err


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_batches_on_an_empty_home(twin_env, capsys, json_flag) -> None:
    assert main(["batches", *json_flag]) == 0
    out = capsys.readouterr().out
    assert out.strip() == "[]" if json_flag else "no batches" in out
