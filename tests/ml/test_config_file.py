"""`load_config`: generic knobs from the file named by $TWIN_ML_CONFIG, validated strictly."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ml.config import CONFIG_ENV, FailureModelConfig, load_config


def test_defaults_without_a_file(monkeypatch):
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    assert load_config() == FailureModelConfig()


def test_overrides_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "ml.yaml"
    path.write_text("params: {hours_to_failure_cap_h: 125}\nsplit: {test_fraction: 0.1}\n")
    monkeypatch.setenv(CONFIG_ENV, str(path))
    config = load_config()
    assert config.params.hours_to_failure_cap_h == 125
    assert config.split.test_fraction == 0.1
    assert config.params.max_iter == FailureModelConfig().params.max_iter


def test_a_misspelt_knob_is_an_error(tmp_path):
    path = tmp_path / "ml.yaml"
    path.write_text("params: {hours_to_failure_cap: 125}\n")
    with pytest.raises(ValidationError):
        load_config(str(path))
