"""Themes with stable ids: join existing themes when close, cluster the rest, record lineage.

Clustering is two-stage so it scales: k-means over-segments a deterministic sample into
micro-clusters, average-linkage merges those by cosine distance, small groups are dissolved,
then every item is assigned to its nearest theme within an explicit outlier budget.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from transforms.vector_blocks import CHUNK, as_unit, member_sums
from transforms.vector_blocks import nearest as nearest_centroid
from transforms.vector_blocks import unit as _unit


@dataclass(frozen=True)
class ThemeParams:
    seed: int = 42
    join_threshold: float = 0.4  # cosine similarity to a centroid to join it outright
    merge_distance: float = 0.45  # average-linkage cosine distance below which micro-clusters merge
    neighbors: int = 3  # k of the nearest-neighbour smoothing before clustering (0: off)
    min_theme_size: int = 8
    max_unassigned: float = 0.15
    sample_size: int = 8000
    theme_merge_similarity: float = 0.92  # two existing themes this close become one
    refine_steps: int = 3  # assign/re-centre passes for newly born themes
    split_similarity: float = 0.45  # a grown theme whose two halves are less alike than this splits


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
    split: dict[str, list[str]] = field(default_factory=dict)  # parent id -> ids split off it
    # position in themes.ids per item (-1: unassigned), the array form of `assignment`
    codes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def unassigned_share(self) -> float:
        return sum(a is None for a in self.assignment) / max(1, len(self.assignment))


_SPLIT_SAMPLE = 2000  # members a split is fitted on (themes larger than this are sampled)
_REFINE_SAMPLE = 100_000  # pool items the refining steps but the last run on (larger pools)


def _order_key(item_id: str, seed: int) -> str:
    return hashlib.sha1(f"{seed}:{item_id}".encode()).hexdigest()


def _theme_id(member_ids: list[str], seed: int) -> str:
    h = hashlib.sha1(f"{seed}|".encode() + "|".join(sorted(member_ids)).encode()).hexdigest()
    return f"th_{h[:10]}"


def knn_smoothed(emb: np.ndarray, k: int, chunk: int = 1024) -> np.ndarray:
    """Each vector averaged with its k nearest neighbours: sharper groups for clustering (a mean-shift step)."""
    k = min(k, emb.shape[0] - 1)
    if k <= 0:
        return emb
    out = np.empty_like(emb)
    for start in range(0, emb.shape[0], chunk):
        sims = emb[start : start + chunk] @ emb.T
        idx = np.argpartition(-sims, k, axis=1)[:, : k + 1]  # itself and its k nearest
        out[start : start + chunk] = emb[idx].mean(axis=1)
    return _unit(out)


def candidate_clusters(emb: np.ndarray, params: ThemeParams) -> list[np.ndarray]:
    """Groups of row indices (each >= min_theme_size) found in emb; deterministic for a seed."""
    n = emb.shape[0]
    if n < params.min_theme_size:
        return []
    from scipy.cluster.hierarchy import fcluster, linkage
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    # one thread: k-means++ is hundreds of tiny matrix products, which a second BLAS thread
    # slows down many times over as soon as the machine is busy (and barely speeds up when idle)
    with threadpool_limits(limits=1):
        if params.neighbors > 0:
            emb = knn_smoothed(emb, params.neighbors)
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
    existing: ThemeSet | None = None,
    previous: dict[str, str | None] | None = None,
    params: ThemeParams = ThemeParams(),
) -> Theming:
    """Theme every item, keeping earlier decisions: a re-run on unchanged data changes nothing.

    `previous` maps item ids seen by the last run to their theme (None: left unassigned then).
    Items seen before keep their theme; new items join the nearest theme when close enough
    (moving its centroid as a running mean); new items that join nothing are clustered, with
    the earlier outliers, into candidate themes; an outlier budget caps the unassigned share.
    Every pass over all items goes block by block, so memory stays near the embeddings' own.
    """
    emb = as_unit(embeddings)
    n, dim = emb.shape[0], (emb.shape[1] if emb.ndim == 2 and emb.shape[0] else 384)
    base = existing if existing is not None else ThemeSet.empty(dim)
    ids = list(base.ids)
    cents = base.centroids.astype(np.float32).reshape(len(ids), dim).copy()
    weight = base.sizes.astype(np.float64).copy()  # how many items each centroid averages
    index = {tid: j for j, tid in enumerate(ids)}
    prev = previous or {}
    assign = np.full(n, -1, dtype=np.int64)
    is_new = np.array([iid not in prev for iid in item_ids], dtype=bool)
    if prev:
        known = [index.get(prev.get(iid), -1) for iid in item_ids]  # type: ignore[arg-type]
        assign[:] = np.asarray(known, dtype=np.int64).reshape(n)
    changed: set[int] = set()

    # 1. new items join the nearest existing theme when close enough
    new_idx = np.flatnonzero(is_new)
    if ids and new_idx.size:
        best, best_sim = nearest_centroid(emb, cents, new_idx)
        ok = best_sim >= params.join_threshold
        assign[new_idx[ok]] = best[ok]
        sums, counts = member_sums(emb, new_idx[ok], best[ok], len(ids))
        for j in np.flatnonzero(counts):
            cents[j] = _unit((cents[j] * weight[j] + sums[j])[None, :])[0]
            weight[j] += counts[j]
            changed.add(int(j))

    # 2. cluster the pool (earlier outliers and new items that joined nothing), only when it grew
    born: list[str] = []
    pool = np.flatnonzero(assign < 0)
    if pool.size >= params.min_theme_size and is_new[pool].any():
        order = _by_order_key(item_ids, pool, params.seed)
        sample = pool[order[: params.sample_size]]
        first_new = len(ids)
        new_cents = []
        for group in candidate_clusters(emb[sample], params):
            members = sample[group]
            tid = _theme_id([item_ids[i] for i in members], params.seed)
            if tid in index:
                continue
            index[tid] = len(ids)
            ids.append(tid)
            born.append(tid)
            new_cents.append(_unit(emb[members].mean(axis=0, keepdims=True)))
        if new_cents:
            cents = np.vstack([cents, *new_cents])
            weight = np.append(weight, np.zeros(len(new_cents)))
            # a few Lloyd steps over the pool and the new themes only: assign, re-centre
            # (a large pool: the steps before the last run on a hash sample of it)
            steps = max(1, params.refine_steps)
            fit = pool if pool.size <= _REFINE_SAMPLE else np.sort(pool[order[:_REFINE_SAMPLE]])
            for step in range(steps):
                rows = pool if step == steps - 1 else fit
                best, best_sim = nearest_centroid(emb, cents[first_new:], rows)
                ok = best_sim >= params.join_threshold
                if rows is pool:
                    assign[pool] = -1
                    assign[pool[ok]] = first_new + best[ok]
                sums, counts = member_sums(emb, rows[ok], best[ok], len(ids) - first_new)
                for j in np.flatnonzero(counts):
                    cents[first_new + j] = _unit(sums[j][None, :] / counts[j])[0]
                    weight[first_new + j] = counts[j]
            changed.update(range(first_new, len(ids)))

    # 3. outlier budget: the closest outliers join their nearest theme until within budget
    if ids and n:
        out = np.flatnonzero(assign < 0)
        budget = int(np.floor(params.max_unassigned * n))
        if out.size > budget:
            best, best_sim = nearest_centroid(emb, cents, out)
            take = np.argsort(-best_sim, kind="stable")[: out.size - budget]
            assign[out[take]] = best[take]
            changed.update(int(j) for j in np.unique(best[take][is_new[out[take]]]))

    # 4. themes that became near-duplicates merge into the older or larger one (lineage: merged)
    merged: dict[str, list[str]] = {}
    if changed and len(ids) > 1:
        ids, cents, weight, assign, merged = _merge_close(
            ids, cents, weight, assign, sorted(changed), set(base.ids), params
        )

    # 5. an existing theme that grew into two distinct groups splits (lineage: split)
    split: dict[str, list[str]] = {}
    grown = sorted(j for j in changed if j < len(ids) and ids[j] in base.ids)
    if grown:
        by_theme = np.argsort(assign, kind="stable")
        bounds = np.searchsorted(assign[by_theme], np.arange(len(ids) + 1))
    for j in grown:
        members = by_theme[bounds[j] : bounds[j + 1]]
        part = _split_part(emb, members, params)
        if part is None:
            continue
        tid = _theme_id([item_ids[i] for i in part], params.seed)
        if tid in ids:
            continue
        ids.append(tid)
        born.append(tid)
        cents = np.vstack([cents, _unit(emb[part].mean(axis=0, keepdims=True))])
        weight = np.append(weight, float(part.size))
        assign[part] = len(ids) - 1
        rest = np.setdiff1d(members, part, assume_unique=True)
        cents[j] = _unit(emb[rest].mean(axis=0, keepdims=True))[0]
        weight[j] = float(rest.size)
        split.setdefault(ids[j], []).append(tid)

    # similarity to the own centroid (a row-wise dot), or to the nearest one when unassigned
    sim = np.zeros(n, dtype=np.float32)
    if ids and n:
        for a in range(0, n, CHUNK):
            mine = assign[a : a + CHUNK]
            sim[a : a + mine.size] = np.einsum(
                "ij,ij->i", emb[a : a + CHUNK], cents[np.maximum(mine, 0)]
            )
        out = np.flatnonzero(assign < 0)
        sim[out] = nearest_centroid(emb, cents, out)[1]
    members_per = (
        np.bincount(assign[assign >= 0], minlength=len(ids))
        if n
        else np.zeros(len(ids), dtype=np.int64)
    )
    keep = [j for j in range(len(ids)) if members_per[j] > 0 or ids[j] in base.ids]
    remap = np.full(len(ids) + 1, -1, dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    assign = np.where(assign >= 0, remap[np.maximum(assign, 0)], -1)
    final = ThemeSet([ids[j] for j in keep], cents[keep], weight[keep].astype(np.int64))
    labels = [final.ids[a] if a >= 0 else None for a in assign.tolist()]
    return Theming(
        labels, sim, final, [b for b in born if b in final.ids], merged, split, codes=assign
    )


def _by_order_key(item_ids: list[str], rows: np.ndarray, seed: int) -> np.ndarray:
    """Positions in `rows` sorted by the items' seeded hash order (`_order_key`)."""
    digests = [hashlib.sha1(f"{seed}:{item_ids[i]}".encode()).digest()[:8] for i in rows.tolist()]
    keys = np.frombuffer(b"".join(digests), dtype=">u8")
    order = np.argsort(keys, kind="stable")
    if np.unique(keys).size != keys.size:  # practically never: fall back to the whole digest
        order = np.array(
            sorted(range(rows.size), key=lambda p: _order_key(item_ids[rows[p]], seed))
        )
    return order


