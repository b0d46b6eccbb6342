"""Writing files atomically: readers see the old file or the new one, never half of one (no Dagster).

Every writer goes through a hidden temporary sibling (``temp_path_for``) and ``os.replace``; rename(2)
swaps the directory entry in one step. ``durable=True`` also fsyncs the temporary file before the
rename, so a crash right after it cannot leave the new name pointing at a file with holes; call
``fsync_dir`` on the folder afterwards when the rename itself must survive a crash.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from twin.paths import TwinPaths


def temp_path_for(path: Path) -> Path:
    """A hidden sibling name unique per writer, ending in .tmp so no glob or landing scan takes it.

    Unique because two runs refreshing the same file at once must not rename each other's
    half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def fsync_file(path: Path) -> None:
    """Flush a closed file's content to disk, so a rename that follows never exposes a hole."""
    _fsync(path)


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries to disk, so a rename into it survives a crash."""
    _fsync(folder)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(tmp: Path, path: Path, *, durable: bool) -> None:
    if durable:
        fsync_file(tmp)
    os.replace(tmp, path)


def write_parquet_atomically(table: pa.Table, path: Path) -> None:
    """Write to a temporary name and rename into place, so readers never see half a file."""
    tmp = temp_path_for(path)
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def write_text_atomically(path: Path, text: str, *, durable: bool = False) -> None:
    """Write UTF-8 text to a temporary name and rename it into place."""
    tmp = temp_path_for(path)
    tmp.write_text(text, encoding="utf-8")
    _replace(tmp, path, durable=durable)


def copy_file_atomically(source: Path, path: Path, *, durable: bool = False) -> None:
    """Copy ``source`` to a temporary name next to ``path`` and rename it into place."""
    tmp = temp_path_for(path)
    shutil.copyfile(source, tmp)
    _replace(tmp, path, durable=durable)


def write_plant_tables(paths: TwinPaths, tables: dict[str, pd.DataFrame]) -> None:
    for name, frame in tables.items():
        write_parquet_atomically(
            pa.Table.from_pandas(frame, preserve_index=False),
            paths.lake / "plant" / f"{name}.parquet",
        )


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``fcntl.flock`` on ``path`` (created if missing) across processes.

    The kernel drops the lock when its holder exits, so a crashed holder cannot leave it taken.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # blocks while another process holds it
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
