"""Versioned publication of the planning tables, with an atomic switch and rollback (DESIGN §3.4).

Layout under ``$TWIN_HOME/published/``::

    catalog.duckdb                  the current version (a copy of versions/<id>/catalog.duckdb)
    manifest.json                   the current version's manifest + available versions + history
    versions/<publication_id>/      immutable: <table>.parquet, <view>.parquet, catalog.duckdb,
                                    exports/ (files planning systems load, twin.publish.exports),
                                    manifest.json (this version's own manifest)

Atomicity: a version is written into ``versions/.<id>.tmp/`` and renamed into place whole, so a
listed version is always complete. The switch copies the version's closed catalog to a hidden
``.tmp`` file in the same folder, fsyncs it and ``os.replace``s it onto ``catalog.duckdb``:
rename(2) swaps the directory entry in one step, so a reader opening the path gets either the old
file or the new one, never a mix; a reader that already has the old file open keeps reading the old
inode until it closes. ``manifest.json`` is replaced the same way right after the catalog, so it can
lag the catalog by one version for that instant; the catalog's own ``_publication`` table is the
authority on what it holds. The live catalog is never opened for writing. Publishers and rollbacks
take an exclusive lock on ``published/.publish.lock`` so two switches never interleave.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.files import (
    copy_file_atomically,
    exclusive_lock,
    fsync_dir,
    fsync_file,
    write_text_atomically,
)
from twin.publish.catalog import CATALOG_NAME, write_version
from twin.publish.events.delivery import after_publication
from twin.publish.exports import EXPORTS_DIR, INDEX_NAME, write_exports
from twin.publish.inputs import ensure_publish_inputs
from twin.publish.postgres.writer import mirror_current_publication
from twin.publish.publication import Publication
from twin.publish.report.page import write_report
from twin.publish.table_checks import (
    ContractViolation,
    Stamp,
    TableCheck,
    check_tables,
    validate_tables,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from twin.paths import TwinPaths

__all__ = [
    "ContractViolation",
    "Publication",
    "TableCheck",
    "check_tables",
    "ensure_publish_inputs",
    "list_versions",
    "publish",
    "read_manifest",
    "rollback",
]

MANIFEST_NAME = "manifest.json"
_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")
_HISTORY_KEPT = 200  # switches remembered in manifest.json; every version keeps its own manifest


def new_publication_id(now: dt.datetime) -> str:
    """Sortable by time: ``20261122T031500Z-<6 hex>`` (the suffix separates same-second runs)."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _iso(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _writer_lock(root: Path):
    return exclusive_lock(root / ".publish.lock")


def _json_text(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, indent=2, default=str) + "\n"


