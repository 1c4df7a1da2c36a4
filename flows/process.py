"""Process: landed raw batches become canonical, redacted, embedded rows in feedback/ (idempotent).

Two halves per chunk of whole raw batches: `prepare` (parse, check, redact, pseudonymise, embed;
pure but for the append-only embedding cache) and `commit` (quarantine, quality gate, upsert,
processed-batch state; one writer at a time). The flow submits the prepare tasks to its task
runner, so they run side by side (threads by default, worker processes on the DaskTaskRunner),
and commits their results one by one in batch order: the lake ends the same either way. Under
the default runner the CPU-bound parse half of each chunk runs in a pool of worker processes
(`processing.parse_workers`, one per core) once a run has two chunks or more.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, fields
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.lake.crash_points import crash_point
from flows.lake.store import Lake, RawBatch
from flows.runtime.config import ChorusConfig, config_and_lake, pseudonym_key
from flows.runtime.events import emit
from flows.runtime.logs import logger, progress
from flows.runtime.parse_pool import (
    Prepared,
    grouped,
    parse_chunk,
    parse_in_pool,
    parse_workers,
    parsed_chunks,
)
from flows.runtime.prefect_server import as_writer
from flows.runtime.quality_gate import QualityGate
from flows.steps import (
    ProcessStats,
    with_embeddings,
)
from transforms.embed import Embedder


def _embedder(cfg: ChorusConfig) -> Embedder:
    emb = cfg.embedding
    return Embedder(
        emb.model,
        emb.batch_size,
        backend=emb.backend,
        cache_dir=cfg.resolve(emb.cache_dir) if emb.cache_dir else None,
    )


def embed_chunk(cfg: ChorusConfig, lake: Lake, out: Prepared) -> Prepared:
    """Fill the chunk's embeddings (cache first); the texts are not needed afterwards."""
    if out.rows and out.table is not None:
        hashes = out.table["text_hash"].to_pylist()
        todo = len({h for h, t in zip(hashes, out.texts, strict=True) if t.strip()})
        with progress("embedding", todo) as advance:
            out.table, out.embedded = with_embeddings(
                out.table, out.texts, lake, _embedder(cfg), advance
            )
        crash_point("process.embedded")
    out.texts = []
    return out


def prepare(cfg: ChorusConfig, lake: Lake, batches: list[RawBatch], now: datetime) -> Prepared:
    return embed_chunk(cfg, lake, parse_chunk(cfg, lake, batches, now, pseudonym_key(cfg)))


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
            prep = prepare(cfg, lake, todo, now)
        return _commit_locked(lake, prep, gate)


def _commit_locked(lake: Lake, prep: Prepared, gate: QualityGate) -> ProcessStats:
    stats, done = ProcessStats(), {}
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


def merge_stats(total: ProcessStats, part: ProcessStats) -> None:
    for f in fields(ProcessStats):
        if f.name == "per_source":
            for source, counts in part.per_source.items():
                mine = total.per_source.setdefault(source, dict.fromkeys(counts, 0))
                for k, v in counts.items():
                    mine[k] = mine.get(k, 0) + v
        else:
            setattr(total, f.name, getattr(total, f.name) + getattr(part, f.name))


