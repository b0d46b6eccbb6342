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


# --- Published tables (DESIGN §3.4): contracts, versions and the committed lock -----------------

PUBLISHED_DIR = CONTRACTS_DIR / "published"
CONTRACT_LOCK = PUBLISHED_DIR / "contract_lock.json"
PUBLISHED_TABLES: tuple[str, ...] = (
    "capacity_supply",
    "machine_failure_risk",
    "kpi_daily",
    "constraint_map",
    "prediction_effect",  # beyond DESIGN §3.4: what the risk prediction changed (issue 11)
    "capacity_feasibility",  # DESIGN §3.5: the demand plan against the simulated capacity
)
CONNECTOR_VIEWS: tuple[str, ...] = (
    "ibp_capasupply",
    "kinaxis_constraint_available",
    "o9_resource_capacity",
    "ibp_capacity_feasibility",  # the same systems' views of capacity_feasibility (DESIGN §3.5)
    "kinaxis_capacity_feasibility",
    "o9_capacity_feasibility",
)


def load_published_contract(name: str) -> dict[str, Any]:
    """The contract ``data_contracts/published/<name>.yml``, with its semver version checked."""
    contract = load_contract(name, kind="published")
    parse_semver(str(contract.get("version")))
    if not isinstance(contract.get("columns"), dict) or not contract["columns"]:
        raise ContractError(f"published contract {name!r}: columns must be a non-empty mapping")
    return contract


def parse_semver(version: str) -> tuple[int, int, int]:
    """``"1.2.3"`` → ``(1, 2, 3)``; anything else is a ContractError."""
    parts = version.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ContractError(f"contract version {version!r} is not MAJOR.MINOR.PATCH")
    major, minor, patch = (int(p) for p in parts)
    return major, minor, patch


def column_signature(contract: dict[str, Any]) -> dict[str, str]:
    """What readers depend on: column → type, with ``" not null"`` when the column is required."""
    return {
        column: str(spec["type"]).lower() + (" not null" if spec.get("required") else "")
        for column, spec in contract["columns"].items()
    }


def lock_violations(
    contract: dict[str, Any], lock: dict[str, dict[str, dict[str, str]]]
) -> list[str]:
    """Why ``contract`` does not agree with the committed lock (empty list: it agrees).

    The lock maps name → version → column signature. A locked version can never change its
    signature. A new version is compared with the highest locked one: removing, renaming or retyping
    a column, or making a required column nullable, breaks readers and needs a major bump; adding a
    column, or making a nullable column required, needs at least a minor bump. A version that is not
    yet in the lock is reported too, so a change cannot land without its lock entry.
    """
    name, version = contract["name"], str(contract["version"])
    signature = column_signature(contract)
    locked = lock.get(name, {})
    if version in locked:
        if locked[version] != signature:
            return [f"{name} {version}: columns differ from the locked {version}; bump the version"]
        return []
    if not locked:
        return [f"{name} {version}: not in contract_lock.json (new contract: add its lock entry)"]
    latest = max(locked, key=parse_semver)
    old, new = locked[latest], signature
    breaking = [c for c in old if c not in new or new[c].split()[0] != old[c].split()[0]]
    breaking += [
        c
        for c in old
        if c in new and old[c].endswith("not null") and not new[c].endswith("not null")
    ]
    additive = [c for c in new if c not in old or new[c] != old[c]]
    have, was = parse_semver(version), parse_semver(latest)
    errors = []
    if have <= was:
        errors.append(f"{name} {version}: not above the latest locked version {latest}")
    elif breaking and have[0] <= was[0]:
        errors.append(
            f"{name} {version}: breaking change to {sorted(set(breaking))} needs a major bump over {latest}"
        )
    elif additive and have[:2] <= was[:2]:
        errors.append(
            f"{name} {version}: additive change to {sorted(set(additive))} needs a minor bump over {latest}"
        )
    return errors


def load_contract_lock() -> dict[str, dict[str, dict[str, str]]]:
    """The committed lock ``data_contracts/published/contract_lock.json``."""
    return json.loads(CONTRACT_LOCK.read_text(encoding="utf-8"))
