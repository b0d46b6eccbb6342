"""Claim landed files: archive each one under its content hash, drop second copies, quarantine bad files.

A file is complete once renamed into landing/<source>/ (DESIGN §3.3): names ending in ``.tmp`` or
starting with ``.`` are still being written and are left alone.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from twin.files import copy_file_atomically, exclusive_lock
from twin.paths import SOURCES, TwinPaths

_SEP = "__"  # archive/<source>/<batch_id>__<original name>
_CHUNK = 1 << 20  # hash in 1 MiB reads: a day of historian data is ~1 GB and must not sit in memory
CLAIM_LOCK = ".landing-claim.lock"  # under TWIN_HOME: one claimer at a time, across processes


@dataclass(frozen=True)
class LandedBatch:
    """One archived landing file; ``batch_id`` is the sha256 hex of its content."""

    batch_id: str
    source: str
    file: str  # the name it landed under
    archived: Path


def is_complete(path: Path) -> bool:
    """Writers write ``*.tmp`` or ``.*`` first and rename when done."""
    return path.is_file() and not path.name.startswith(".") and not path.name.endswith(".tmp")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _parse_archived(path: Path, source: str) -> LandedBatch | None:
    batch_id, sep, name = path.name.partition(_SEP)
    if not sep or len(batch_id) != 64 or not path.is_file():
        return None
    return LandedBatch(batch_id=batch_id, source=source, file=name, archived=path)


def archived_batches(paths: TwinPaths, source: str | None = None) -> list[LandedBatch]:
    """Every archived batch (of one source, or all), oldest archive first."""
    found: list[LandedBatch] = []
    for src in (source,) if source else SOURCES:
        folder = paths.archive / src
        if folder.is_dir():
            found += [b for p in folder.iterdir() if (b := _parse_archived(p, src))]
    return sorted(found, key=lambda b: (b.archived.stat().st_mtime, b.archived.name))


def find_batch(paths: TwinPaths, batch_id: str) -> LandedBatch:
    """The archived batch with this id; KeyError if it was never claimed."""
    for source in SOURCES:
        for path in (paths.archive / source).glob(f"{batch_id}{_SEP}*"):
            if batch := _parse_archived(path, source):
                return batch
    raise KeyError(f"no archived batch {batch_id}")


def _note_duplicate(paths: TwinPaths, batch_id: str, source: str, name: str) -> None:
    """Record a second drop of known content next to the batch's audit (picked up by the audit)."""
    log = paths.lake / "batches" / "duplicates" / f"{batch_id}.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    entry = {"file": name, "source": source, "dropped_at": datetime.now(UTC).isoformat()}
    with log.open(
        "a", encoding="utf-8"
    ) as handle:  # one short line per drop: append is atomic enough
        handle.write(json.dumps(entry) + "\n")


def duplicates_of(paths: TwinPaths, batch_id: str) -> list[dict]:
    log = paths.lake / "batches" / "duplicates" / f"{batch_id}.jsonl"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]


def claim_lock(paths: TwinPaths):
    """Hold the exclusive claim lock (TWIN_HOME/.landing-claim.lock).

    Every claimer (the landing sensor, ``twin run``) takes it, so claims never interleave between
    processes; a crashed claimer cannot leave the landing zone locked (twin.files.exclusive_lock).
    """
    return exclusive_lock(paths.home / CLAIM_LOCK)


def _mtime_or_none(path: Path) -> tuple[float, str] | None:
    try:
        return (path.stat().st_mtime, path.name)
    except FileNotFoundError:
        return None


def claim_landed_files(paths: TwinPaths, sources: tuple[str, ...] = SOURCES) -> list[LandedBatch]:
    """Move every complete landing file into the archive; return the new batches in landing order.

    Landing order is (mtime, name). Content already archived (under any source) is removed from
    landing and noted as a duplicate of the existing batch instead of becoming a new batch.

    Safe to call from several processes at once: the whole claim runs under ``claim_lock``, so each
    file is archived (or noted as a duplicate) by exactly one claimer; the others find it gone. A
    file leaves landing only by the atomic rename into the archive (or, for known content, after
    the duplicate is noted), so a claimer that dies mid-claim leaves it in landing for the next.
    """
    claimed: list[LandedBatch] = []
    with claim_lock(paths):
        known = {b.batch_id for b in archived_batches(paths)}  # read under the lock: up to date
        for source in sources:
            folder = paths.landing_dir(source)
            if not folder.is_dir():
                continue
            order = {
                p: key for p in folder.iterdir() if is_complete(p) and (key := _mtime_or_none(p))
            }
            for path in sorted(order, key=order.__getitem__):
                try:
                    batch_id = sha256_of(path)
                except FileNotFoundError:  # taken by a claimer that does not take the lock
                    continue
                if batch_id in known:
                    _note_duplicate(paths, batch_id, source, path.name)
                    path.unlink(missing_ok=True)
                    continue
                target = paths.archive / source / f"{batch_id}{_SEP}{path.name}"
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.replace(path, target)  # same file system: atomic, keeps the landing mtime
                except FileNotFoundError:
                    continue
                known.add(batch_id)
                claimed.append(LandedBatch(batch_id, source, path.name, target))
    return sorted(claimed, key=lambda b: (b.archived.stat().st_mtime, b.file))


def quarantine(paths: TwinPaths, batch: LandedBatch, reason: str) -> Path:
    """Copy the archived file to quarantine/<source>/ with a ``.reason.txt`` next to it."""
    target = paths.quarantine / batch.source / batch.archived.name
    copy_file_atomically(batch.archived, target)
    note = target.with_name(f"{target.name}.reason.txt")
    note.write_text(reason.rstrip() + "\n", encoding="utf-8")
    return target


def release_quarantine(paths: TwinPaths, batch: LandedBatch) -> None:
    """A reload that now succeeds takes the batch back out of quarantine."""
    target = paths.quarantine / batch.source / batch.archived.name
    for path in (target, target.with_name(f"{target.name}.reason.txt")):
        path.unlink(missing_ok=True)
