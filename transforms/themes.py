"""Themes with stable ids: join existing themes when close, cluster the rest, record lineage.

Clustering is two-stage so it scales: k-means over-segments a deterministic sample into
micro-clusters, average-linkage merges those by cosine distance, small groups are dissolved,
then every item is assigned to its nearest theme within an explicit outlier budget.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class ThemeParams:
    seed: int = 42
    join_threshold: float = 0.5  # cosine similarity to a centroid to join it outright
    merge_distance: float = 0.55  # average-linkage cosine distance below which micro-clusters merge
    min_theme_size: int = 8
    max_unassigned: float = 0.15
    sample_size: int = 8000
    theme_merge_similarity: float = 0.92  # two existing themes this close become one


@dataclass
class ThemeSet:
    """Existing themes: ids, unit centroids (k x d) and sizes."""

    ids: list[str]
    centroids: np.ndarray
    sizes: np.ndarray

    @classmethod
    def empty(cls, dim: int = 384) -> ThemeSet:
        return cls([], np.zeros((0, dim), dtype=np.float32), np.zeros(0, dtype=np.int64))


@dataclass
class Theming:
    """The outcome of one theming run."""

    assignment: list[str | None]  # theme id per item (None: unassigned)
    similarity: np.ndarray  # cosine similarity to the assigned (or nearest) centroid
    themes: ThemeSet
    born: list[str] = field(default_factory=list)
    merged: dict[str, list[str]] = field(default_factory=dict)  # surviving id -> absorbed ids

    @property
    def unassigned_share(self) -> float:
        return sum(a is None for a in self.assignment) / max(1, len(self.assignment))


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


def _order_key(item_id: str, seed: int) -> str:
    return hashlib.sha1(f"{seed}:{item_id}".encode()).hexdigest()


def _theme_id(member_ids: list[str], seed: int) -> str:
    h = hashlib.sha1(f"{seed}|".encode() + "|".join(sorted(member_ids)).encode()).hexdigest()
    return f"th_{h[:10]}"


def candidate_clusters(emb: np.ndarray, params: ThemeParams) -> list[np.ndarray]:
    """Groups of row indices (each >= min_theme_size) found in emb; deterministic for a seed."""
    n = emb.shape[0]
    if n < params.min_theme_size:
        return []
    from scipy.cluster.hierarchy import fcluster, linkage
    from sklearn.cluster import KMeans

    k = int(min(n // 4, max(8, n // 12), 600))
    if k >= 2:
        km = KMeans(n_clusters=k, n_init=1, random_state=params.seed, max_iter=100).fit(emb)
        micro_labels = km.labels_
        micro_centroids = _unit(km.cluster_centers_)
    else:
        micro_labels = np.zeros(n, dtype=np.int64)
        micro_centroids = _unit(emb.mean(axis=0, keepdims=True))
    if micro_centroids.shape[0] > 1:
        tree = linkage(micro_centroids.astype(np.float64), method="average", metric="cosine")
        macro = fcluster(tree, t=params.merge_distance, criterion="distance")
    else:
        macro = np.array([1])
    labels = macro[micro_labels]
    groups = [np.flatnonzero(labels == lab) for lab in np.unique(labels)]
    return [g for g in groups if g.size >= params.min_theme_size]


def themed(
    item_ids: list[str],
    embeddings: np.ndarray,
    existing: ThemeSet | None,
    params: ThemeParams = ThemeParams(),
) -> Theming:
    """Assign items to existing themes, cluster the rest into new ones, keep unassigned within budget."""
    emb = _unit(np.asarray(embeddings, dtype=np.float32))
    n = emb.shape[0]
    themes = (
        existing
        if existing is not None and existing.ids
        else ThemeSet.empty(emb.shape[1] if n else 384)
    )
    ids = list(themes.ids)
    cents = themes.centroids.astype(np.float32)

    # 1. join existing themes
    if ids and n:
        sims = emb @ cents.T
        best = sims.argmax(axis=1)
        joined = sims[np.arange(n), best] >= params.join_threshold
    else:
        joined = np.zeros(n, dtype=bool)

    # 2. cluster what did not join (a deterministic sample when large)
    pool = np.flatnonzero(~joined)
    born: list[str] = []
    if pool.size >= params.min_theme_size:
        order = sorted(pool.tolist(), key=lambda i: _order_key(item_ids[i], params.seed))
        sample = np.array(order[: params.sample_size])
        for group in candidate_clusters(emb[sample], params):
            members = sample[group]
            tid = _theme_id([item_ids[i] for i in members], params.seed)
            if tid in ids:
                continue
            ids.append(tid)
            born.append(tid)
            cents = (
                np.vstack([cents, _unit(emb[members].mean(axis=0, keepdims=True))])
                if cents.size
                else _unit(emb[members].mean(axis=0, keepdims=True))
            )

    if not ids or n == 0:
        return Theming(
            [None] * n,
            np.zeros(n, dtype=np.float32),
            ThemeSet.empty(emb.shape[1] if n else 384),
            born,
        )

    # 3. assign everyone to the nearest centroid, then refine centroids once
    assignment, sim, cents = _assign(emb, cents, params)
    # 4. merge themes that became near-duplicates (lineage: merged)
    ids, cents, assignment, merged = _merge_close(
        ids, cents, assignment, emb, params, protect=set(themes.ids)
    )
    assignment, sim, cents = _assign(emb, cents, params, assignment_hint=assignment)
    sizes = (
        np.bincount(assignment[assignment >= 0], minlength=len(ids))
        if n
        else np.zeros(len(ids), dtype=np.int64)
    )
    # keep themes that hold members, plus existing themes (ids never vanish silently)
    keep = [j for j in range(len(ids)) if sizes[j] > 0 or ids[j] in themes.ids]
    remap = {old: new for new, old in enumerate(keep)}
    assignment = np.array([remap.get(a, -1) if a >= 0 else -1 for a in assignment])
    final = ThemeSet([ids[j] for j in keep], cents[keep], sizes[keep].astype(np.int64))
    labels = [final.ids[a] if a >= 0 else None for a in assignment]
    return Theming(labels, sim, final, [b for b in born if b in final.ids], merged)


def _assign(
    emb: np.ndarray,
    cents: np.ndarray,
    params: ThemeParams,
    assignment_hint: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sims = emb @ cents.T
    best = sims.argmax(axis=1)
    best_sim = sims[np.arange(len(best)), best]
    # outlier budget: items below the join threshold stay unassigned only while within budget
    budget = int(np.floor(params.max_unassigned * len(best)))
    below = np.flatnonzero(best_sim < params.join_threshold)
    assignment = best.copy()
    if below.size > budget:
        # the least similar `budget` items stay out; the rest join their nearest theme
        worst = below[np.argsort(best_sim[below], kind="stable")[:budget]]
    else:
        worst = below
    assignment[worst] = -1
    new_cents = cents.copy()
    for j in range(cents.shape[0]):
        members = emb[assignment == j]
        if members.shape[0]:
            new_cents[j] = _unit(members.mean(axis=0, keepdims=True))[0]
    return assignment, best_sim.astype(np.float32), new_cents


def _merge_close(
    ids: list[str],
    cents: np.ndarray,
    assignment: np.ndarray,
    emb: np.ndarray,
    params: ThemeParams,
    protect: set[str],
) -> tuple[list[str], np.ndarray, np.ndarray, dict[str, list[str]]]:
    merged: dict[str, list[str]] = {}
    if len(ids) < 2:
        return ids, cents, assignment, merged
    sims = cents @ cents.T
    np.fill_diagonal(sims, -1)
    sizes = np.bincount(assignment[assignment >= 0], minlength=len(ids))
    alive = np.ones(len(ids), dtype=bool)
    pairs = sorted(
        (
            (float(sims[a, b]), a, b)
            for a in range(len(ids))
            for b in range(a + 1, len(ids))
            if sims[a, b] >= params.theme_merge_similarity
        ),
        reverse=True,
    )
    for _, a, b in pairs:
        if not (alive[a] and alive[b]):
            continue
        # the older (existing) or larger theme survives
        keep, drop = (
            (a, b)
            if (ids[a] in protect, sizes[a], ids[b]) >= (ids[b] in protect, sizes[b], ids[a])
            else (b, a)
        )
        alive[drop] = False
        assignment = np.where(assignment == drop, keep, assignment)
        sizes[keep] += sizes[drop]
        merged.setdefault(ids[keep], []).append(ids[drop])
    keep_idx = np.flatnonzero(alive)
    remap = {old: new for new, old in enumerate(keep_idx)}
    assignment = np.array([remap[a] if a >= 0 else -1 for a in assignment])
    return [ids[i] for i in keep_idx], cents[keep_idx], assignment, merged


def representatives(
    emb: np.ndarray, members: np.ndarray, centroid: np.ndarray, texts: list[str], k: int = 3
) -> list[int]:
    """Indices of up to k members closest to the centroid with distinct texts (quotes)."""
    if members.size == 0:
        return []
    sims = emb[members] @ centroid
    chosen: list[int] = []
    seen: set[str] = set()
    for idx in members[np.argsort(-sims, kind="stable")]:
        key = texts[idx].strip().lower()[:120]
        if key in seen or len(texts[idx].strip()) < 15:
            continue
        seen.add(key)
        chosen.append(int(idx))
        if len(chosen) == k:
            break
    return chosen
