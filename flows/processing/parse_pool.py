"""The CPU-bound half of processing, and the pool of worker processes that runs it.

Parsing, checking, redaction, pseudonymisation and classification are pure Python and hold the
GIL, so threads cannot run two chunks at once; a pool of spawned processes can. This module is
what a worker imports (no Prefect, no model: about 0.3 s), so the pool starts quickly.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from flows.lake.store import Lake, RawBatch
from flows.processing.landed_rows import domain_accounts, landed_rows
from flows.runtime.config import ChorusConfig
from schemas.feedback import NORMALIZED_VIEW_FIELDS
from transforms.canonical import enriched_table, without_embeddings


@dataclass
class Prepared:
    """One chunk, ready to commit: per batch its items and refused rows, the accepted rows and
    their enriched table with the texts to embed; once `embed_chunk` ran, the table embedded
    and the vectors the cache did not have yet (rows of the embedding cache under its key)."""

    batches: list[RawBatch]
    items: list[int]
    good: list[list[dict[str, Any]]]
    bad: list[list[dict[str, Any]]]
    table: pa.Table | None = None
    embedded: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    new_vectors: pa.Table | None = None
    vectors_key: str | None = None


def joined(parts: list[Prepared]) -> Prepared:
    """Consecutive prepared chunks as one, to commit together: with parse workers a chunk is
    cut to `chunk_rows / workers` items for the workers' sake, but committed `workers` at a time
    (one quality check and one rewrite of each partition instead of several)."""
    if len(parts) == 1:
        return parts[0]
    tables = [p.table for p in parts if p.table is not None]
    vectors = [p.new_vectors for p in parts if p.new_vectors is not None]
    return Prepared(
        batches=[b for p in parts for b in p.batches],
        items=[n for p in parts for n in p.items],
        good=[g for p in parts for g in p.good],
        bad=[b for p in parts for b in p.bad],
        table=pa.concat_tables(tables) if tables else None,
        embedded=sum(p.embedded for p in parts),
        rows=[r for p in parts for r in p.rows],
        texts=[t for p in parts for t in p.texts],
        new_vectors=_unique_hashes(pa.concat_tables(vectors)) if vectors else None,
        vectors_key=next((p.vectors_key for p in parts if p.vectors_key), None),
    )


def _unique_hashes(vectors: pa.Table) -> pa.Table:
    """Embedding-cache rows, the first of each text hash (two parts may have embedded one text)."""
    first = {h: i for i, h in reversed(list(enumerate(vectors["text_hash"].to_pylist())))}
    return vectors.take(sorted(first.values())) if len(first) < vectors.num_rows else vectors


def parse_chunk(
    cfg: ChorusConfig, lake: Lake, batches: list[RawBatch], now: datetime, key: bytes
) -> Prepared:
    """The CPU half of a chunk: read, parse, check, redact, pseudonymise, classify (pure)."""
    out = Prepared(batches=list(batches), items=[], good=[], bad=[])
    for batch in batches:
        doc = lake.read_raw(batch)
        good, bad = landed_rows(cfg, batch, doc, now)
        out.items.append(len(doc.get("items", [])))
        out.good.append(good)
        out.bad.append(bad)
        out.rows += good
    if out.rows:
        table, texts = enriched_table(
            out.rows, key, now, cfg.internal_domains, domain_accounts(cfg)
        )
        # in the order the upsert writes (partition, then id), so it need not copy the chunk
        order = pc.sort_indices(
            table,
            sort_keys=[
                ("source", "ascending"),
                ("created_month", "ascending"),
                ("feedback_id", "ascending"),
            ],
        )
        out.table = without_embeddings(table).take(order)  # `embed_chunk` fills them
        at = order.to_pylist()
        out.rows, out.texts = [out.rows[i] for i in at], [texts[i] for i in at]
    return out


# The pool lives as long as this process. Its workers are forked from a fork server that has
# imported this module and loaded the language tables once (`flows.processing.parse_pool_preload`), so a
# worker starts in milliseconds instead of paying ~0.5 s of imports and warm-up each; fork
# from the server, not from this (threaded) process, so no lock another thread held is
# copied. Each job carries this process's environment: secrets and storage credentials may
# have changed since the server started.
_pool_lock = threading.Lock()
_pool: dict[str, Any] = {}


def parse_workers(cfg: ChorusConfig, chunks: int | None = None) -> int:
    """Processes to parse `chunks` chunks with (the configured number when not known yet, for
    planning): 1 (in this process) for a single chunk or under the Dask runner (its workers
    are processes already), else `processing.parse_workers`."""
    if (chunks is not None and chunks < 2) or cfg.processing.task_runner == "dask":
        return 1
    configured = cfg.processing.parse_workers or os.cpu_count() or 1
    return configured if chunks is None else min(configured, chunks)


def _context() -> BaseContext:
    if "forkserver" not in get_all_start_methods():
        return get_context("spawn")
    ctx = get_context("forkserver")
    ctx.set_forkserver_preload(["flows.processing.parse_pool_preload"])  # before the server starts
    return ctx


def _parse_pool(workers: int) -> ProcessPoolExecutor:
    with _pool_lock:
        if _pool.get("workers") != workers:
            if _pool.get("pool") is not None:
                _pool["pool"].shutdown(wait=False, cancel_futures=True)
            _pool["pool"] = ProcessPoolExecutor(workers, mp_context=_context())
            _pool["workers"] = workers
        return _pool["pool"]


def _parse_job(
    cfg: ChorusConfig, batches: list[RawBatch], now: datetime, key: bytes, env: dict[str, str]
) -> Prepared:
    if os.environ != env:
        os.environ.clear()
        os.environ.update(env)
    return _slim(parse_chunk(cfg, Lake(cfg.lake_url), batches, now, key))


# what the commit reads of a canonical row once the table is built: the quality gate's view,
# its quarantine rows (batch, item, source id) and the counts; the rest (e-mails, account ids,
# urls) stays in the worker instead of being pickled back
_COMMIT_FIELDS = (*NORMALIZED_VIEW_FIELDS, "_batch", "_item")


def _slim(out: Prepared) -> Prepared:
    slim = {id(r): {k: r[k] for k in _COMMIT_FIELDS if k in r} for r in out.rows}
    out.rows = [slim[id(r)] for r in out.rows]
    out.good = [[slim[id(r)] for r in good] for good in out.good]
    return out


def _submit(
    workers: int, cfg: ChorusConfig, batches: list[RawBatch], now: datetime, key: bytes
) -> Future[Prepared]:
    try:
        return _parse_pool(workers).submit(_parse_job, cfg, batches, now, key, dict(os.environ))
    except BrokenProcessPool:
        _forget_pool()
        raise


def _result(future: Future[Prepared]) -> Prepared:
    try:
        return future.result()
    except BrokenProcessPool:
        _forget_pool()  # a worker died (killed, out of memory): the next run starts afresh
        raise


def _forget_pool() -> None:
    with _pool_lock:
        _pool.clear()


def parse_in_pool(
    cfg: ChorusConfig, batches: list[RawBatch], now: datetime, key: bytes, workers: int
) -> Prepared:
    """`parse_chunk` in a worker process when `workers` > 1, else here; the rows keep only
    what the commit reads, either way."""
    if workers <= 1:
        return _slim(parse_chunk(cfg, Lake(cfg.lake_url), batches, now, key))
    return _result(_submit(workers, cfg, batches, now, key))


def shutdown_pool() -> None:
    """Stop the worker processes and their fork server (both also stop when this process
    exits); afterwards their CPU time counts in this process's RUSAGE_CHILDREN."""
    with _pool_lock:
        if _pool.get("pool") is not None:
            _pool["pool"].shutdown(wait=True)
        _pool.clear()
        from multiprocessing import forkserver

        server = getattr(forkserver, "_forkserver", None)
        if server is not None and hasattr(server, "_stop"):
            server._stop()  # private, but the only way to reap it before exit
