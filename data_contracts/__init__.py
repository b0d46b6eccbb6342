"""Data contracts as data: ingested/*.yml for people and tests, expectations/*.json GX suites for machines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    import great_expectations as gx

CONTRACTS_DIR = Path(__file__).resolve().parent
SUITES_DIR = CONTRACTS_DIR / "expectations"


class ContractError(ValueError):
    """A contract or suite file is invalid; the message names the file and the entry."""


def load_contract(name: str, kind: str = "ingested") -> dict[str, Any]:
    """The contract YAML ``data_contracts/<kind>/<name>.yml`` as a dict."""
    path = CONTRACTS_DIR / kind / f"{name}.yml"
    try:
        contract = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContractError(f"{path}: no such contract") from None
    if not isinstance(contract, dict) or contract.get("name") != name:
        raise ContractError(f"{path}: a contract is a mapping whose name is {name!r}")
    return contract


def load_suite(name: str) -> gx.ExpectationSuite:
    """Load a GX suite strictly: an expectation GX cannot parse is an error, not a log line.

    GX 1.24 logs and drops an unknown expectation type, and raises a pydantic error for a bad
    keyword; each expectation is built on its own so the error names the one that failed.
    """
    import great_expectations as gx

    path = SUITES_DIR / f"{name}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContractError(f"{path}: no such suite") from None
    except json.JSONDecodeError as exc:
        raise ContractError(f"{path}: not valid JSON: {exc}") from None
    declared = raw.get("expectations")
    if raw.get("name") != name or not isinstance(declared, list) or not declared:
        raise ContractError(f"{path}: a suite has name {name!r} and a non-empty expectations list")
    for index, entry in enumerate(declared):
        label = f"{path.name} expectation #{index} ({entry.get('type') if isinstance(entry, dict) else entry!r})"
        try:
            probe = gx.ExpectationSuite(name=name, expectations=[entry])
        except Exception as exc:  # GX raises pydantic, GX and Key errors alike
            message = str(exc).replace("\n", " ")[:300]
            raise ContractError(f"{label}: {message}") from None
        if len(probe.expectations) != 1:
            raise ContractError(f"{label}: GX could not parse it (unknown type?)")
    suite = gx.ExpectationSuite(name=name, expectations=declared, meta=raw.get("meta") or {})
    if len(suite.expectations) != len(declared):
        raise ContractError(f"{path}: {len(declared)} declared, {len(suite.expectations)} parsed")
    return suite
