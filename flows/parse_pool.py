"""The CPU-bound half of processing, and the pool of worker processes that runs it.

Parsing, checking, redaction, pseudonymisation and classification are pure Python and hold the
GIL, so threads cannot run two chunks at once; a pool of spawned processes can. This module is
what a worker imports (no Prefect, no model: about 0.3 s), so the pool starts quickly.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_context
from typing import Any

import pyarrow as pa

from flows.config import ChorusConfig
from flows.lake import Lake, RawBatch
from flows.runtime import context, pseudonym_key
from flows.steps import canonical_rows, domain_accounts, enriched_table


@dataclass
class Prepared:
    """One chunk, ready to commit: per batch its items and refused rows, the accepted rows and
    their enriched table (embedded once `embed_chunk` ran) with the texts to embed."""

    batches: list[RawBatch]
    items: list[int]
    good: list[list[dict[str, Any]]]
    bad: list[list[dict[str, Any]]]
    table: pa.Table | None = None
    embedded: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


def parse_chunk(
    cfg: ChorusConfig, lake: Lake, batches: list[RawBatch], now: datetime, key: bytes
) -> Prepared:
    """The CPU half of a chunk: read, parse, check, redact, pseudonymise, classify (pure)."""
    out = Prepared(batches=list(batches), items=[], good=[], bad=[])
    for batch in batches:
        doc = lake.read_raw(batch)
        good, bad = canonical_rows(cfg, batch, doc, now)
        out.items.append(len(doc.get("items", [])))
        out.good.append(good)
        out.bad.append(bad)
        out.rows += good
    if out.rows:
        out.table, out.texts = enriched_table(out.rows, cfg, key, now, domain_accounts(cfg))
    return out


# The pool lives as long as this
# process (workers start once: ~2 s) and is replaced when the environment changes, since
# secrets and storage credentials reach the workers through it.
_pool_lock = threading.Lock()
_pool: dict[str, Any] = {}


def parse_workers(cfg: ChorusConfig, chunks: int) -> int:
    """Processes to parse `chunks` chunks with: 1 (in this process) for a single chunk or under
    the Dask runner (its workers are processes already), else `processing.parse_workers`."""
    if chunks < 2 or cfg.processing.task_runner == "dask":
        return 1
    return min(cfg.processing.parse_workers or os.cpu_count() or 1, chunks)


def _parse_pool(workers: int) -> ProcessPoolExecutor:
    env = hashlib.sha256(repr(sorted(os.environ.items())).encode()).hexdigest()
    with _pool_lock:
        if _pool.get("key") != (workers, env):
            if _pool.get("pool") is not None:
                _pool["pool"].shutdown(wait=False, cancel_futures=True)
            _pool["pool"] = ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
            _pool["key"] = (workers, env)
        return _pool["pool"]


def _parse_job(config_path: str, batches: list[RawBatch], now: datetime, key: bytes) -> Prepared:
    cfg, lake = context(config_path)
    return parse_chunk(cfg, lake, batches, now, key)


def parse_in_pool(
    config_path: str, batches: list[RawBatch], now: datetime, key: bytes, workers: int
) -> Prepared:
    """`parse_chunk` in a worker process when `workers` > 1, else here."""
    if workers <= 1:
        cfg, lake = context(config_path)
        return parse_chunk(cfg, lake, batches, now, key)
    try:
        return _parse_pool(workers).submit(_parse_job, config_path, batches, now, key).result()
    except BrokenProcessPool:
        with _pool_lock:
            _pool.clear()  # a worker died (killed, out of memory): the next run starts afresh
        raise


def parsed_chunks(
    config_path: str, chunks: list[list[RawBatch]], now: datetime, workers: int
) -> Iterator[Prepared]:
    """Parsed chunks in order, `workers` at a time in worker processes (at most workers + 1
    held), for callers that embed and commit them one by one."""
    cfg, _ = context(config_path)
    key = pseudonym_key(cfg)
    if workers <= 1:
        for chunk in chunks:
            yield parse_in_pool(config_path, chunk, now, key, 1)
        return
    pool = _parse_pool(workers)
    futures = [pool.submit(_parse_job, config_path, c, now, key) for c in chunks[: workers + 1]]
    for i in range(len(chunks)):
        prep = futures[i].result()
        futures[i] = None  # type: ignore[call-overload]
        if i + workers + 1 < len(chunks):
            futures.append(pool.submit(_parse_job, config_path, chunks[i + workers + 1], now, key))
        yield prep


def shutdown_pool() -> None:
    """Stop the worker processes (they also stop when this process exits)."""
    with _pool_lock:
        if _pool.get("pool") is not None:
            _pool["pool"].shutdown(wait=True)
        _pool.clear()
