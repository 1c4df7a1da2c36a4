"""Process: landed raw batches become canonical, redacted, embedded rows in feedback/ (idempotent).

Two tasks per chunk of whole raw batches: `prepare_chunk` (parse, check, redact, pseudonymise,
embed; it reads the lake and writes nothing but the prepared chunk, staged in the run's folder
of the lake) returns the staged chunk's path; `commit_chunk` reads it back and writes the new
vectors to the embedding cache, quarantine/, feedback/ and the processed-batch state (one writer
at a time). The flow submits the prepare tasks to its task runner, so they run side by side
(threads by default, worker processes on the DaskTaskRunner), and commits them one by one in
batch order: the lake ends the same either way. Under the default runner the CPU-bound parse
half of each chunk runs in a pool of worker processes (`processing.parse_workers`, one per core)
once a run has two chunks or more. The flow reads the configuration once; tasks get the
validated config and references (raw batches, staged paths), never tables or live objects.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.lake.staging import run_staging, stage, take_staged
from flows.lake.store import Lake, RawBatch
from flows.processing.chunks import grouped, in_order, plan_chunks
from flows.processing.embedding import embed_chunk
from flows.processing.feedback_commit import commit, record_run
from flows.processing.parse_pool import joined, parse_in_pool, parse_workers
from flows.processing.process_stats import ProcessStats
from flows.processing.quality_gate import run_gate
from flows.runtime.config import ChorusConfig, load_config, pseudonym_key
from flows.runtime.logs import logger
from flows.runtime.prefect_server import as_writer


@task(retries=2, retry_delay_seconds=[1, 5])  # I/O only: listing the lake
def pending_batches(cfg: ChorusConfig, sources: list[str] | None = None) -> list[str]:
    """Raw batches of the configured sources that have not been processed yet."""
    lake = Lake(cfg.lake_url)
    pending = []
    for name in sources or [s.name for s in cfg.sources]:
        done = lake.read_state(f"process/{name}").get("batches", {})
        pending += [b.path for b in lake.raw_batches(name) if b.batch_id not in done]
    return pending


@task(retries=2, retry_delay_seconds=[1, 5])  # I/O only: reading the batches' sizes
def planned_chunks(cfg: ChorusConfig, batch_paths: list[str]) -> list[list[RawBatch]]:
    """The batches still pending, in chunks of about `processing.chunk_rows` items."""
    lake = Lake(cfg.lake_url)
    return plan_chunks(lake, batch_paths, cfg.processing.chunk_rows, workers=parse_workers(cfg))


@task(cache_policy=NO_CACHE)
def prepare_chunk(
    cfg: ChorusConfig, batches: list[RawBatch], now: datetime, workers: int, staging: str
) -> str:
    """Parse (in a worker process when `workers` > 1) and embed one chunk; it is staged for its
    commit, and this returns where."""
    lake = Lake(cfg.lake_url)
    parsed = parse_in_pool(cfg, batches, now, pseudonym_key(cfg), workers)
    return stage(lake, staging, embed_chunk(cfg, lake, parsed))


@task(cache_policy=NO_CACHE)  # tagged chorus-feedback-writer by as_writer
def commit_chunk(cfg: ChorusConfig, staged: list[str], now: datetime) -> ProcessStats:
    """Commit the prepared chunks staged at these paths, as one: quarantine, quality gate,
    upsert, processed-batch state."""
    lake = Lake(cfg.lake_url)
    prep = joined([take_staged(lake, path) for path in staged])
    return commit(cfg, lake, prep, now, run_gate(cfg, now))


@task(cache_policy=NO_CACHE)
def record_process_run(cfg: ChorusConfig, stats: ProcessStats, now: datetime) -> dict:
    """Log and save the run's counts; announce the updated feedback table."""
    return record_run(Lake(cfg.lake_url), stats, now)


@flow(name="chorus-process", log_prints=True)
def process(config_path: str, sources: list[str] | None = None) -> dict:
    """Prepare chunks side by side on the flow's task runner, commit them one by one in order."""
    cfg = load_config(config_path)
    now = datetime.now(UTC)
    chunks = planned_chunks(cfg, pending_batches(cfg, sources))
    workers = parse_workers(cfg, len(chunks))
    if workers > 1:
        logger().info("parsing %d chunks in %d worker processes", len(chunks), workers)
    if chunks:
        run_gate(cfg, now).warm_up()  # Great Expectations, while the first chunks are parsed
    ahead = max(2, cfg.processing.dask_workers + 1, workers + 1)  # chunks in preparation
    commit_task = as_writer(commit_chunk, "chorus-feedback-writer")
    stats = ProcessStats()
    with run_staging(Lake(cfg.lake_url), "process") as staging:
        staged = in_order(
            lambda chunk: prepare_chunk.submit(cfg, chunk, now, workers, staging), chunks, ahead
        )
        for group in grouped(staged, workers, len(chunks)):  # `workers` chunks a commit
            stats.add(commit_task(cfg, group, now))
    out = record_process_run(cfg, stats, now)
    return {**out, "chunks": len(chunks), "parse_workers": workers}


def run_process(config_path: str, sources: list[str] | None = None) -> dict:
    """The processing flow on the task runner the config names (`processing.task_runner`)."""
    runner = task_runner(load_config(config_path))
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
