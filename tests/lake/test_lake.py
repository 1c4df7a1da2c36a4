from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from flows.lake.rows import raw_item_count
from flows.lake.store import Lake
from schemas.feedback import EMBEDDING_DIM, FEEDBACK_SCHEMA


def _rows(
    ids: list[str], text: str = "hello", updated: datetime | None = None, month: str = "2026-10"
) -> pa.Table:
    now = datetime(2026, 10, 5, tzinfo=UTC)
    rows = []
    for i in ids:
        rows.append(
            {
                "feedback_id": f"f{i}", "source": "s", "source_kind": "support", "source_id": i,
                "created_at": datetime(2026, 10, 1, tzinfo=UTC), "updated_at": updated or datetime(2026, 10, 1, tzinfo=UTC),
                "ingested_at": now, "text": text, "text_hash": "h", "schema_version": 1, "created_month": month,
                "embedding": np.ones(EMBEDDING_DIM, dtype=np.float32) / np.sqrt(EMBEDDING_DIM), "is_internal": False,
            }
        )  # fmt: skip
    return pa.Table.from_pylist(rows, schema=FEEDBACK_SCHEMA)


def test_upsert_inserts_updates_and_never_duplicates(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    s1 = lake.upsert_feedback(_rows(["1", "2"]))
    assert (s1.inserted, s1.updated, s1.unchanged) == (2, 0, 0)
    s2 = lake.upsert_feedback(
        _rows(["2", "3"], text="edited", updated=datetime(2026, 10, 2, tzinfo=UTC))
    )
    assert (s2.inserted, s2.updated) == (1, 1)
    s3 = lake.upsert_feedback(
        _rows(["2"], text="edited", updated=datetime(2026, 10, 2, tzinfo=UTC))
    )
    assert (s3.inserted, s3.updated, s3.unchanged, s3.partitions_written) == (0, 0, 1, 0)
    stale = lake.upsert_feedback(
        _rows(["2"], text="older", updated=datetime(2026, 9, 1, tzinfo=UTC))
    )
    assert stale.stale == 1
    df = pd.read_parquet(tmp_path / "lake" / "feedback")
    assert sorted(df["feedback_id"]) == ["f1", "f2", "f3"]
    assert df.set_index("feedback_id").loc["f2", "text"] == "edited"
    n = duckdb.sql(
        f"select count(*), count(distinct feedback_id) from read_parquet('{tmp_path}/lake/feedback/**/*.parquet', hive_partitioning=true)"
    ).fetchall()[0]
    assert n == (3, 3)


def test_an_item_keeps_its_first_partition_when_its_date_moves(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    lake.upsert_feedback(_rows(["1"], month="2026-10"))
    lake.upsert_feedback(
        _rows(["1"], text="moved", month="2026-11", updated=datetime(2026, 11, 2, tzinfo=UTC))
    )
    df = lake.read_feedback().to_pandas()
    assert len(df) == 1 and df["text"][0] == "moved" and df["created_month"][0] == "2026-10"


def test_duplicates_within_one_delivery_keep_the_latest(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    both = pa.concat_tables(
        [
            _rows(["1"], text="new", updated=datetime(2026, 10, 3, tzinfo=UTC)),
            _rows(["1"], text="old"),
        ]
    )
    lake.upsert_feedback(both)
    assert lake.read_feedback()["text"].to_pylist() == ["new"]


def test_crash_during_write_leaves_last_committed_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = Lake(str(tmp_path / "lake"))
    lake.upsert_feedback(_rows(["1", "2"]))
    before = pd.read_parquet(tmp_path / "lake" / "feedback")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        lake.upsert_feedback(_rows(["3"]))
    monkeypatch.undo()
    after = pd.read_parquet(tmp_path / "lake" / "feedback")
    pd.testing.assert_frame_equal(before, after)
    leftovers = [p for p in (tmp_path / "lake").rglob("*") if p.name.startswith(".tmp")]
    assert leftovers == []


def test_state_and_raw_round_trip(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    assert lake.read_state("ingest/x") == {}
    lake.write_state("ingest/x", {"cursor": "abc"})
    assert lake.read_state("ingest/x") == {"cursor": "abc"}
    ref = lake.land_raw("x", "b1", [{"id": 1, "text": "é ✓"}], {"file": "f"})
    assert lake.raw_batches("x") == [ref]
    assert lake.read_raw(ref)["items"] == [{"id": 1, "text": "é ✓"}]


def test_raw_batches_keep_integers_past_64_bits_exact(tmp_path):
    # found by the fuzz tests: orjson reads such integers back as floats
    lake = Lake(str(tmp_path / "lake"))
    items = [{"id": -9223372036854775809, "ids": [18446744073709551616], "n": 12, "x": 1.5}]
    batch = lake.land_raw("s", "b1", items, {})
    assert lake.read_raw(batch)["items"] == items
    assert isinstance(lake.read_raw(batch)["items"][0]["id"], int)


def test_raw_item_count_read_from_the_first_bytes_and_for_older_batches(tmp_path):
    import gzip
    import json

    lake = Lake(str(tmp_path / "lake"))
    batch = lake.land_raw("s", "b1", [{"id": i} for i in range(1234)], {"cursor": "x" * 5000})
    with open(batch.path, "rb") as fh:
        assert raw_item_count(fh.read(256)) == 1234  # no need to inflate the whole batch
    assert lake.raw_item_count(batch) == 1234
    assert lake.read_raw(batch)["item_count"] == 1234
    lake.rewrite_raw(batch, {**lake.read_raw(batch), "items": [{"id": 1}]})  # forget rewrites
    assert lake.raw_item_count(batch) == 1
    # a batch landed before the count led the document: counted by reading it
    old = lake.land_raw("s", "b2", [], {})
    with open(old.path, "wb") as fh:
        fh.write(gzip.compress(json.dumps({"batch_id": "b2", "items": [{}, {}, {}]}).encode()))
    assert lake.raw_item_count(old) == 3


def _merged_reference(existing: pa.Table, incoming: pa.Table) -> tuple[set[str], tuple]:
    """The row-by-row merge rule, in plain Python: what the vectorised merge must agree with."""
    old = {r["feedback_id"]: r for r in existing.to_pylist()}
    counts, kept = [0, 0, 0, 0], dict(old)

    def content(r: dict) -> dict:
        return {k: v for k, v in r.items() if k != "ingested_at"}

    for row in incoming.to_pylist():
        prev = old.get(row["feedback_id"])
        if prev is None:
            counts[0] += 1
            kept[row["feedback_id"]] = row
        elif content(prev) == content(row):
            counts[2] += 1
        elif prev["updated_at"] and row["updated_at"] and row["updated_at"] < prev["updated_at"]:
            counts[3] += 1
        else:
            counts[1] += 1
            kept[row["feedback_id"]] = row
    return {f"{k}:{r['text']}:{r['tags']}:{r['rating']}" for k, r in kept.items()}, tuple(counts)


def test_vectorised_merge_agrees_with_the_row_by_row_rule(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    day = datetime(2026, 10, 1, tzinfo=UTC)
    stored = _rows([str(i) for i in range(40)]).to_pylist()
    for i, r in enumerate(stored):
        r.update(tags=["a"] if i % 3 else None, rating=0.5 if i % 4 else None)
    lake = Lake(str(tmp_path / "lake"))
    lake.upsert_feedback(pa.Table.from_pylist(stored, schema=FEEDBACK_SCHEMA))
    incoming = []
    for i in range(0, 60):  # 20 new ids; the rest changed in one column, or not at all
        r = (
            dict(stored[i])
            if i < 40
            else {**stored[0], "feedback_id": f"f{i}", "source_id": str(i)}
        )
        r["ingested_at"] = datetime(2026, 11, 1, tzinfo=UTC)  # volatile: never a change
        change = rng.integers(0, 8)
        if change == 1:
            r["text"] = "edited"
        elif change == 2:
            r["embedding"] = [v * 0.5 for v in r["embedding"]]
        elif change == 3:
            r["tags"] = ["a", "b"] if r["tags"] else ["b"]
        elif change == 4:
            r["rating"] = None if r["rating"] is not None else 0.9
        elif change == 5:
            r["embedding"] = None
        if change in (1, 2) and rng.integers(0, 2):
            r["updated_at"] = day - timedelta(days=3)  # an older version arriving late: stale
        incoming.append(r)
    table = pa.Table.from_pylist(incoming, schema=FEEDBACK_SCHEMA)
    want_rows, want_counts = _merged_reference(lake.read_feedback(), table)
    got = lake.upsert_feedback(table)
    assert (got.inserted, got.updated, got.unchanged, got.stale) == want_counts
    assert sum(want_counts[1:]) == 40 and want_counts[0] == 20 and want_counts[1] and want_counts[3]
    after = lake.read_feedback().to_pylist()
    assert {f"{r['feedback_id']}:{r['text']}:{r['tags']}:{r['rating']}" for r in after} == want_rows
