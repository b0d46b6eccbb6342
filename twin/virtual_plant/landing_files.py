"""Writing landing files the way the landing contract wants them: temp name first, then rename.

Historian days are large (a 5,000-tag plant at 5 s is 86 M rows), so they are streamed to Parquet
one row group per few million rows; tag and quality are dictionary-encoded (a handful of distinct
strings) and `ts` delta-encoded, which keeps a day of the demo plant at a few MB.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from twin.virtual_plant.defects import QUALITIES

HISTORIAN_COLUMNS = ["tag", "ts", "value", "quality"]
MES_STATES_COLUMNS = ["machine_id", "state", "start_ts", "end_ts", "reason_code"]
MES_PRODUCTION_COLUMNS = [
    "machine_id",
    "start_ts",
    "end_ts",
    "product_id",
    "work_order_id",
    "good_qty",
    "scrap_qty",
]
CMMS_COLUMNS = [
    "work_order_id",
    "machine_id",
    "type",
    "failure_mode",
    "reported_ts",
    "start_ts",
    "end_ts",
]
ROW_GROUP = 4_000_000


def tmp_name(path: Path) -> Path:
    """The hidden temporary name a file is written under before it is renamed into place."""
    return path.with_name(f".{path.name}.tmp")


def iso_seconds(epoch_s: np.ndarray) -> np.ndarray:
    """Epoch seconds -> ISO 8601 strings with Z."""
    text = np.datetime_as_string(
        np.asarray(epoch_s, dtype="int64").astype("datetime64[s]"), unit="s"
    )
    return np.char.add(text.astype(str), "Z").astype(object)


def iso_micros(epoch_us: np.ndarray) -> np.ndarray:
    """Epoch microseconds -> ISO 8601 with Z; sub-second digits only when a period needs them."""
    arr = np.asarray(epoch_us, dtype="int64")
    unit = "s" if not (arr % 1_000_000).any() else "ms" if not (arr % 1000).any() else "us"
    text = np.datetime_as_string(arr.astype("datetime64[us]"), unit=unit)
    return np.char.add(text.astype(str), "Z").astype(object)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write `frame` as CSV with a header to `path` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_name(path)
    frame.to_csv(tmp, index=False, lineterminator="\n")
    os.replace(tmp, path)
    return path


class HistorianWriter:
    """Streams one historian file (Parquet or CSV) in chunks; `close()` renames it into place."""

    def __init__(self, path: Path, tag_names: list[str], fmt: str = "parquet") -> None:
        if fmt not in ("parquet", "csv"):
            raise ValueError(f"historian format must be parquet or csv, not {fmt!r}")
        self.path, self.fmt = path, fmt
        self.tmp = tmp_name(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.tags = pa.array(tag_names, type=pa.string())
        self.tag_names = np.array(tag_names, dtype=object)
        self.qualities = pa.array(list(QUALITIES), type=pa.string())
        self.rows = 0
        self._chunks: list[tuple[np.ndarray, ...]] = []
        self._pending = 0
        self._writer: pq.ParquetWriter | None = None
        self._csv_started = False

    def add(
        self, tag_index: int, ts_us: np.ndarray, value: np.ndarray, quality: np.ndarray
    ) -> None:
        if not len(ts_us):
            return
        self._chunks.append((np.full(len(ts_us), tag_index, np.int32), ts_us, value, quality))
        self._pending += len(ts_us)
        self.rows += len(ts_us)
        if self._pending >= ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if not self._chunks:
            return
        tag_i, ts, value, quality = (np.concatenate(c) for c in zip(*self._chunks, strict=True))
        self._chunks, self._pending = [], 0
        if self.fmt == "parquet":
            table = pa.table(
                {
                    "tag": pa.DictionaryArray.from_arrays(pa.array(tag_i), self.tags),
                    "ts": pa.array(ts).view(pa.timestamp("us")),
                    "value": pa.array(value, type=pa.float64()),
                    "quality": pa.DictionaryArray.from_arrays(pa.array(quality), self.qualities),
                }
            )
            if self._writer is None:
                # store_schema=False: readers see plain string columns, not Arrow dictionaries
                self._writer = pq.ParquetWriter(
                    self.tmp,
                    table.schema,
                    store_schema=False,
                    use_dictionary=["tag", "quality"],
                    column_encoding={"ts": "DELTA_BINARY_PACKED"},
                    compression="snappy",
                )
            # an empty day is one empty row group (pyarrow refuses a row group size of 0)
            self._writer.write_table(table, row_group_size=max(len(table), 1))
        else:
            frame = pd.DataFrame(
                {
                    "tag": self.tag_names[tag_i],
                    "ts": iso_micros(ts),
                    "value": value,
                    "quality": np.array(QUALITIES, dtype=object)[quality],
                }
            )
            frame.to_csv(
                self.tmp,
                index=False,
                header=not self._csv_started,
                mode="a" if self._csv_started else "w",
                lineterminator="\n",
            )
            self._csv_started = True

    def close(self) -> Path:
        self._flush()
        if self.fmt == "parquet":
            if self._writer is None:  # an empty day still gets a valid file with the schema
                self._chunks.append(
                    (
                        np.zeros(0, np.int32),
                        np.zeros(0, np.int64),
                        np.zeros(0),
                        np.zeros(0, np.int8),
                    )
                )
                self._flush()
            self._writer.close()
        elif not self._csv_started:
            pd.DataFrame(columns=HISTORIAN_COLUMNS).to_csv(self.tmp, index=False)
        os.replace(self.tmp, self.path)
        return self.path


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def write_json(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_name(path)
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
