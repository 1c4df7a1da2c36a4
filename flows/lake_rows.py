"""Row-level pieces of the lake: newest version per feedback_id, merging a partition, and the
raw zone's gzipped-JSON codec. Pure functions over Arrow tables and bytes (no I/O)."""

from __future__ import annotations

import gzip
import json
import re
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from schemas.feedback import FEEDBACK_SCHEMA

# columns that may differ between two deliveries of the same content
VOLATILE = {"ingested_at"}


def _latest_per_id(rows: pa.Table) -> pa.Table:
    """One row per feedback_id: the latest updated_at (then the last delivered)."""
    if rows.num_rows <= 1:
        return rows
    order = pc.sort_indices(
        rows, sort_keys=[("feedback_id", "ascending"), ("updated_at", "ascending")]
    )
    rows = rows.take(order)
    ids = rows["feedback_id"].to_pylist()
    keep = [i for i in range(len(ids)) if i == len(ids) - 1 or ids[i] != ids[i + 1]]
    return rows.take(keep)


def _content(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in VOLATILE}


def _merge_partition(
    existing: pa.Table | None, incoming: pa.Table, source: str, month: str
) -> tuple[pa.Table, tuple[int, int, int, int]]:
    stored_cols = [n for n in FEEDBACK_SCHEMA.names if n not in ("source", "created_month")]
    incoming_stored = incoming.select(stored_cols)
    if existing is None or existing.num_rows == 0:
        return incoming_stored.sort_by("feedback_id"), (incoming.num_rows, 0, 0, 0)
    existing = existing.select(stored_cols).cast(
        pa.schema([FEEDBACK_SCHEMA.field(c) for c in stored_cols])
    )
    ids = pa.array(incoming_stored["feedback_id"].to_pylist(), pa.string())
    old = {
        r["feedback_id"]: r
        for r in existing.filter(pc.is_in(existing["feedback_id"], value_set=ids)).to_pylist()
    }
    keep_new: list[int] = []
    inserted = updated = unchanged = stale = 0
    for i, row in enumerate(incoming_stored.to_pylist()):
        prev = old.get(row["feedback_id"])
        if prev is None:
            inserted += 1
            keep_new.append(i)
        elif _content(prev) == _content(row):
            unchanged += 1
        elif prev["updated_at"] and row["updated_at"] and row["updated_at"] < prev["updated_at"]:
            stale += 1
        else:
            updated += 1
            keep_new.append(i)
    if not keep_new:
        return existing, (0, 0, unchanged, stale)
    replaced = set(incoming_stored.take(keep_new)["feedback_id"].to_pylist())
    kept = existing.filter(
        pc.invert(
            pc.is_in(existing["feedback_id"], value_set=pa.array(sorted(replaced), pa.string()))
        )
    )
    merged = pa.concat_tables([kept, incoming_stored.take(keep_new)]).sort_by("feedback_id")
    return merged, (inserted, updated, unchanged, stale)


def encode_raw(doc: dict[str, Any]) -> bytes:
    """A raw batch as gzipped JSON: orjson and gzip level 3 (several times faster than the json
    module at level 9, for a file about a tenth larger); json for what orjson refuses (lone
    surrogates from a vendor's broken UTF-16)."""
    try:
        data = orjson.dumps(doc, default=str, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        data = json.dumps(doc, default=str).encode()
    return gzip.compress(data, compresslevel=3, mtime=0)


def decode_raw(data: bytes) -> dict[str, Any]:
    return loads_exact(gzip.decompress(data))


# 19+ digits may not fit 64 bits: orjson would turn such an integer into a float
_LONG_NUMBER = re.compile(rb"\d{19,}")


def loads_exact(text: bytes) -> Any:
    """JSON with orjson's speed and json's exact big integers (ids past 64 bits stay exact)."""
    if _LONG_NUMBER.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)
