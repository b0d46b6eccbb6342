"""Reading the YAML files a user writes (plant model, scenarios), quickly (no Dagster).

Every Dagster run loads the code location, which reads the plant model and the scenario set
several times: libyaml's parser (``CSafeLoader``, in PyYAML's wheels) is ~8x faster than the
pure-Python one and builds the same values. Same safety: only plain YAML types.
"""

from __future__ import annotations

from typing import Any

import yaml

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """``yaml.safe_load`` with libyaml when PyYAML has it; raises ``yaml.YAMLError`` the same way."""
    return yaml.load(text, Loader=SAFE_LOADER)
