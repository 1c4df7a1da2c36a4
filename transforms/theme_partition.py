"""One fit of the whole corpus into themes and groups, without ids: the batch partition.

Centroids come from the stability-chosen k-means on a seeded hash sample (`theme_fit`); every
item then joins its nearest centroid, block by block. An item less similar to it than the
theme's floor (its members' median similarity less `outlier_z` robust deviations) is left
unassigned, within the `max_unassigned` budget. Groups roll the themes up (`theme_groups`).
A function of the corpus (ids, vectors, created times) and the parameters alone, so a re-fit
on the data one run would see at once gives exactly that run's partition.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from transforms.theme_fit import stable_centroids
from transforms.theme_groups import theme_groups
from transforms.theme_novelty import novel_recent_parts
from transforms.theme_params import ThemeParams
from transforms.vector_blocks import nearest, unit


@dataclass
class Partition:
    """Themes by position: unit centroids (k x d), each item's theme (-1: unassigned) and its
    similarity to that (or, unassigned, the nearest) centroid, and each theme's group index."""

    centroids: np.ndarray
    codes: np.ndarray
    similarity: np.ndarray
    groups: np.ndarray
    stability: dict[int, float] = field(default_factory=dict)  # k -> agreement of the search


def theme_spread(sims: np.ndarray, codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per theme: its members' median similarity to the centroid and their robust deviation
    (1.4826 x MAD). Fewer than 5 members: the median deviation of all themes (never less than
    half of it: a tight handful would otherwise push its floor up to its own members)."""
    med = np.ones(k, dtype=np.float64)
    dev = np.full(k, np.nan)
    ok = codes >= 0
    order = np.lexsort((sims[ok], codes[ok]))
    s_sorted, c_sorted = sims[ok][order].astype(np.float64), codes[ok][order]
    bounds = np.searchsorted(c_sorted, np.arange(k + 1))
    for j in range(k):
        s = s_sorted[bounds[j] : bounds[j + 1]]
        if s.size:
            med[j] = np.median(s)
        if s.size >= 5:
            dev[j] = 1.4826 * np.median(np.abs(s - med[j]))
    typical = float(np.nanmedian(dev)) if np.isfinite(dev).any() else 0.05
    dev = np.where(np.isfinite(dev), np.maximum(dev, 0.5 * typical), typical)
    return med.astype(np.float32), dev.astype(np.float32)


def within_floors(
    best: np.ndarray, sims: np.ndarray, floors: np.ndarray, max_unassigned: float
) -> np.ndarray:
    """Each item's theme: its nearest (`best`), or -1 below that theme's floor; when that leaves
    more than `max_unassigned` of the items out, the closest of them join until within budget."""
    out = sims < floors[best]
    idx = np.flatnonzero(out)
    budget = int(np.floor(max_unassigned * best.size))
    if idx.size > budget:
        out[:] = False
        out[idx[np.argsort(sims[idx], kind="stable")[:budget]]] = True
    return np.where(out, -1, best)


def _sized(
    emb: np.ndarray, cents: np.ndarray, near: tuple[np.ndarray, np.ndarray], min_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(centroids, nearest, similarity) without the themes fewer than `min_size` items are
    nearest to (too small to be a theme: their items join the next nearest)."""
    best, sims = near
    sizes = np.bincount(best, minlength=cents.shape[0])
    keep = np.flatnonzero(sizes >= min(min_size, sizes.max(initial=0)))
    if keep.size == cents.shape[0]:
        return cents, best, sims
    remap = np.full(cents.shape[0], -1, dtype=np.int64)
    remap[keep] = np.arange(keep.size)
    cents, best = cents[keep], remap[best]
    moved = np.flatnonzero(best < 0)
    best[moved], sims[moved] = nearest(emb, cents, moved)
    return cents, best, sims


def recent_rows(created_us: np.ndarray, params: ThemeParams) -> np.ndarray:
    """Rows created within `recent_days` of the newest item."""
    if created_us.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(created_us > created_us.max() - params.recent_days * 86_400e6)


def fitted_partition(
    emb: np.ndarray, created_us: np.ndarray | None, sample: np.ndarray, params: ThemeParams
) -> Partition:
    """The batch partition of unit vectors `emb`, fitted on the rows `sample` (in hash order).

    With creation times, a new ask among the recent items (`novel_recent_parts` against the
    older items) becomes a theme of its own even where k-means left it inside an older theme.
    """
    cents, curve = stable_centroids(emb[sample], params)
    cents, best, sims = _sized(emb, cents, nearest(emb, cents), params.min_theme_size)
    med, dev = theme_spread(sims, best, cents.shape[0])
    if created_us is not None and cents.shape[0]:
        recent = recent_rows(created_us, params)
        history = best.copy()
        history[recent] = -1
        near = (best[recent], sims[recent])
        parts = novel_recent_parts(emb, recent, near, history, (med, dev), cents, params)
        if parts:
            cents = np.vstack([cents, *(unit(emb[p].mean(axis=0, keepdims=True)) for p in parts)])
            cents, best, sims = _sized(emb, cents, nearest(emb, cents), params.min_theme_size)
            med, dev = theme_spread(sims, best, cents.shape[0])
    codes = within_floors(best, sims, med - params.outlier_z * dev, params.max_unassigned)
    groups = theme_groups(cents, np.bincount(codes[codes >= 0], minlength=cents.shape[0]), params)
    return Partition(cents, codes, sims, groups, curve)