def _split_part(emb: np.ndarray, members: np.ndarray, params: ThemeParams) -> np.ndarray | None:
    """The smaller of two well-separated halves of a theme's members, or None when it holds together."""
    if members.size < 2 * params.min_theme_size:
        return None
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    # a large theme is split on an evenly spread sample of its members, the rest follow
    fit = (
        members
        if members.size <= _SPLIT_SAMPLE
        else members[np.linspace(0, members.size - 1, _SPLIT_SAMPLE).astype(np.int64)]
    )
    with threadpool_limits(limits=1):  # small problems: extra threads only wait on each other
        km = KMeans(n_clusters=2, n_init=1, random_state=params.seed).fit(emb[fit])
        halves = _unit(km.cluster_centers_)
        if float(halves[0] @ halves[1]) >= params.split_similarity:
            return None
        labels = (
            km.labels_
            if fit is members
            else np.concatenate(
                [km.predict(emb[members[a : a + CHUNK]]) for a in range(0, members.size, CHUNK)]
            )
        )
    sizes = np.bincount(labels, minlength=2)
    if sizes.min() < params.min_theme_size:
        return None
    return members[labels == int(sizes.argmin())]


def _merge_close(
    ids: list[str],
    cents: np.ndarray,
    weight: np.ndarray,
    assign: np.ndarray,
    changed: list[int],
    protect: set[str],
    params: ThemeParams,
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, dict[str, list[str]]]:
    """Merge each changed theme into any theme whose centroid is now nearly the same."""
    merged: dict[str, list[str]] = {}
    sims = cents @ cents.T
    np.fill_diagonal(sims, -1)
    sizes = np.bincount(assign[assign >= 0], minlength=len(ids)).astype(np.float64)
    alive = np.ones(len(ids), dtype=bool)
    pairs = sorted(
        (
            (float(sims[a, b]), min(a, b), max(a, b))
            for a in changed
            for b in range(len(ids))
            if a != b and sims[a, b] >= params.theme_merge_similarity
        ),
        reverse=True,
    )
    for _, a, b in pairs:
        if not (alive[a] and alive[b]):
            continue
        keep, drop = (
            (a, b)
            if (ids[a] in protect, sizes[a], ids[b]) >= (ids[b] in protect, sizes[b], ids[a])
            else (b, a)
        )
        alive[drop] = False
        assign = np.where(assign == drop, keep, assign)
        cents[keep] = _unit((cents[keep] * weight[keep] + cents[drop] * weight[drop])[None, :])[0]
        weight[keep] += weight[drop]
        sizes[keep] += sizes[drop]
        merged.setdefault(ids[keep], []).append(ids[drop])
    keep_idx = np.flatnonzero(alive)
    remap = np.full(len(ids), -1, dtype=np.int64)
    remap[keep_idx] = np.arange(keep_idx.size)
    assign = np.where(assign >= 0, remap[np.maximum(assign, 0)], -1)
    return [ids[i] for i in keep_idx], cents[keep_idx], weight[keep_idx], assign, merged


