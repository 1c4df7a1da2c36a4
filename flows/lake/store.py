"""The lake: one writer per dataset, atomic and idempotent writes, on a path or any fsspec URL.

Atomicity: every Parquet or JSON file is written whole and then moved into place (a local
rename is atomic; an object-store PUT is atomic), and readers ignore names starting with '.'
or '_'. A partition holds exactly one file, so a crash leaves either the old or the new file.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from flows.lake.crash_points import crash_point
from flows.lake.errors import LakeWriteError
from flows.lake.journal import roll_forward
from flows.lake.rows import (
    _latest_per_id,
    _merge_partition,
    decode_raw,
    encode_raw,
    raw_item_count,
)
from schemas.catalog import CATALOG
from schemas.feedback import FEEDBACK_SCHEMA

PART = "part-0.parquet"


@dataclass(frozen=True)
class RawBatch:
    source: str
    batch_id: str
    path: str


@dataclass(frozen=True)
class UpsertStats:
    inserted: int
    updated: int
    unchanged: int
    stale: int  # older versions than what the lake already holds
    partitions_written: int
    superseded: int = 0  # older versions of an item in the same upsert, dropped before merging


class Lake:
    def __init__(self, url: str) -> None:
        self.url = url
        self.fs, self.root = fsspec.core.url_to_fs(url)
        self.local = "file" in (
            self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        )
        if self.local:
            os.makedirs(self.root, exist_ok=True)

    # ---- paths and atomic files -------------------------------------------------------
    def path(self, *parts: str) -> str:
        return "/".join([self.root.rstrip("/"), *parts])

    def dataset_path(self, name: str) -> str:
        return self.path(CATALOG[name].path)

    def _write_bytes(self, path: str, data: bytes) -> None:
        parent = path.rsplit("/", 1)[0]
        if not self.local:
            self.fs.makedirs(parent, exist_ok=True)
            self.fs.pipe_file(path, data)  # a single PUT: atomic on object stores
            return
        tmp = f"{parent}/.tmp-{uuid.uuid4().hex}"
        try:  # crash points: see flows/lake/crash_points.py
            crash_point("lake.write.mkdir", parent)
            self.fs.makedirs(parent, exist_ok=True)
            crash_point("lake.write.open", tmp)
            with open(tmp, "wb") as fh:
                crash_point("lake.write.data", tmp)
                fh.write(data)
                crash_point("lake.write.flush", tmp)
                fh.flush()
                os.fsync(fh.fileno())
            crash_point("lake.write.written", tmp)
            os.replace(tmp, path)
        except BaseException as exc:
            if os.path.exists(tmp):
                os.unlink(tmp)
            if isinstance(exc, OSError) and not isinstance(exc, LakeWriteError):
                raise LakeWriteError(path, exc) from exc
            raise
        crash_point("lake.write.replaced", path)

    def _write_parquet(self, path: str, table: pa.Table) -> None:
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="zstd")
        self._write_bytes(path, buf.getvalue())

    def _read_parquet(self, path: str, columns: list[str] | None = None) -> pa.Table:
        with self.fs.open(path, "rb") as fh:
            return pq.read_table(fh, columns=columns)

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """An exclusive lock for one dataset's writer (local lakes; object stores rely on Prefect)."""
        if not self.local:
            yield
            return
        from filelock import FileLock

        lock_path = self.path("_locks", f"{name}.lock")
        try:
            os.makedirs(self.path("_locks"), exist_ok=True)
            lock = FileLock(lock_path)
            lock.acquire()
        except OSError as exc:
            raise LakeWriteError(lock_path, exc) from exc
        try:
            yield
        finally:
            lock.release()

    # ---- state ------------------------------------------------------------------------
    def read_state(self, name: str) -> dict[str, Any]:
        path = self.path("_state", f"{name}.json")
        if not self.fs.exists(path):
            return {}
        with self.fs.open(path, "rb") as fh:
            return json.loads(fh.read())

    def write_state(self, name: str, state: dict[str, Any]) -> None:
        self._write_bytes(
            self.path("_state", f"{name}.json"),
            json.dumps(state, sort_keys=True, indent=1).encode(),
        )

    # ---- raw landing zone (restricted: payloads as received) --------------------------
    def land_raw(
        self, source: str, batch_id: str, items: list[dict[str, Any]], meta: dict[str, Any]
    ) -> RawBatch:
        path = self.path("raw", source, f"{batch_id}.json.gz")
        doc = {
            "batch_id": batch_id,
            "source": source,
            "landed_at": datetime.now(UTC).isoformat(),
            "meta": meta,
            "items": items,
        }
        self._write_bytes(path, encode_raw(doc))
        return RawBatch(source, batch_id, path)

    def raw_batches(self, source: str | None = None) -> list[RawBatch]:
        base = self.path("raw")
        if not self.fs.exists(base):
            return []
        sources = (
            [source]
            if source
            else sorted(p.rsplit("/", 1)[-1] for p in self.fs.ls(base, detail=False))
        )
        out = []
        for s in sources:
            folder = self.path("raw", s)
            if not self.fs.exists(folder):
                continue
            for p in sorted(self.fs.ls(folder, detail=False)):
                name = p.rsplit("/", 1)[-1]
                if name.endswith(".json.gz") and not name.startswith("."):
                    out.append(RawBatch(s, name[: -len(".json.gz")], p))
        return out

    def read_raw(self, batch: RawBatch) -> dict[str, Any]:
        with self.fs.open(batch.path, "rb") as fh:
            return decode_raw(fh.read())

    def raw_item_count(self, batch: RawBatch) -> int:
        """Items in a landed batch, from its first bytes (older batches: by reading it)."""
        with self.fs.open(batch.path, "rb", block_size=4096) as fh:
            count = raw_item_count(fh.read(256))
        return count if count is not None else len(self.read_raw(batch).get("items", []))

    # ---- feedback: upsert by feedback_id ----------------------------------------------
    def _feedback_partitions(self) -> list[tuple[str, str, str]]:
        base = self.dataset_path("feedback")
        if not self.fs.exists(base):
            return []
        out = []
        for p in self.fs.glob(f"{base}/source=*/created_month=*/{PART}"):
            parts = p.split("/")
            out.append((parts[-3].split("=", 1)[1], parts[-2].split("=", 1)[1], p))
        return sorted(out)

    def feedback_index(self, ids: pa.Array | pa.ChunkedArray | None = None) -> pa.Table:
        """feedback_id, source, created_month, text_hash and updated_at of every stored row
        (of the rows with these `ids` only, when given)."""
        tables = []
        for source, month, path in self._feedback_partitions():
            t = self._read_parquet(path, columns=["feedback_id", "text_hash", "updated_at"])
            if ids is not None:
                t = t.filter(pc.is_in(t["feedback_id"], value_set=ids))
            n = t.num_rows
            tables.append(
                t.append_column(
                    "source", pa.repeat(pa.scalar(source, pa.string()), n)
                ).append_column("created_month", pa.repeat(pa.scalar(month, pa.string()), n))
            )
        if not tables:
            return pa.table(
                {
                    "feedback_id": pa.array([], pa.string()),
                    "text_hash": pa.array([], pa.string()),
                    "updated_at": pa.array([], FEEDBACK_SCHEMA.field("updated_at").type),
                    "source": pa.array([], pa.string()),
                    "created_month": pa.array([], pa.string()),
                }
            )
        return pa.concat_tables(tables)

    def upsert_feedback(self, rows: pa.Table) -> UpsertStats:
        """Insert new items, replace changed ones (newer updated_at wins), leave the rest byte-identical."""
        rows = rows.select(FEEDBACK_SCHEMA.names).cast(FEEDBACK_SCHEMA)
        delivered = rows.num_rows
        rows = _latest_per_id(rows)
        with self.lock("feedback"):
            crash_point("lake.upsert.locked")
            index = self.feedback_index(rows["feedback_id"].combine_chunks())
            home = dict(  # where each already stored item lives: it stays there
                zip(
                    index["feedback_id"].to_pylist(),
                    zip(
                        index["source"].to_pylist(), index["created_month"].to_pylist(), strict=True
                    ),
                    strict=True,
                )
            )
            keys = [
                home.get(fid, (s, m))
                for fid, s, m in zip(
                    rows["feedback_id"].to_pylist(),
                    rows["source"].to_pylist(),
                    rows["created_month"].to_pylist(),
                    strict=True,
                )
            ]
            # one copy, ordered by partition then id: each partition is a slice, already sorted
            order = pc.sort_indices(
                pa.table(
                    {
                        "source": pa.array([k[0] for k in keys], pa.string()),
                        "month": pa.array([k[1] for k in keys], pa.string()),
                        "id": rows["feedback_id"],
                    }
                ),
                sort_keys=[("source", "ascending"), ("month", "ascending"), ("id", "ascending")],
            )
            at = order.to_numpy()
            if (at != np.arange(len(at))).any():  # a parsed chunk comes in this order already
                rows, keys = rows.take(order), [keys[i] for i in at.tolist()]
            groups: dict[tuple[str, str], list[int]] = {}
            for i, key in enumerate(keys):
                groups.setdefault(key, [i, 0])[1] += 1  # partition -> [first row, row count]
            inserted = updated = unchanged = stale = written = 0
            for (source, month), (first, count) in sorted(groups.items()):
                incoming = rows.slice(first, count)
                if (
                    incoming["created_month"][0].as_py() != month
                ):  # an item keeps its first partition
                    incoming = incoming.set_column(
                        incoming.schema.get_field_index("created_month"),
                        "created_month",
                        pa.array([month] * incoming.num_rows, pa.string()),
                    )
                path = self.path(
                    CATALOG["feedback"].path, f"source={source}", f"created_month={month}", PART
                )
                existing = self._read_parquet(path) if self.fs.exists(path) else None
                merged, stats = _merge_partition(existing, incoming, source, month)
                inserted += stats[0]
                updated += stats[1]
                unchanged += stats[2]
                stale += stats[3]
                if stats[0] or stats[1]:
                    self._write_parquet(path, merged)
                    written += 1
                    crash_point("lake.upsert.partition", path)
        return UpsertStats(inserted, updated, unchanged, stale, written, delivered - rows.num_rows)

    def read_feedback(self, columns: list[str] | None = None) -> pa.Table:
        """All current feedback rows (partition columns restored as plain strings)."""
        tables = list(self.iter_feedback(columns))
        if not tables:
            schema = (
                FEEDBACK_SCHEMA
                if columns is None
                else pa.schema([FEEDBACK_SCHEMA.field(c) for c in columns])
            )
            return schema.empty_table()
        return pa.concat_tables(tables)

    def iter_feedback(
        self, columns: list[str] | None = None, batch_rows: int | None = None
    ) -> Iterator[pa.Table]:
        """`read_feedback` piece by piece, in the same row order, so a caller can keep memory flat.

        Whole partitions (a few read ahead in parallel), or with `batch_rows` each partition
        streamed in batches of about that many rows: for the embedding column that is faster
        too (a list<float> column decoded whole needs several times its size).
        """
        cols = (
            None
            if columns is None
            else [c for c in columns if c not in ("source", "created_month")]
        )

        def finish(t: pa.Table, source: str, month: str) -> pa.Table:
            t = t.append_column(
                "source", pa.array([source] * t.num_rows, pa.string())
            ).append_column("created_month", pa.array([month] * t.num_rows, pa.string()))
            return t.select(columns) if columns else t.select(FEEDBACK_SCHEMA.names)

        def read(part: tuple[str, str, str]) -> pa.Table:
            source, month, path = part
            return finish(self._read_parquet(path, columns=cols), source, month)

        parts = self._feedback_partitions()
        if not parts:
            return
        if batch_rows:
            for source, month, path in parts:
                with self.fs.open(path, "rb") as fh:
                    for batch in pq.ParquetFile(fh).iter_batches(
                        batch_size=batch_rows, columns=cols, use_threads=False
                    ):
                        yield finish(pa.Table.from_batches([batch]), source, month)
            return
        workers = min(len(parts), os.cpu_count() or 1)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            ahead = [pool.submit(read, p) for p in parts[:workers]]
            for nxt in parts[workers:] + [None] * workers:
                table = ahead.pop(0).result()
                if nxt is not None:
                    ahead.append(pool.submit(read, nxt))
                yield table

    # ---- small derived tables, replaced whole ------------------------------------------
    def replace_table(self, name: str, table: pa.Table) -> str:
        schema = CATALOG[name].schema
        if schema is not None:
            table = table.select(schema.names).cast(schema)
        path = self.path(CATALOG[name].path, PART)
        self._write_parquet(path, table)
        crash_point("lake.table.replaced", path)
        return path

    def read_table(self, name: str) -> pa.Table | None:
        roll_forward(
            self
        )  # a commit of several tables cut short by a crash (flows/lake/journal.py)
        path = self.path(CATALOG[name].path, PART)
        if not self.fs.exists(path):
            return None
        return self._read_parquet(path)

    def write_quarantine(self, source: str, batch_id: str, table: pa.Table) -> str | None:
        path = self.path(CATALOG["quarantine"].path, source, f"{batch_id}.parquet")
        if table.num_rows == 0:
            return None
        self._write_parquet(
            path,
            table.select(CATALOG["quarantine"].schema.names).cast(CATALOG["quarantine"].schema),
        )
        crash_point("lake.quarantine.written", path)
        return path

    def read_quarantine(self) -> pa.Table:
        base = self.dataset_path("quarantine")
        schema = CATALOG["quarantine"].schema
        files = sorted(self.fs.glob(f"{base}/*/*.parquet")) if self.fs.exists(base) else []
        tables = []
        for p in files:
            t = self._read_parquet(p)
            tables.append(t.select(schema.names).cast(schema))
        return pa.concat_tables(tables) if tables else schema.empty_table()

    # ---- embedding cache keyed by text hash --------------------------------------------
    def _cache_dir(self, model: str) -> str:
        slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in model)
        return self.path(CATALOG["embedding_cache"].path, f"model={slug}")

    def cached_embeddings(self, model: str, hashes: set[str]) -> dict[str, Any]:
        folder = self._cache_dir(model)
        out: dict[str, Any] = {}
        if not hashes or not self.fs.exists(folder):
            return out
        for p in sorted(self.fs.glob(f"{folder}/*.parquet")):
            t = self._read_parquet(p)
            mask = pc.is_in(t["text_hash"], value_set=pa.array(sorted(hashes), pa.string()))
            t = t.filter(mask)
            if t.num_rows:
                emb = (
                    t["embedding"]
                    .combine_chunks()
                    .flatten()
                    .to_numpy(zero_copy_only=False)
                    .reshape(t.num_rows, -1)
                )
                out.update(zip(t["text_hash"].to_pylist(), emb, strict=True))
        return out

    def add_embeddings(self, model: str, table: pa.Table) -> str | None:
        if table.num_rows == 0:
            return None
        key = uuid.uuid5(uuid.NAMESPACE_OID, ",".join(sorted(table["text_hash"].to_pylist()))).hex
        path = f"{self._cache_dir(model)}/part-{key}.parquet"
        self._write_parquet(path, table.cast(CATALOG["embedding_cache"].schema))
        crash_point("lake.cache.written", path)
        return path

    # ---- forgetting a customer (flows/forget.py): files rewritten whole, atomically ------
    def rewrite_raw(self, batch: RawBatch, doc: dict[str, Any]) -> None:
        """Replace a landed batch in place, e.g. without a forgotten customer's items."""
        self._write_bytes(batch.path, encode_raw(doc))

    def dataset_files(self, name: str) -> list[str]:
        """Every visible Parquet file of a dataset (partitions, quarantine and cache parts)."""
        base = self.dataset_path(name)
        found = self.fs.find(base) if self.fs.exists(base) else []
        return sorted(
            p for p in found if p.endswith(".parquet") and p.rsplit("/", 1)[-1][0] not in "._"
        )

    def read_file(self, path: str) -> pa.Table:
        return self._read_parquet(path)

    def rewrite_file(self, path: str, table: pa.Table) -> None:
        """Replace one Parquet file of a dataset whole; remove it when `table` is empty."""
        if table.num_rows:
            self._write_parquet(path, table)
        elif self.fs.exists(path):
            self.fs.rm_file(path)
