"""The quality gate: the Great Expectations suites (real GE) in front of a real lake."""

from __future__ import annotations

import hashlib
import json
import math
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

import flows.process
import flows.processing.embedding
from flows.ingest import ingest_source
from flows.lake.store import Lake
from flows.processing.embedding import with_embeddings
from flows.processing.process_stats import ProcessStats
from flows.processing.quality_gate import QualityGate, docs_dir
from flows.runtime.config import load_config
from schemas import quality
from transforms.canonical import MAX_TEXT_CHARS, enriched_table
from transforms.embed import Embedder
from transforms.ids import feedback_id

COUNTS = ("written", "unchanged", "stale", "superseded", "quarantined")
SOURCES = ("tickets", "beta", "notes")


def _reconciles(stats: dict[str, Any]) -> None:
    extra, none = stats.get("expanded", 0), stats.get("skipped", 0)  # rows beyond one per item
    assert stats["landed"] + extra == sum(stats[k] for k in COUNTS) + none, stats
    assert (
        stats["rows"]
        == stats["written"] + stats["unchanged"] + stats["stale"] + stats["superseded"]
    )
    for name, src in stats["per_source"].items():
        assert src["landed"] == src["rows"] + src["quarantined"], name


def _ingest_and_process(config: Path) -> dict[str, Any]:
    for name in SOURCES:
        ingest_source.fn(load_config(config), name)
    return flows.process.process(str(config))


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _quarantined(lake_dir: Path) -> pd.DataFrame:
    return Lake(str(lake_dir)).read_quarantine().to_pandas()


