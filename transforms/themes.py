"""Themes with stable ids: the corpus re-fitted when it has moved, new items assigned otherwise.

Each run has the whole corpus in hand. When the items that arrived since the last fit exceed
`refit_share` of it, or when a new ask shows among them (`theme_novelty`), the corpus is
re-fitted (`theme_partition`: the same partition a one-shot batch fit on the same data gives)
and the old ids are matched to the new themes (`theme_match`), so incremental equals batch and
ids stay. Otherwise the new items join their nearest theme within its floor (the cheap path: no
theme moves, earlier items keep theirs, a re-run on unchanged data changes nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from transforms.theme_fit import hash_order
from transforms.theme_match import Lineage, group_ids, refit_ids
from transforms.theme_novelty import novel_recent_parts
from transforms.theme_params import ThemeParams
from transforms.theme_partition import fitted_partition, theme_spread
from transforms.vector_blocks import as_unit, nearest

NEW = -2  # an item's previous code when the last run did not theme it


@dataclass
class ThemeSet:
    """Themes: ids, unit centroids (k x d) and sizes."""

    ids: list[str]
    centroids: np.ndarray
    sizes: np.ndarray

    @classmethod
    def empty(cls, dim: int = 384) -> ThemeSet:
        return cls([], np.zeros((0, dim), dtype=np.float32), np.zeros(0, dtype=np.int64))


@dataclass
class Previous:
    """The last run, aligned to this run's items."""

    themes: ThemeSet  # its active themes
    codes: np.ndarray  # per item: position in themes.ids, -1 unassigned, NEW not themed then
    similarity: np.ndarray  # per item: its similarity then (0 for new items)
    fitted: np.ndarray  # per item: whether it was in the corpus the themes were fitted on
    groups: dict[str, str] = field(default_factory=dict)  # theme id -> group id


@dataclass
class Theming:
    """The outcome of one theming run."""

    themes: ThemeSet
    codes: np.ndarray  # per item: position in themes.ids (-1: unassigned)
    similarity: (
        np.ndarray
    )  # per item: cosine similarity to its (or, unassigned, the nearest) centroid
    groups: dict[str, str]  # theme id -> group id (its own id when alone)
    fitted: np.ndarray  # per item: in the corpus the themes were fitted on
    refit: bool  # whether this run fitted the themes anew
    lineage: Lineage = field(default_factory=Lineage)

    @property
    def assignment(self) -> list[str | None]:
        ids = [*self.themes.ids, None]
        return [ids[c] for c in self.codes.tolist()]

    @property
    def unassigned_share(self) -> float:
        return float(np.mean(self.codes < 0)) if self.codes.size else 0.0


def themed(
    item_ids: list[str],
    embeddings: np.ndarray,
    created_us: np.ndarray | None = None,
    previous: Previous | None = None,
    params: ThemeParams = ThemeParams(),
) -> Theming:
    """Theme every item against the last run (`previous`, None when there was none): re-fit and
    match ids when the corpus has moved or holds a new ask, else assign the new items.
    `created_us`: creation times (microseconds), which date what is recent (None: no dates)."""
    emb = as_unit(embeddings)
    corpus = (item_ids, emb, created_us)
    if previous is None or not previous.themes.ids or emb.shape[0] == 0:
        return _refitted(corpus, previous, params)
    since = np.flatnonzero(~previous.fitted)
    if since.size > params.refit_share * emb.shape[0]:
        return _refitted(corpus, previous, params)
    return _assigned(emb, since, previous, params) or _refitted(corpus, previous, params)


def _refitted(
    corpus: tuple[list[str], np.ndarray, np.ndarray | None],
    previous: Previous | None,
    params: ThemeParams,
) -> Theming:
    """The batch partition of the whole corpus, old ids matched to it, lineage for the rest."""
    item_ids, emb, created_us = corpus
    order = hash_order(item_ids, params.seed)
    part = fitted_partition(emb, created_us, order[: params.sample_size], params)
    k = part.centroids.shape[0]
    med, _ = theme_spread(part.similarity, part.codes, k)
    prev = previous or Previous(
        ThemeSet.empty(emb.shape[1]),
        np.full(emb.shape[0], NEW),
        np.zeros(emb.shape[0], np.float32),
        np.zeros(emb.shape[0], bool),
    )
    ids, lineage = refit_ids(
        emb,
        part.codes,
        part.centroids,
        med,
        (prev.themes.ids, prev.themes.centroids, prev.codes),
        (item_ids, order, params.seed),
    )
    sizes = np.bincount(part.codes[part.codes >= 0], minlength=k)
    return Theming(
        ThemeSet(ids, part.centroids, sizes),
        part.codes,
        part.similarity,
        group_ids(ids, part.groups, sizes, prev.groups, params.seed),
        np.ones(emb.shape[0], dtype=bool),
        True,
        lineage,
    )


def _assigned(
    emb: np.ndarray, since: np.ndarray, previous: Previous, params: ThemeParams
) -> Theming | None:
    """New items join their nearest theme within its floor, earlier items keep theirs; None when
    the items since the last fit hold a new ask (then the corpus is re-fitted).

    A theme's floor is the lowest similarity among the members it was fitted with (the fit's
    floor as it stands, outlier budget included), read back from the stored similarities."""
    cents = previous.themes.centroids
    k = cents.shape[0]
    fit_codes = np.where(previous.fitted, previous.codes, -1)
    spread = theme_spread(previous.similarity, fit_codes, k)
    best, sims = nearest(emb, cents, since)
    if novel_recent_parts(emb, since, (best, sims), fit_codes, spread, cents, params):
        return None
    floors = np.full(k, np.inf, dtype=np.float32)
    members = fit_codes >= 0
    np.minimum.at(floors, fit_codes[members], previous.similarity[members])
    floors[~np.isfinite(floors)] = np.median(floors[np.isfinite(floors)]) if members.any() else 0.0
    codes = previous.codes.copy()
    similarity = previous.similarity.astype(np.float32, copy=True)
    new = np.flatnonzero(codes[since] == NEW)
    codes[since[new]] = np.where(sims[new] >= floors[best[new]], best[new], -1)
    similarity[since[new]] = sims[new]
    sizes = np.bincount(codes[codes >= 0], minlength=k)
    themes = ThemeSet(list(previous.themes.ids), cents, sizes)
    groups = {t: previous.groups.get(t, t) for t in themes.ids}
    return Theming(themes, codes, similarity, groups, previous.fitted.copy(), False)


def previous_from(run: Theming, run_ids: list[str], item_ids: list[str]) -> Previous:
    """A run's outcome as the `previous` of a later run on `item_ids` (a grown corpus)."""
    at = {iid: p for p, iid in enumerate(run_ids)}
    pos = np.array([at.get(i, -1) for i in item_ids], dtype=np.int64)
    seen = pos >= 0
    codes = np.where(seen, run.codes[np.maximum(pos, 0)], NEW)
    sims = np.where(seen, run.similarity[np.maximum(pos, 0)], 0.0).astype(np.float32)
    fitted = seen & run.fitted[np.maximum(pos, 0)]
    return Previous(run.themes, codes, sims, fitted, dict(run.groups))