def plan_chunks(
    lake: Lake,
    batch_paths: list[str],
    chunk_rows: int,
    done: dict[str, dict] | None = None,
    workers: int = 1,
) -> list[list[RawBatch]]:
    """Whole raw batches in landing order, cut when a chunk holds `chunk_rows` items or more.

    With `workers` > 1 and more than `chunk_rows` items, chunks hold at most about
    `chunk_rows / workers` items, as equal as whole batches allow, and their number is a
    multiple of `workers`: the workers take turns and finish together (20,000-item chunks kept
    one worker alone on the last 12,000 of 52,000), and the memory held stays the same
    whatever the backlog.
    """
    by_path = {b.path: b for b in lake.raw_batches()}
    todo = [by_path[p] for p in batch_paths if p in by_path]
    if done is None:
        done = {
            s: lake.read_state(f"process/{s}").get("batches", {}) for s in {b.source for b in todo}
        }
    todo = [b for b in todo if b.batch_id not in done.get(b.source, {})]
    counts = [lake.raw_item_count(b) for b in todo] if chunk_rows > 1 else [1] * len(todo)
    total = sum(counts)
    if workers > 1 and total > chunk_rows:
        n = -(-total // -(-chunk_rows // workers))  # chunks of at most chunk_rows / workers
        n = -(-n // workers) * workers  # a multiple of workers
        chunks: list[list[RawBatch]] = [[]]
        seen = 0
        for batch, count in zip(todo, counts, strict=True):
            # cut where the items so far pass the next of n equal shares
            if chunks[-1] and seen + count / 2 > len(chunks) * total / n:
                chunks.append([])
            chunks[-1].append(batch)
            seen += count
        return chunks
    chunks = []
    size = chunk_rows
    for batch, count in zip(todo, counts, strict=True):
        if size >= chunk_rows:
            chunks.append([])
            size = 0
        chunks[-1].append(batch)
        size += count
    return chunks


def finish(lake: Lake, stats: ProcessStats, now: datetime) -> dict:
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


@task(retries=2, retry_delay_seconds=[1, 5])  # I/O only: listing the lake
def pending_batches(config_path: str, sources: list[str] | None = None) -> list[str]:
    """Raw batches of the configured sources that have not been processed yet."""
    cfg, lake = config_and_lake(config_path)
    names = sources or [s.name for s in cfg.sources]
    pending = []
    for name in names:
        done = lake.read_state(f"process/{name}").get("batches", {})
        pending += [b.path for b in lake.raw_batches(name) if b.batch_id not in done]
    return pending


@task(tags=["chorus-feedback-writer"], cache_policy=NO_CACHE)
def process_batches(config_path: str, batch_paths: list[str]) -> dict:
    """Parse, check, redact, embed and upsert, chunk after chunk, in this task; bad items go to
    quarantine/ with their reason. A second run at once waits for the lock, then skips what the
    first did."""
    cfg, lake = config_and_lake(config_path)
    now = datetime.now(UTC)
    gate = QualityGate(cfg, lake, now)  # the Great Expectations suites, set up on first use
    stats = ProcessStats()
    chunks = plan_chunks(lake, batch_paths, cfg.processing.chunk_rows, workers=parse_workers(cfg))
    workers = parse_workers(cfg, len(chunks))
    parsed = parsed_chunks(config_path, chunks, now, workers)
    for prep in grouped((embed_chunk(cfg, lake, p) for p in parsed), workers, len(chunks)):
        merge_stats(stats, commit(cfg, lake, prep, now, gate))
    return finish(lake, stats, now)


@task(cache_policy=NO_CACHE)
def prepare_chunk(
    config_path: str, batches: list[RawBatch], now: datetime, workers: int = 1
) -> Prepared:
    """Parse (in a worker process when `workers` > 1) and embed one chunk."""
    cfg, lake = config_and_lake(config_path)
    parsed = parse_in_pool(config_path, batches, now, pseudonym_key(cfg), workers)
    return embed_chunk(cfg, lake, parsed)


@task(cache_policy=NO_CACHE)  # tagged chorus-feedback-writer by as_writer
def commit_chunk(
    config_path: str, prep: Prepared, now: datetime, gate: QualityGate
) -> ProcessStats:
    cfg, lake = config_and_lake(config_path)
    return commit(cfg, lake, prep, now, gate)


@flow(name="chorus-process", log_prints=True)
def process(config_path: str, sources: list[str] | None = None) -> dict:
    """Prepare chunks side by side on the flow's task runner, commit them one by one in order."""
    cfg, lake = config_and_lake(config_path)
    paths = pending_batches(config_path, sources)
    now = datetime.now(UTC)
    chunks = plan_chunks(lake, paths, cfg.processing.chunk_rows, workers=parse_workers(cfg))
    gate = QualityGate(cfg, lake, now)
    if chunks:
        gate.warm_up()  # while the first chunks are parsed
    stats = ProcessStats()
    commit_task = as_writer(commit_chunk, "chorus-feedback-writer")
    workers = parse_workers(cfg, len(chunks))
    if workers > 1:
        logger().info("parsing %d chunks in %d worker processes", len(chunks), workers)
    # prepared chunks held at once, bounded
    ahead = max(2, cfg.processing.dask_workers + 1, workers + 1)
    futures = [prepare_chunk.submit(config_path, c, now, workers) for c in chunks[:ahead]]

    def prepared() -> Iterator[Prepared]:
        for i in range(len(chunks)):
            prep = futures[i].result()
            futures[i] = None  # type: ignore[call-overload]  # free the chunk once committed
            if i + ahead < len(chunks):
                futures.append(prepare_chunk.submit(config_path, chunks[i + ahead], now, workers))
            yield prep

    for prep in grouped(prepared(), workers, len(chunks)):  # `workers` chunks a commit
        merge_stats(stats, commit_task(config_path, prep, now, gate))
    out = finish(lake, stats, now)
    return {**out, "chunks": len(chunks), "parse_workers": workers}


def run_process(config_path: str, sources: list[str] | None = None) -> dict:
    """The processing flow on the task runner the config names (`processing.task_runner`)."""
    cfg, _ = config_and_lake(config_path)
    runner = task_runner(cfg)
    flow_ = process.with_options(task_runner=runner) if runner is not None else process
    out = flow_(config_path, sources)
    return {**out, "task_runner": type(runner).__name__ if runner else "ThreadPoolTaskRunner"}


def task_runner(cfg: ChorusConfig) -> Any:
    if cfg.processing.task_runner != "dask":
        return None
    from prefect_dask import DaskTaskRunner

    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": cfg.processing.dask_workers,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
        }
    )