@pytest.fixture
def prefect_api():
    """A temporary Prefect API for the processing flow (the event test starts its own)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def test_process_quarantines_what_only_the_suites_catch_and_counts_reconcile(
    prefect_api, small_project, tmp_path
):
    config = small_project
    (tmp_path / "inbox" / "tickets" / "week2.csv").write_text(
        "id,created,updated,subject,body,org,email,score\n"
        "20,2026-10-06T10:00:00Z,2026-10-06T10:00:00Z,Search,Search ignores the date filter,acc_2,bob@other.example,4\n"
        "21,2026-10-06T10:00:00Z,2026-10-01T08:00:00Z,Edited,Updated five days before it was created,acc_3,cy@third.example,3\n",
        encoding="utf-8",
    )
    stats = _ingest_and_process(config)

    _reconciles(stats)
    assert stats["quality_quarantined"] == 1
    assert stats["per_source"]["tickets"] == {"landed": 6, "rows": 4, "quarantined": 2}
    fb = pd.read_parquet(tmp_path / "lake" / "feedback")
    ids = set(zip(fb["source"].astype(str), fb["source_id"], strict=True))
    assert ("tickets", "20") in ids and ("tickets", "21") not in ids
    assert {("tickets", "1"), ("beta", "b-1"), ("notes", "2026-10-05-workshop.md")} <= ids

    q = _quarantined(tmp_path / "lake")
    row = q[q["source_id"] == "21"].iloc[0]
    assert row["reason"].startswith("quality: chorus.normalized updated_at/created_at: ")
    assert "observed updated_at=2026-10-01T08:00:00+00:00, created_at=2026-10-06" in row["reason"]
    assert "expect_column_pair_values_a_to_be_greater_than_b" in row["reason"]
    assert json.loads(row["payload"])["id"] == "21" and row["item_index"] == 1
    state = Lake(str(tmp_path / "lake")).read_state("process/tickets")["batches"]
    assert sorted((b["rows"], b["quarantined"]) for b in state.values()) == [(1, 1), (3, 1)]

    index = Path(docs_dir(load_config(config))) / "index.html"
    html = index.read_text(encoding="utf-8")
    assert quality.NORMALIZED_SUITE in html and quality.CURATED_SUITE in html
    pages = "".join(p.read_text("utf-8") for p in index.parent.rglob("*.html"))
    assert "bob@other.example" not in pages and "Search ignores" not in pages

    again = _ingest_and_process(config)  # nothing new: nothing checked, nothing changes
    assert again["batches"] == again["quality_quarantined"] == again["written"] == 0


def _row(source_id: str, **over: Any) -> dict[str, Any]:
    row = {
        "source": "tickets",
        "source_kind": "support",
        "source_id": source_id,
        "created_at": datetime(2026, 10, 1, 9, tzinfo=UTC),
        "updated_at": None,
        "title": "Export",
        "text": f"The export fails with error {source_id} every morning",
        "rating": 0.25,
        "rating_raw": 2.0,
        "rating_scale": "1-5",
        "nps": None,
        "tags": [],
        "customer_id": "ann@customer.example",
        "account_id": "acc_1",
        "is_internal": False,
    }
    return {**row, **over}


def test_each_bad_row_is_quarantined_alone_with_a_reason_that_shows_no_personal_value(
    small_project, tmp_path
):
    cfg = load_config(small_project)
    lake = Lake(cfg.lake_url)
    now = datetime.now(UTC)
    huge = "words and more words " * 10_000  # 210,000 characters
    rows = [
        _row("ok-1"),
        _row("ok-2", text="", title=None, rating=1.0, rating_raw=5.0),  # a score alone is fine
        _row("rating", rating=1.5, rating_raw=7.0),
        _row("1970", created_at=datetime(1970, 1, 1, tzinfo=UTC)),
        _row("empty", text="", title=None, rating=None, rating_raw=None, rating_scale=None),
        _row("huge", text=huge),
        _row("ok-3"),
    ]
    batch = lake.land_raw(
        "tickets", "b-rows", [json.loads(json.dumps(r, default=str)) for r in rows], {}
    )
    for i, r in enumerate(rows):
        r.update(_batch=batch.batch_id, _item=i)
    key = b"test-key-not-a-secret"
    table, texts = enriched_table(rows, key, now, cfg.internal_domains)
    table, _ = with_embeddings(table, texts, lake, Embedder(cfg.embedding.model))
    leaked = table["feedback_id"].to_pylist().index(feedback_id("tickets", "ok-3"))
    ids = table["customer_id"].to_pylist()
    ids[leaked] = "ann@customer.example"  # pseudonymisation skipped for this one row
    table = table.set_column(
        table.schema.get_field_index("customer_id"), "customer_id", pa.array(ids)
    )

    stats = ProcessStats(rows=len(rows))
    done: dict = {"tickets": {batch.batch_id: {"items": 7, "rows": 7, "quarantined": 0}}}
    kept = QualityGate(cfg, lake, now).check([batch], rows, table, stats, done)
    lake.upsert_feedback(kept)

    landed = set(lake.read_feedback(["source_id"])["source_id"].to_pylist())
    assert landed == {"ok-1", "ok-2"}
    assert stats.quarantined == stats.quality_quarantined == 5 and stats.rows == 2
    assert done["tickets"][batch.batch_id] == {
        "items": 7, "rows": 2, "quarantined": 5, "quality_quarantined": 5,
    }  # fmt: skip
    q = _quarantined(tmp_path / "lake").set_index("source_id")
    reason = q["reason"].to_dict()
    assert set(reason) == {"rating", "1970", "empty", "huge", "ok-3"}
    assert (
        "chorus.normalized rating: expected rating normalised to 0..1, observed rating=1.5"
        in reason["rating"]
    )
    assert "rating_high/rating_raw" in reason["rating"] and "rating_raw=7" in reason["rating"]
    assert "created_at: expected created_at after 2000" in reason["1970"]
    assert "observed created_at=1970-01-01T00:00:00+00:00" in reason["1970"]
    assert "has_content: expected text present" in reason["empty"]
    assert "observed has_content=False" in reason["empty"]
    assert f"text at most {MAX_TEXT_CHARS:,} chars, observed text_chars=210,000" in reason["huge"]
    assert "words and more" not in reason["huge"]
    assert "chorus.curated customer_id: expected customer_id is a pseudonym" in reason["ok-3"]
    assert "observed customer_id='aaa@aaaaaaaa.aaaaaaa'" in reason["ok-3"]
    assert all("ann@" not in r for r in reason.values())
    assert q.loc["huge", "item_index"] == 5 and json.loads(q.loc["huge", "payload"])["text"] == huge
    pages = "".join(p.read_text("utf-8") for p in Path(docs_dir(cfg)).rglob("*.html"))
    assert "aaa@aaaaaaaa.aaaaaaa" in pages and "ann@customer.example" not in pages


def _events(name: str) -> list[Any]:
    from prefect import get_client
    from prefect.events.filters import EventFilter, EventNameFilter
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all()
    with get_client(sync_client=True) as client:
        for _ in range(60):  # the API persists events asynchronously
            page = client.read_events(EventFilter(event=EventNameFilter(name=[name])), limit=50)
            if page.events:
                time.sleep(1)  # let the rest of this run's events arrive
                return client.read_events(
                    EventFilter(event=EventNameFilter(name=[name])), limit=50
                ).events
            time.sleep(0.5)
    return []


def test_a_batch_failing_a_batch_check_is_quarantined_whole_and_quality_failed_is_emitted(
    small_project, tmp_path, monkeypatch
):
    from prefect.testing.utilities import prefect_test_harness

    config = small_project
    lake_dir = tmp_path / "lake"
    with prefect_test_harness(server_startup_timeout=120):
        for name in SOURCES:
            ingest_source.fn(load_config(config), name)
        first = flows.process.process(str(config))
        _reconciles(first)
        before = _fingerprint(lake_dir / "feedback")

        # duplicate ids: two different items claim beta b-7 at the same time
        (tmp_path / "inbox" / "beta" / "b2.jsonl").write_text(
            "".join(
                json.dumps(
                    {
                        "feedback_id": fid,
                        "timestamp": "2026-10-06T09:00:00Z",
                        "comment": text,
                        "account_id": "acc_1",
                        "tester_email": "qa@customer.example",
                    }  # fmt: skip
                )
                + "\n"
                for fid, text in (
                    ("b-7", "Sync stops after the laptop sleeps"),
                    ("b-7", "Widgets overlap on small screens"),
                    ("b-8", "Offline mode works great now"),
                )
            ),
            encoding="utf-8",
        )
        # a wrong embedding dimension: the model gives 383 numbers for the new tickets
        (tmp_path / "inbox" / "tickets" / "week2.csv").write_text(
            "id,created,updated,subject,body,org,email,score\n"
            "30,2026-10-07T10:00:00Z,,Login,Login page loops back to itself,acc_2,bob@other.example,2\n"
            "31,2026-10-07T11:00:00Z,,Invoices,Invoices show the wrong currency,acc_3,cy@third.example,3\n",
            encoding="utf-8",
        )
        real = flows.processing.embedding.with_embeddings

        def short_vectors(table, texts, lake, embedder, progress=None):
            table, n = real(table, texts, lake, embedder, progress)
            vectors = [
                None if v is None else (v[:-1] if s == "tickets" else v)
                for s, v in zip(
                    table["source"].to_pylist(), table["embedding"].to_pylist(), strict=True
                )
            ]
            at = table.schema.get_field_index("embedding")
            return table.set_column(at, "embedding", pa.array(vectors, pa.list_(pa.float32()))), n

        monkeypatch.setattr(flows.processing.embedding, "with_embeddings", short_vectors)
        for name in SOURCES:
            ingest_source.fn(load_config(config), name)
        second = flows.process.process(str(config))
        events = _events("chorus.quality.failed")

    assert _fingerprint(lake_dir / "feedback") == before
    _reconciles(second)
    assert second["batches"] == 2 and second["written"] == 0
    assert second["quarantined"] == second["quality_quarantined"] == 5
    q = _quarantined(lake_dir)
    q = q[q["reason"].str.startswith("quality: ")]  # not the parse errors of the first run
    dup = q[q["source"] == "beta"].set_index("item_index")["reason"]
    assert sorted(dup.index) == [0, 1, 2]  # the good b-8 goes with its batch
    assert dup[2] == (
        "quality: batch rejected: chorus.curated:expect_column_values_to_be_unique"
        "(feedback_id, updated_at) failed for 2 of 3 rows; this row passed"
    )
    assert "; this row: chorus.curated feedback_id/updated_at: expected ids unique" in dup[0]
    dim = q[q["source"] == "tickets"]
    assert sorted(dim["source_id"]) == ["30", "31"]
    assert all("embedding_dim" in r and "observed embedding_dim=383" in r for r in dim["reason"])

    by_source = {e.resource.id: e for e in events}
    assert set(by_source) == {"chorus.source.beta", "chorus.source.tickets"}
    beta = by_source["chorus.source.beta"].payload
    assert beta["rows"] == beta["quarantined"] == 3 and beta["row_failures"] == 2
    assert beta["failed_expectations"] == [
        "chorus.curated:expect_column_values_to_be_unique(feedback_id, updated_at)"
    ]
    tickets = by_source["chorus.source.tickets"].payload
    assert tickets["quarantined"] == 2
    assert tickets["failed_expectations"] == [
        "chorus.curated:expect_column_values_to_be_in_set(embedding_dim)"
    ]
    state = Lake(str(lake_dir)).read_state("process/beta")["batches"]
    failed = [b for b in state.values() if "quality_failed" in b]
    assert len(failed) == 1 and (failed[0]["rows"], failed[0]["quarantined"]) == (0, 3)
    assert "expect_column_values_to_be_unique" in failed[0]["quality_failed"][0]


def test_views_show_shapes_and_scales_and_share_the_text_limit():
    assert quality.MAX_TEXT_CHARS == MAX_TEXT_CHARS
    assert quality.value_shape("Ann.Lee@Example.org") == "Aaa.Aaa@Aaaaaaa.aaa"
    assert quality.value_shape("x" * 50).endswith("… (50 chars)")
    lows, highs = quality._scale_bounds(["1-5", "0-10", "freshdesk:-103..103", "bad-good", None])
    assert lows[:3] == [1.0, 0.0, -103.0] and highs[:3] == [5.0, 10.0, 103.0]
    assert all(math.isnan(x) for x in lows[3:] + highs[3:])
    names = [c.expectation for c in quality.curated_checks(["tickets"], datetime.now(UTC))]
    assert {"ExpectColumnValuesToBeUnique", "ExpectColumnValuesToBeInSet"} <= set(names)
