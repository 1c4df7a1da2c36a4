"""How a processing run cuts its backlog into chunks, keeps a bounded number of them in
preparation, and groups prepared chunks into commits."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from flows.lake.store import Lake, RawBatch

T = TypeVar("T")


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


def in_order(submit: Callable[[T], Any], items: Sequence[T], ahead: int) -> Iterator[Any]:
    """The result of `submit(item)` (a future) for each item, in order, with at most `ahead`
    items submitted and not yet taken: the next is submitted as each result is taken."""
    futures = deque(submit(item) for item in items[:ahead])
    rest = iter(items[ahead:])
    while futures:
        result = futures.popleft().result()
        for item in rest:
            futures.append(submit(item))
            break
        yield result


def grouped(parts: Iterable[T], size: int, count: int) -> Iterator[list[T]]:
    """The `count` `parts` `size` at a time, in order, but the last `size` one by one: the
    workers finish them at about the same time, and committing the first of them while the
    others are still being parsed leaves less to do once the workers are idle."""
    group: list[T] = []
    for i, part in enumerate(parts):
        group.append(part)
        if len(group) >= size or i >= count - size:
            yield group
            group = []
    if group:
        yield group
