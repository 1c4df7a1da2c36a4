"""One theming run as plain data: the corpus, the previous theme tables and the parameters in,
the new themes/, assignments/ and lineage/ tables out (feedback/ is never rewritten).

The run's id says what it did: `fit_…` when it fitted the themes anew, `run_…` when it only
assigned new items. Active themes carry the id of the fit that made them (`model_run`), and each
assignment the fit its item was fitted with, or the later run that assigned it, so the next run
knows which items arrived since the last fit. Built for a million items on a small machine:
passes over all items run block by block, keywords are counted on at most `KEYWORD_DOCS` items
per theme, labels read from its most central members.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from schemas.tables import THEMES_SCHEMA
from transforms.keywords import keywords_from_counts, term_counts
from transforms.theme_params import ThemeParams
from transforms.theme_tables import (
    assignment_rows,
    gone_rows,
    group_rows,
    labelled,
    lineage_rows,
    theme_rows,
)
from transforms.themes import NEW, Previous, ThemeSet, themed
from transforms.vector_blocks import members_of

KEYWORD_DOCS = 1000  # items per theme (first in feedback_id order, i.e. a hash sample) for keywords
FIT, RUN = "fit_", "run_"  # run id prefixes: fitted anew, or new items assigned


@dataclass(frozen=True)
class ThemeRun:
    run_id: str
    themes: int
    born: int  # new themes (born, or split off an older one)
    merged: int  # themes gone (merged into another, or retired)
    assigned: int
    unassigned_share: float
    refit: bool


@dataclass
class Corpus:
    """The items to theme, sorted by feedback_id: ids, texts, created_at (us), unit embeddings."""

    ids: list[str]
    texts: list[str]
    created_us: np.ndarray
    emb: np.ndarray
    unthemed: list[str]  # items with an embedding but too little text to theme


@dataclass(frozen=True)
class ThemeUpdate:
    """What one theming run writes (themes, assignments and lineage belong together) and its summary."""

    run: ThemeRun
    themes: pa.Table
    assignments: pa.Table
    lineage: pa.Table


@dataclass
class LastRun:
    """The previous tables, read for this run: the themes as a frame (indexed by id), the last
    run aligned to this corpus, and each item's stored model_run (None: not themed then)."""

    themes: pd.DataFrame
    previous: Previous | None
    model_runs: np.ndarray


def last_run(corpus: Corpus, themes: pa.Table | None, assignments: pa.Table | None) -> LastRun:
    """The last run's tables aligned to `corpus`. Its themes count as fitted by this code only
    when their model_run is a fit's (`fit_…`); otherwise the corpus is re-fitted (their ids kept
    where the new themes continue them)."""
    n = len(corpus.ids)
    frame = themes.to_pandas().set_index("theme_id") if themes is not None else None
    if frame is None or assignments is None:
        return LastRun(frame if frame is not None else pd.DataFrame(), None, np.full(n, None))
    active = frame[frame["status"] == "active"]
    dim = corpus.emb.shape[1] if corpus.emb.ndim == 2 else 384
    cents = (
        np.stack(active["centroid"].to_numpy()).astype(np.float32)
        if len(active)
        else np.zeros((0, dim), np.float32)
    )
    ids = active.index.tolist()
    at = pd.Index(assignments["feedback_id"].to_numpy(zero_copy_only=False)).get_indexer(corpus.ids)
    seen = at >= 0
    stored = assignments["theme_id"].to_numpy(zero_copy_only=False)[np.maximum(at, 0)]
    position = pd.Index(ids).get_indexer(pd.Series(stored).fillna("\x00").to_numpy())
    codes = np.where(~seen, NEW, np.where(pd.isna(stored), -1, position))
    codes[(codes == -1) & ~pd.isna(stored)] = NEW  # a theme no longer active: theme it anew
    sims = assignments["similarity"].to_numpy(zero_copy_only=False)[np.maximum(at, 0)]
    runs = assignments["model_run"].to_numpy(zero_copy_only=False)[np.maximum(at, 0)]
    runs = np.where(seen, runs, None)
    fit_runs = set(active["model_run"])
    fit_run = fit_runs.pop() if len(fit_runs) == 1 else None
    fitted = (
        (runs == fit_run) & (codes != NEW) if fit_run and fit_run.startswith(FIT) else seen & False
    )
    groups = {t: g for t, g in zip(ids, active["group_id"], strict=True) if isinstance(g, str)}
    previous = Previous(
        ThemeSet(ids, cents, active["size"].to_numpy()),
        codes.astype(np.int64),
        np.where(seen, sims, 0.0).astype(np.float32),
        np.asarray(fitted, dtype=bool),
        groups,
    )
    return LastRun(frame, previous, runs)


def theme_update(
    corpus: Corpus,
    themes: pa.Table | None,
    assignments: pa.Table | None,
    lineage: pa.Table | None,
    params: ThemeParams,
    now: datetime,
) -> ThemeUpdate:
    """Theme the corpus against the last run's tables (`themes`, `assignments`, `lineage`; None
    when there was none) and label the themes; `now` stamps the lineage events."""
    last = last_run(corpus, themes, assignments)
    result = themed(corpus.ids, corpus.emb, corpus.created_us, last.previous, params)
    tids = result.themes.ids
    digest = uuid.uuid5(uuid.NAMESPACE_OID, "|".join(tids) + f"|{len(corpus.ids)}").hex[:12]
    run_id = (FIT if result.refit else RUN) + digest
    fit_id = run_id if result.refit or not tids else str(last.themes.loc[tids[0], "model_run"])
    members = members_of(result.codes, len(tids))
    sampled = {t: m[:KEYWORD_DOCS] for t, m in zip(tids, members, strict=True)}
    counts = {t: term_counts([corpus.texts[i] for i in m]) for t, m in sampled.items()}
    n_docs = {t: m.size for t, m in sampled.items()}
    rows = theme_rows(result, members, keywords_from_counts(counts, n_docs), last.themes, corpus)
    rows = labelled(rows + group_rows(result, members, (counts, n_docs), corpus), corpus.texts)
    for row in rows:
        row["model_run"] = fit_id
    rows += gone_rows(last.themes, set(tids), result.lineage)
    earlier = np.where(pd.isna(last.model_runs), run_id, last.model_runs)
    model_runs = np.where(result.fitted, fit_id, earlier)
    lin = result.lineage
    return ThemeUpdate(
        ThemeRun(
            run_id,
            len(tids),
            len(lin.born) + sum(map(len, lin.split.values())),
            sum(map(len, lin.merged.values())) + len(lin.retired),
            int((result.codes >= 0).sum()),
            result.unassigned_share,
            result.refit,
        ),
        pa.Table.from_pylist(rows, schema=THEMES_SCHEMA),
        assignment_rows(corpus, result, model_runs, run_id),
        lineage_rows(
            lin, {t: int(m.size) for t, m in zip(tids, members, strict=True)}, run_id, now, lineage
        ),
    )
