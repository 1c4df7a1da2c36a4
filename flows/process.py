"""Process: landed raw batches become canonical, redacted, embedded rows in feedback/ (idempotent)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import pyarrow as pa
from prefect import flow, task

from flows.runtime import context, emit, logger, progress, pseudonym_key
from flows.steps import (
    ProcessStats,
    canonical_rows,
    domain_accounts,
    enriched_table,
    with_embeddings,
)
from transforms.embed import Embedder

CHUNK_ROWS = 20_000


@task(retries=2, retry_delay_seconds=[1, 5])  # I/O only: listing the lake
def pending_batches(config_path: str, sources: list[str] | None = None) -> list[str]:
    """Raw batches of the configured sources that have not been processed yet."""
    cfg, lake = context(config_path)
    names = sources or [s.name for s in cfg.sources]
    pending = []
    for name in names:
        done = lake.read_state(f"process/{name}").get("batches", {})
        pending += [b.path for b in lake.raw_batches(name) if b.batch_id not in done]
    return pending


@task(tags=["chorus-feedback-writer"])
def process_batches(config_path: str, batch_paths: list[str]) -> dict:
    """Parse, check, redact, embed and upsert; bad items go to quarantine/ with their reason."""
    cfg, lake = context(config_path)
    log = logger()
    key = pseudonym_key(cfg)
    embedder = Embedder(cfg.embedding.model, cfg.embedding.batch_size)
    now = datetime.now(UTC)
    accounts = domain_accounts(cfg)
    stats = ProcessStats()
    by_path = {b.path: b for b in lake.raw_batches()}
    todo = [by_path[p] for p in batch_paths if p in by_path]
    i = 0
    while i < len(todo):
        chunk, rows, done = [], [], {}
        while i < len(todo) and (not chunk or len(rows) < CHUNK_ROWS):
            batch = todo[i]
            doc = lake.read_raw(batch)
            good, bad = canonical_rows(cfg, batch, doc, now)
            lake.write_quarantine(
                batch.source, batch.batch_id, pa.Table.from_pylist(bad) if bad else pa.table({})
            )
            src = stats.per_source.setdefault(
                batch.source, {"landed": 0, "rows": 0, "quarantined": 0}
            )
            src["landed"] += len(doc.get("items", []))
            src["rows"] += len(good)
            src["quarantined"] += len(bad)
            stats.landed += len(doc.get("items", []))
            stats.quarantined += len(bad)
            done.setdefault(batch.source, {})[batch.batch_id] = {
                "items": len(doc.get("items", [])),
                "rows": len(good),
                "quarantined": len(bad),
            }
            rows += good
            chunk.append(batch)
            i += 1
        stats.batches += len(chunk)
        stats.rows += len(rows)
        if rows:
            table, texts = enriched_table(rows, cfg, key, now, accounts)
            with progress(
                "embedding",
                len(
                    {
                        h
                        for h, t in zip(table["text_hash"].to_pylist(), texts, strict=True)
                        if t.strip()
                    }
                ),
            ) as advance:
                table, n_embedded = with_embeddings(table, texts, lake, embedder, advance)
            stats.embedded += n_embedded
            result = lake.upsert_feedback(table)
            stats.written += result.inserted + result.updated
            stats.unchanged += result.unchanged
            stats.stale += result.stale
            stats.superseded += len(rows) - (
                result.inserted + result.updated + result.unchanged + result.stale
            )
        for source, batches in done.items():  # committed only after the rows are in feedback/
            state = lake.read_state(f"process/{source}")
            lake.write_state(
                f"process/{source}", {"batches": {**state.get("batches", {}), **batches}}
            )
    log.info(
        "processed %d batches: %d items landed -> %d rows, %d written, %d unchanged, %d stale, %d quarantined; %d texts embedded",
        stats.batches,
        stats.landed,
        stats.rows,
        stats.written,
        stats.unchanged,
        stats.stale,
        stats.quarantined,
        stats.embedded,
    )
    out = asdict(stats)
    lake.write_state("runs/process_last", {**out, "at": now.isoformat()})
    if stats.written:
        emit(
            "feedback_updated",
            "chorus.dataset.feedback",
            {"written": stats.written, "quarantined": stats.quarantined, "batches": stats.batches},
        )
    return out


@flow(name="chorus-process", log_prints=True)
def process(config_path: str, sources: list[str] | None = None) -> dict:
    batches = pending_batches(config_path, sources)
    return process_batches(config_path, batches)
