"""Committing a prepared chunk to the lake (new vectors into the embedding cache, quarantine,
quality gate, upsert into feedback/, processed-batch state, in that order, one writer at a
time) and recording a processing run."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

import pyarrow as pa

from flows.lake.crash_points import crash_point
from flows.lake.store import Lake
from flows.processing.embedding import embed_chunk
from flows.processing.parse_pool import Prepared, parse_chunk
from flows.processing.process_stats import ProcessStats
from flows.processing.quality_gate import QualityGate
from flows.runtime.config import ChorusConfig, pseudonym_key
from flows.runtime.events import emit
from flows.runtime.logs import logger


def commit(
    cfg: ChorusConfig, lake: Lake, prep: Prepared, now: datetime, gate: QualityGate
) -> ProcessStats:
    """Write one prepared chunk; batches another run committed meanwhile are prepared afresh."""
    with lake.lock("process"):
        crash_point("process.locked")
        seen = {
            s: lake.read_state(f"process/{s}").get("batches", {})
            for s in {b.source for b in prep.batches}
        }
        if any(b.batch_id in seen[b.source] for b in prep.batches):
            todo = [b for b in prep.batches if b.batch_id not in seen[b.source]]
            prep = embed_chunk(cfg, lake, parse_chunk(cfg, lake, todo, now, pseudonym_key(cfg)))
        return _commit_locked(lake, prep, gate)


def _commit_locked(lake: Lake, prep: Prepared, gate: QualityGate) -> ProcessStats:
    stats, done = ProcessStats(), {}
    if prep.rows and prep.new_vectors is not None and prep.vectors_key:
        lake.add_embeddings(prep.vectors_key, prep.new_vectors)
        crash_point("process.embedded")
    for batch, n_items, good, bad in zip(
        prep.batches, prep.items, prep.good, prep.bad, strict=True
    ):
        lake.write_quarantine(
            batch.source, batch.batch_id, pa.Table.from_pylist(bad) if bad else pa.table({})
        )
        crash_point("process.quarantined", batch.batch_id)
        src = stats.per_source.setdefault(batch.source, {"landed": 0, "rows": 0, "quarantined": 0})
        src["landed"] += n_items
        src["rows"] += len(good)
        src["quarantined"] += len(bad)
        stats.count_items(n_items, good, bad)
        stats.quarantined += len(bad)
        done.setdefault(batch.source, {})[batch.batch_id] = {
            "items": n_items,
            "rows": len(good),
            "quarantined": len(bad),
        }
    stats.batches += len(prep.batches)
    stats.rows += len(prep.rows)
    if prep.rows and prep.table is not None:
        stats.embedded += prep.embedded
        table = gate.check(
            prep.batches, prep.rows, prep.table, stats, done
        )  # refused -> quarantine/
        result = lake.upsert_feedback(table)
        stats.written += result.inserted + result.updated
        stats.unchanged += result.unchanged
        stats.stale += result.stale
        stats.superseded += result.superseded
        crash_point("process.upserted")
    if problem := stats.reconciliation_problem():  # checked before any state is committed
        logger().error("%s; processed-batch state not committed, the run fails", problem)
        raise RuntimeError(problem)
    for source, batches in done.items():  # committed only after the rows are in feedback/
        state = lake.read_state(f"process/{source}")
        lake.write_state(f"process/{source}", {"batches": {**state.get("batches", {}), **batches}})
        crash_point("process.state", source)
    return stats


def record_run(lake: Lake, stats: ProcessStats, now: datetime) -> dict:
    """Log and save the run's counts (`_state/runs/process_last`, which the report shows) and
    announce an updated feedback table; the counts as a dict."""
    crash_point("process.done")
    logger().info(
        "processed %d batches: %d items landed + %d extra rows = %d written + %d unchanged + %d stale + %d superseded + %d quarantined (%d by the quality suites) + %d not feedback (reconciled); %d texts embedded",
        stats.batches,
        stats.landed,
        stats.expanded,
        stats.written,
        stats.unchanged,
        stats.stale,
        stats.superseded,
        stats.quarantined,
        stats.quality_quarantined,
        stats.skipped,
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