def theme_groups(
    ids: list[str], centroids: np.ndarray, sizes: np.ndarray, distance: float
) -> dict[str, str]:
    """theme id -> group id: related themes (average-linkage cosine distance <= `distance`) roll up.

    A group is named after its largest theme (ties: the smaller id), so it keeps its id while
    its core theme lives. Themes alone in their group map to themselves.
    """
    if len(ids) < 2:
        return {t: t for t in ids}
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(_unit(centroids).astype(np.float64), method="average", metric="cosine")
    labels = fcluster(tree, t=distance, criterion="distance")
    out: dict[str, str] = {}
    for lab in np.unique(labels):
        members = np.flatnonzero(labels == lab)
        if members.size == 1:
            out[ids[members[0]]] = ids[members[0]]
            continue
        core = min(members, key=lambda j: (-int(sizes[j]), ids[j]))
        for j in members:
            out[ids[j]] = "grp_" + ids[core].removeprefix("th_")
    return out


def representatives(
    emb: np.ndarray,
    members: np.ndarray,
    centroid: np.ndarray,
    texts: list[str],
    k: int = 3,
    sims: np.ndarray | None = None,
) -> list[int]:
    """Indices of up to k members closest to the centroid with distinct texts (quotes).

    `sims`: the members' similarities to the centroid when already known (saves a pass).
    """
    if members.size == 0:
        return []
    if sims is None:
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
