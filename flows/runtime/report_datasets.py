"""The report run's lake reads and writes: feedback/ once (the items' columns and the theming
corpus in one pass), the last run's themes/, assignments/ and lineage/ once, replaced together;
the customers table; and the configuration turned into the transforms' parameters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from flows.lake.journal import TableCommit
from flows.lake.store import Lake
from flows.runtime.config import ChorusConfig, ThemesConfig
from schemas.feedback import FEEDBACK_SCHEMA
from transforms.ids import content_text, pseudonym
from transforms.keywords import substantive
from transforms.segments import pseudonymised_customers, read_customers
from transforms.theme_params import ThemeParams
from transforms.theme_update import Corpus, ThemeUpdate, theme_update
from transforms.trends import TrendParams
from transforms.weighted_items import ITEM_COLUMNS

CORPUS_COLUMNS = ["feedback_id", "source_kind", "title", "text", "created_at"]
BATCH_ROWS = (
    8192  # rows per streamed batch: an embedding column decoded whole needs several times its size
)


def theme_params(t: ThemesConfig) -> ThemeParams:
    """The theming parameters a `themes:` block sets (the rest keep their defaults)."""
    return ThemeParams(
        seed=t.seed,
        max_unassigned=t.max_unassigned,
        min_theme_size=t.min_theme_size,
        sample_size=t.sample_size,
        stability_sample=t.stability_sample,
        coarse_repeats=t.coarse_repeats,
        refit_share=t.refit_share,
    )


def trend_params(cfg: ChorusConfig) -> TrendParams:
    r = cfg.report
    return TrendParams(
        period=r.period,
        window=r.window,
        baseline_periods=r.baseline_periods,
        min_items=r.min_items,
        min_accounts=r.min_accounts,
        fdr_alpha=r.fdr_alpha,
    )


def read_feedback_and_corpus(
    lake: Lake, columns: Sequence[str] = ITEM_COLUMNS
) -> tuple[pa.Table, Corpus]:
    """feedback/ read once: `columns` of every row (in storage order) and the theming corpus
    (items with an embedding, sorted by feedback_id; one-word texts are kept apart, never themed).

    One pass, partition by partition in batches: the other columns stay Arrow, the embeddings go
    straight into one float32 matrix in storage order, sized beforehand from the partitions'
    Parquet footers (metadata, no rows). Once every id is known the matrix's rows are put in
    feedback_id order in place, themed rows first, so the embeddings are never held twice.
    """
    dim = FEEDBACK_SCHEMA.field("embedding").type.list_size
    kept = list(dict.fromkeys([*columns, *CORPUS_COLUMNS]))
    emb = np.empty((_stored_rows(lake), dim), dtype=np.float32)
    valid = np.zeros(emb.shape[0], dtype=bool)
    parts = []
    n = 0
    for batch in lake.iter_feedback(columns=[*kept, "embedding"], batch_rows=BATCH_ROWS):
        if n + batch.num_rows > emb.shape[0]:  # rows upserted since the footers were read
            emb, valid = _grown(emb, valid, n, n + batch.num_rows)
        for chunk in batch["embedding"].chunks:
            k = len(chunk)
            valid[n : n + k] = pc.is_valid(chunk).to_numpy(zero_copy_only=False)
            vals = chunk.values.slice(chunk.offset * dim, k * dim).to_numpy(zero_copy_only=False)
            emb[n : n + k] = vals.reshape(k, dim)
            n += k
        parts.append(batch.select(kept))
    table = (
        pa.concat_tables(parts)
        if parts
        else pa.schema([FEEDBACK_SCHEMA.field(c) for c in kept]).empty_table()
    )
    del parts
    order = pc.sort_indices(table["feedback_id"]).to_numpy()
    ids = table["feedback_id"].take(order).to_pylist()
    texts = [
        content_text(t, x, k)
        for t, x, k in zip(
            table["title"].take(order).to_pylist(),
            table["text"].take(order).to_pylist(),
            table["source_kind"].take(order).to_pylist(),
            strict=True,
        )
    ]
    keep = np.fromiter((substantive(t) for t in texts), dtype=bool, count=n)
    created = pc.cast(table["created_at"], pa.int64()).to_numpy(zero_copy_only=False)[order]
    valid = valid[:n][order]
    themed_rows = keep & valid
    _rows_first(emb[:n], order[themed_rows])
    corpus = Corpus(
        [i for i, t in zip(ids, themed_rows, strict=True) if t],
        [x for x, t in zip(texts, themed_rows, strict=True) if t],
        created[themed_rows],
        emb[: int(themed_rows.sum())],
        [i for i, k, v in zip(ids, keep, valid, strict=True) if v and not k],
    )
    return table.select(list(columns)), corpus


def read_corpus(lake: Lake) -> Corpus:
    """The theming corpus alone (`read_feedback_and_corpus` without other columns)."""
    return read_feedback_and_corpus(lake, columns=CORPUS_COLUMNS)[1]


def _stored_rows(lake: Lake) -> int:
    """Rows in feedback/, from its partitions' Parquet footers."""
    total = 0
    for path in lake.dataset_files("feedback"):
        with lake.fs.open(path, "rb") as fh:
            total += pq.ParquetFile(fh).metadata.num_rows
    return total