def read_manifest(paths: TwinPaths) -> dict[str, Any] | None:
    """The live manifest, or None before the first publication."""
    try:
        return json.loads((paths.published / MANIFEST_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def _version_manifest(root: Path, publication_id: str) -> dict[str, Any]:
    return json.loads((root / "versions" / publication_id / MANIFEST_NAME).read_text("utf-8"))


def _complete_versions(root: Path) -> list[str]:
    folder = root / "versions"
    if not folder.is_dir():
        return []
    found = [
        (_version_manifest(root, entry.name)["published_at"], entry.name)
        for entry in folder.iterdir()
        if _ID.match(entry.name) and (entry / MANIFEST_NAME).is_file()
    ]
    return [name for _, name in sorted(found)]


def list_versions(paths: TwinPaths) -> list[str]:
    """Complete versions, oldest first (by publication time, then id)."""
    return _complete_versions(paths.published)


def _distinct(table: pa.Table | None, column: str) -> list[str]:
    if table is None or table.num_rows == 0:
        return []
    return sorted({str(v) for v in table[column].to_pylist() if v is not None})


def _lineage_section(lineage: Mapping[str, Any], tables: Mapping[str, pa.Table]) -> dict[str, Any]:
    """What the manifest says about the data behind the publication (DESIGN §3.4)."""
    batch_ids = list(lineage.get("batch_ids") or [])
    kpi_dates = _distinct(tables.get("kpi_daily"), "date")
    buckets = tables.get("capacity_supply")
    window = lineage.get("data_window") or (
        {"start": kpi_dates[0], "end": kpi_dates[-1]} if kpi_dates else None
    )
    horizon = None
    if buckets is not None and buckets.num_rows:
        horizon = {
            "start": str(min(buckets["bucket_start"].to_pylist())),
            "end": str(max(buckets["bucket_end"].to_pylist())),
        }
        if "covered_from_at" in buckets.column_names:  # capacity_supply 1.1.0: the last data time
            start_at = min(buckets["covered_from_at"].to_pylist())
            horizon["start_at"] = start_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    known = {"model_version", "batch_ids", "data_window", "scenario_set"}
    return {
        "data": {
            "batches": {"count": len(batch_ids), "ids": batch_ids},
            "window": window,
            "capacity_horizon": horizon,
        },
        "scenario_set": lineage.get("scenario_set") or _distinct(buckets, "scenario_id"),
        "scenarios": _distinct(buckets, "scenario_id"),
        "lineage": {k: v for k, v in lineage.items() if k not in known},
    }


def _model_version(lineage: Mapping[str, Any], tables: Mapping[str, Any]) -> str:
    """The lineage's model version, else the one the risk table names, else 'unknown'."""
    if lineage.get("model_version"):
        return str(lineage["model_version"])
    risk = tables.get("machine_failure_risk")
    try:
        versions = sorted({str(v) for v in list(risk["model_version"]) if v is not None})
    except (TypeError, KeyError):
        versions = []
    return ", ".join(versions) or "unknown"


def _exports_section(version_dir: Path) -> dict[str, Any]:
    """The export files as the manifest lists them: where they are, each file, and those left out."""
    index = json.loads((version_dir / EXPORTS_DIR / INDEX_NAME).read_text(encoding="utf-8"))
    return {"dir": EXPORTS_DIR, **index}


def _make_read_only(version_dir: Path) -> None:
    """Files 0o444, folders 0o555: immutable by convention, read-only makes accidents loud."""
    for path in sorted(version_dir.rglob("*"), reverse=True):  # children before their folder
        path.chmod(0o555 if path.is_dir() else 0o444)


def publish(paths: TwinPaths, tables: Mapping[str, Any], lineage: Mapping[str, Any]) -> Publication:
    """Check every table against its contract, write a new immutable version and switch to it.

    ``tables`` are the warehouse's ``publish.*`` models (pandas DataFrames or Arrow tables).
    ``lineage`` may name ``model_version``, ``batch_ids`` (input batches), ``data_window``
    (``{"start", "end"}``) and ``scenario_set``; other keys are kept verbatim in the manifest.
    Raises ContractViolation, with every failure listed, before anything is written.
    """
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    publication_id = new_publication_id(now)
    stamp = Stamp(publication_id, now, _model_version(lineage, tables))
    prepared, checks = validate_tables(tables, stamp)
    if not all(c.passed for c in checks):
        raise ContractViolation(checks)

    root = paths.published
    versions = root / "versions"
    with _writer_lock(root):
        versions.mkdir(parents=True, exist_ok=True)
        staging = versions / f".{publication_id}.tmp"
        staging.mkdir()
        try:
            objects, view_failures = write_version(
                staging,
                f"versions/{publication_id}",
                prepared,
                publication_id=publication_id,
                published_at=now,
            )
            if view_failures:
                failed = TableCheck("connector views", "-", False, 0, len(objects), view_failures)
                raise ContractViolation([*checks, failed])
            # The planning-system files belong to the version: written before it appears.
            write_exports(staging, prepared, plant=None)
            manifest = {
                "publication_id": publication_id,
                "published_at": _iso(now),
                "catalog": CATALOG_NAME,
                "version_dir": f"versions/{publication_id}",
                "model_version": stamp.model_version,
                **_lineage_section(lineage, prepared),
                "tables": {o.name: o.to_dict() for o in objects if o.kind == "table"},
                "views": {o.name: o.to_dict() for o in objects if o.kind == "view"},
                "exports": _exports_section(staging),
                "checks": [c.to_dict() for c in checks],
            }
            (staging / MANIFEST_NAME).write_text(_json_text(manifest), encoding="utf-8")
            fsync_file(staging / MANIFEST_NAME)
            # The whole folder appears at once: list_versions never sees a partial version.
            os.rename(staging, versions / publication_id)
            fsync_dir(versions)
            _make_read_only(versions / publication_id)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        live = _switch(root, publication_id, kind="publish")
        publication = _publication(root, publication_id, live)
        write_report(paths, publication)  # under the lock: report.html matches catalog.duckdb
    # Change events after the lock: delivery does network I/O (up to its timeout) and must not hold
    # up other publishers; both versions compared are immutable, and the outbox has its own lock.
    after_publication(paths, publication, live["switch"]["from"])
    # Last: the local publication is complete whatever PostgreSQL says (DESIGN §3.7, docs/postgres.md).
    mirror_current_publication(paths)
    return publication


def rollback(paths: TwinPaths, publication_id: str) -> Publication:
    """Make an older (or any listed) version current again; the switch is recorded in the manifest."""
    if publication_id not in list_versions(paths):
        raise ValueError(f"no complete published version {publication_id!r}")
    with _writer_lock(paths.published):
        live = _switch(paths.published, publication_id, kind="rollback")
        publication = _publication(paths.published, publication_id, live)
        write_report(paths, publication)
    mirror_current_publication(paths)  # PostgreSQL serves what catalog.duckdb serves, also now
    return publication


def _switch(root: Path, publication_id: str, *, kind: str) -> dict[str, Any]:
    """Point catalog.duckdb and manifest.json at a complete version (caller holds the lock)."""
    version_dir = root / "versions" / publication_id
    copy_file_atomically(version_dir / CATALOG_NAME, root / CATALOG_NAME, durable=True)

    previous = None
    try:
        previous = json.loads((root / MANIFEST_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        pass
    switch = {
        "kind": kind,
        "at": _iso(dt.datetime.now(dt.UTC).replace(tzinfo=None)),
        "from": previous["publication_id"] if previous else None,
        "to": publication_id,
    }
    history = [*(previous or {}).get("history", []), switch][-_HISTORY_KEPT:]
    live = {
        **_version_manifest(root, publication_id),
        "switch": switch,
        "versions": _complete_versions(root),
        "history": history,
    }
    write_text_atomically(root / MANIFEST_NAME, _json_text(live), durable=True)
    fsync_dir(root)
    return live


def _publication(root: Path, publication_id: str, live: dict[str, Any]) -> Publication:
    return Publication(
        publication_id=publication_id,
        published_at=live["published_at"],
        version_dir=root / "versions" / publication_id,
        catalog=root / CATALOG_NAME,
        manifest=live,
    )


def current_publication(paths: TwinPaths) -> Publication | None:
    """The version catalog.duckdb serves now, or None before the first publication."""
    live = read_manifest(paths)
    if live is None:
        return None
    return _publication(paths.published, live["publication_id"], live)


def refresh_report(paths: TwinPaths) -> None:
    """Rebuild report.html for the current version (e.g. once the backtest of past weeks is new)."""
    with _writer_lock(paths.published):
        publication = current_publication(paths)
        if publication is not None:
            write_report(paths, publication)
