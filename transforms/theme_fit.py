"""How many themes, and where: stability-chosen k-means on a seeded sample of the corpus.

Granularity follows the data, not a distance constant. The search sample is split in two
halves, each half is clustered with k-means for a candidate k, both halves' centroids label the
whole search sample, and the agreement of the two labelings (ARI) is measured. Structure really
in the embeddings is found again from either half; cuts finer than the data holds (two halves of
one diffuse ask) or coarser (two tight asks in one) are arbitrary and disagree. The number of
themes is the smallest k whose agreement is within `tolerance` of the best. The rule compares
two clusterings of the same data, so it does not depend on the scale of the distances: a narrow
domain, where every ask is close to every other, gets as many themes as its structure holds.

Everything runs on a sample chosen by a seeded hash of the item ids, so the same corpus gives
the same themes whatever order its rows come in, and a grown corpus keeps most of its sample.
"""

from __future__ import annotations

import hashlib

import numpy as np

from transforms.theme_params import ThemeParams
from transforms.vector_blocks import unit


def hash_order(item_ids: list[str], seed: int, size: int | None = None) -> np.ndarray:
    """Positions of the items in the order of a seeded hash of their ids (the first `size` only).

    Depends on the ids alone, not on their order: the same set gives the same sample.
    """
    digests = b"".join(
        hashlib.blake2b(f"{seed}:{i}".encode(), digest_size=8).digest() for i in item_ids
    )
    keys = np.frombuffer(digests, dtype=">u8").astype(np.uint64)
    if size is not None and size < keys.size:
        first = np.argpartition(keys, size - 1)[:size]
        return first[np.argsort(keys[first], kind="stable")]
    return np.argsort(keys, kind="stable")


def smoothed(emb: np.ndarray, k: int, chunk: int = 1024) -> np.ndarray:
    """Each unit vector averaged with its k nearest neighbours (a mean-shift step): sharper themes."""
    k = min(k, emb.shape[0] - 1)
    if k <= 0:
        return emb
    out = np.empty_like(emb)
    for start in range(0, emb.shape[0], chunk):
        sims = emb[start : start + chunk] @ emb.T
        idx = np.argpartition(-sims, k, axis=1)[:, : k + 1]  # itself and its k nearest
        out[start : start + chunk] = emb[idx].mean(axis=1)
    return unit(out)


def kmeans_labels(
    x: np.ndarray, k: int, seed: int, max_iter: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """(labels, centroids) of k-means++ on x, single-threaded (many small matrix products, which
    a second BLAS thread slows down as soon as the machine is busy)."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        km = KMeans(n_clusters=k, n_init=1, random_state=seed, max_iter=max_iter).fit(x)
    return km.labels_.astype(np.int64), km.cluster_centers_.astype(np.float32)


def search_space(x: np.ndarray, params: ThemeParams) -> np.ndarray:
    """The stability search's vectors: the first `stability_sample` rows, PCA-reduced."""
    x = x[: params.stability_sample]
    if 0 < params.search_dims < min(x.shape):
        from sklearn.decomposition import PCA

        x = PCA(params.search_dims, random_state=params.seed).fit_transform(x).astype(np.float32)
    return x


def _nearest_euclid(x: np.ndarray, cents: np.ndarray) -> np.ndarray:
    return ((cents * cents).sum(1)[None, :] - 2 * x @ cents.T).argmin(axis=1)


def agreement(x: np.ndarray, k: int, splits: list[np.ndarray], seed: int) -> float:
    """Mean ARI between the labelings of x by k-means with k fitted on either half of each split."""
    from sklearn.metrics import adjusted_rand_score

    n = x.shape[0]
    scores = []
    for r, perm in enumerate(splits):
        labs = []
        for h, half in enumerate((perm[: n // 2], perm[n // 2 :])):
            _, cents = kmeans_labels(x[half], k, seed + 10 * r + h, max_iter=30)
            labs.append(_nearest_euclid(x, cents))
        scores.append(adjusted_rand_score(*labs))
    return float(np.mean(scores))


def k_grid(k_min: int, k_max: int, ratio: float) -> list[int]:
    """A geometric grid of candidate theme counts."""
    out: list[int] = []
    k = float(k_min)
    while k <= k_max:
        if not out or int(round(k)) > out[-1]:
            out.append(int(round(k)))
        k *= ratio
    return out


def stability_curve(x: np.ndarray, params: ThemeParams, k_max: int) -> dict[int, float]:
    """k -> agreement: a coarse geometric sweep from `k_min` (or k_max, when smaller), stopped
    once agreement has stayed well below its best for two steps, then a finer sweep (more
    splits) around the coarse peak."""
    n = x.shape[0]
    k_lo = max(2, min(params.k_min, k_max))
    splits = [
        np.random.default_rng(params.seed + 100 + r).permutation(n) for r in range(params.repeats)
    ]
    coarse: dict[int, float] = {}
    for k in k_grid(k_lo, k_max, params.coarse_ratio):
        coarse[k] = agreement(x, k, splits[: params.coarse_repeats], params.seed)
        best_k = max(coarse, key=coarse.__getitem__)
        tail = [v for kk, v in coarse.items() if kk > best_k]
        low = coarse[best_k] - params.stop_drop
        if k >= params.sweep_at_least and len(tail) >= 2 and max(tail[-2:]) < low:
            break
    best_k = max(coarse, key=coarse.__getitem__)
    lo = max(k_lo, int(best_k / params.coarse_ratio))
    hi = min(k_max, int(best_k * params.coarse_ratio) + 1)
    return {k: agreement(x, k, splits, params.seed) for k in k_grid(lo, hi, params.grid_ratio)}


def chosen_k(curve: dict[int, float], tolerance: float) -> int:
    """The smallest k whose agreement (averaged with its grid neighbours) is within `tolerance`
    of the best."""
    ks = sorted(curve)
    vals = np.array([curve[k] for k in ks])
    smooth = np.array([vals[max(0, i - 1) : i + 2].mean() for i in range(len(ks))])
    return int(min(k for k, v in zip(ks, smooth, strict=True) if v >= smooth.max() - tolerance))


def stable_centroids(
    sample: np.ndarray, params: ThemeParams
) -> tuple[np.ndarray, dict[int, float]]:
    """(unit theme centroids, the stability curve) of a sample of unit vectors in hash order.

    A search sample too small for two themes of `min_half_items_per_theme` per half gives one.
    """
    if sample.shape[0] == 0:
        return np.zeros((0, sample.shape[1]), dtype=np.float32), {}
    x = smoothed(sample, params.smoothing_neighbors)
    search = search_space(x, params)
    k_max = min(params.k_cap, (search.shape[0] // 2) // params.min_half_items_per_theme)
    if k_max < 2:
        return unit(x.mean(axis=0, keepdims=True)), {}
    curve = stability_curve(search, params, k_max)
    labels, _ = kmeans_labels(x, chosen_k(curve, params.tolerance), params.seed)
    labels = np.unique(labels, return_inverse=True)[1]
    sums = np.zeros((int(labels.max()) + 1, x.shape[1]), dtype=np.float64)
    np.add.at(sums, labels, x)
    return unit(sums), curve