def _grown(
    emb: np.ndarray, valid: np.ndarray, filled: int, need: int
) -> tuple[np.ndarray, np.ndarray]:
    rows = max(need, emb.shape[0] + emb.shape[0] // 4)
    grown = np.empty((rows, emb.shape[1]), dtype=emb.dtype)
    grown[:filled] = emb[:filled]
    more = np.zeros(rows, dtype=bool)
    more[:filled] = valid[:filled]
    return grown, more


def _rows_first(matrix: np.ndarray, rows: np.ndarray) -> None:
    """Reorder `matrix`'s rows in place so that its first len(rows) rows are matrix[rows] (the
    others follow in any order): a cycle walk that moves each row once and holds one row aside."""
    n = matrix.shape[0]
    if n == 0:
        return
    rows = np.asarray(rows, dtype=np.int64)
    rest = np.ones(n, dtype=bool)
    rest[rows] = False
    source = np.concatenate([rows, np.flatnonzero(rest)]).tolist()  # row j takes row source[j]
    size = matrix.shape[1] * matrix.itemsize
    buf = memoryview(matrix).cast("B")
    done = bytearray(n)
    for start in range(n):
        if done[start] or source[start] == start:
            continue
        held = bytes(buf[start * size : (start + 1) * size])
        j = start
        while True:
            done[j] = 1
            k = source[j]
            if k == start:
                buf[j * size : (j + 1) * size] = held
                break
            buf[j * size : (j + 1) * size] = buf[k * size : (k + 1) * size]
            j = k


def update_themes(lake: Lake, cfg: ChorusConfig, corpus: Corpus | None = None) -> ThemeUpdate:
    """Theme `corpus` (read from feedback/ when not given) against the last run's themes/,
    assignments/ and lineage/, and replace all three together (feedback/ is never rewritten)."""
    if corpus is None:
        corpus = read_corpus(lake)
    update = theme_update(
        corpus,
        lake.read_table("themes"),
        lake.read_table("assignments"),
        lake.read_table("lineage"),
        theme_params(cfg.themes),
        datetime.now(UTC),
    )
    commit = TableCommit(lake)  # themes, assignments and lineage become visible together
    commit.replace_table("themes", update.themes)
    commit.replace_table("assignments", update.assignments)
    commit.replace_table("lineage", update.lineage)
    commit.done()
    return update


def report_customers(cfg: ChorusConfig, key: bytes) -> pd.DataFrame | None:
    """The configured customers table, account ids pseudonymised with `key` (None: none configured)."""
    if cfg.customers is None:
        return None
    return pseudonymised_customers(
        read_customers(cfg.resolve(cfg.customers.path), cfg.customers.format),
        lambda a: pseudonym(a, key, "acct"),
    )
