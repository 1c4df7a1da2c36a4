"""Row-level pieces of the lake: newest version per feedback_id, merging a partition, and the
raw zone's gzipped-JSON codec. Pure functions over Arrow tables and bytes (no I/O)."""

from __future__ import annotations

import gzip
import json
import re
import zlib
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from connectors.common.jsonexact import loads_exact
from schemas.feedback import FEEDBACK_SCHEMA

# columns that may differ between two deliveries of the same content
VOLATILE = {"ingested_at"}


def _latest_per_id(rows: pa.Table) -> pa.Table:
    """One row per feedback_id: the latest updated_at (then the last delivered)."""
    if rows.num_rows <= 1 or pc.count_distinct(rows["feedback_id"]).as_py() == rows.num_rows:
        return rows  # no id twice (the usual delivery): nothing to choose, nothing to copy
    order = pc.sort_indices(
        rows, sort_keys=[("feedback_id", "ascending"), ("updated_at", "ascending")]
    )
    rows = rows.take(order)
    ids = rows["feedback_id"].to_pylist()
    keep = [i for i in range(len(ids)) if i == len(ids) - 1 or ids[i] != ids[i + 1]]
    return rows.take(keep)


def _same(a: pa.ChunkedArray | pa.Array, b: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Row-wise equality of two aligned columns (null equals null), as a numpy bool array."""
    a = a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
    b = b.combine_chunks() if isinstance(b, pa.ChunkedArray) else b
    both_null = np.asarray(pc.and_(a.is_null(), b.is_null()))
    if pa.types.is_fixed_size_list(a.type):  # embeddings: compare the vectors in numpy
        out = both_null.copy()
        valid = np.asarray(pc.and_(a.is_valid(), b.is_valid()))
        if valid.any():
            mask = pa.array(valid)
            va = np.asarray(a.filter(mask).flatten()).reshape(-1, a.type.list_size)
            vb = np.asarray(b.filter(mask).flatten()).reshape(-1, a.type.list_size)
            out[valid] = (va == vb).all(axis=1)
        return out
    if pa.types.is_list(a.type) or pa.types.is_large_list(a.type):  # short lists: tags, kinds
        return np.fromiter(
            (x == y for x, y in zip(a.to_pylist(), b.to_pylist(), strict=True)), bool, len(a)
        )
    equal = np.asarray(pc.fill_null(pc.equal(a, b), False))
    return equal | both_null


def _merge_partition(
    existing: pa.Table | None, incoming: pa.Table, source: str, month: str
) -> tuple[pa.Table, tuple[int, int, int, int]]:
    """Merge one partition's incoming rows: new ids inserted, changed rows replaced (unless the
    stored version is newer: stale), identical content (volatile columns aside) left alone.
    Compared column by column in Arrow and numpy, only for ids already stored."""
    stored_cols = [n for n in FEEDBACK_SCHEMA.names if n not in ("source", "created_month")]
    incoming_stored = incoming.select(stored_cols)
    if existing is None or existing.num_rows == 0:
        ids = incoming_stored["feedback_id"]
        ordered = len(ids) < 2 or pc.all(pc.less(ids[:-1], ids[1:])).as_py()  # as upsert sends
        return (
            incoming_stored if ordered else incoming_stored.sort_by("feedback_id"),
            (incoming.num_rows, 0, 0, 0),
        )
    existing = existing.select(stored_cols).cast(
        pa.schema([FEEDBACK_SCHEMA.field(c) for c in stored_cols])
    )
    where = pc.index_in(incoming_stored["feedback_id"], value_set=existing["feedback_id"])
    known = np.asarray(where.is_valid())
    n = incoming_stored.num_rows
    keep = ~known  # inserted
    inserted = int(keep.sum())
    unchanged = stale = updated = 0
    if known.any():
        mine = incoming_stored.filter(pa.array(known))
        theirs = existing.take(pc.drop_null(where))
        same = np.ones(mine.num_rows, bool)
        for name in stored_cols:
            if name not in VOLATILE:
                same &= _same(mine[name], theirs[name])
        older = np.asarray(pc.fill_null(pc.less(mine["updated_at"], theirs["updated_at"]), False))
        is_stale = ~same & older
        is_updated = ~same & ~older
        unchanged, stale, updated = int(same.sum()), int(is_stale.sum()), int(is_updated.sum())
        keep[np.flatnonzero(known)[is_updated]] = True
    if not keep.any():
        return existing, (0, 0, unchanged, stale)
    keep_new = np.flatnonzero(keep)
    fresh = incoming_stored if len(keep_new) == n else incoming_stored.take(pa.array(keep_new))
    kept = existing
    if updated:  # only then does a stored row give way (a filter copies the partition)
        replaced = pc.is_in(existing["feedback_id"], value_set=fresh["feedback_id"])
        kept = existing.filter(pc.invert(replaced))
    merged = pa.concat_tables([kept, fresh]).sort_by("feedback_id")
    assert inserted + updated + unchanged + stale == n
    return merged, (inserted, updated, unchanged, stale)


def encode_raw(doc: dict[str, Any]) -> bytes:
    """A raw batch as gzipped JSON: orjson and gzip level 3 (several times faster than the json
    module at level 9, for a file about a tenth larger); json for what orjson refuses (lone
    surrogates from a vendor's broken UTF-16). The item count leads the document, so planning
    reads it from the first bytes (`raw_item_count`) instead of parsing the batch."""
    if isinstance(doc.get("items"), list):
        doc = {
            "item_count": len(doc["items"]),
            **{k: v for k, v in doc.items() if k != "item_count"},
        }
    try:
        data = orjson.dumps(doc, default=str, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        data = json.dumps(doc, default=str).encode()
    return gzip.compress(data, compresslevel=3, mtime=0)


def decode_raw(data: bytes) -> dict[str, Any]:
    return loads_exact(gzip.decompress(data))


_ITEM_COUNT = re.compile(rb'\{\s*"item_count"\s*:\s*(\d+)\s*,')


def raw_item_count(head: bytes) -> int | None:
    """The item count from the first compressed bytes of a raw batch (None when the batch
    predates the count or the bytes are too few: read the whole batch then)."""
    try:
        text = zlib.decompressobj(wbits=31).decompress(head, 64)
    except zlib.error:
        return None
    m = _ITEM_COUNT.match(text)
    return int(m.group(1)) if m else None
