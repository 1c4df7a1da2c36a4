"""The second level: groups that roll fine themes up, cut where they are most distinct.

Average linkage over the theme centroids, cut at the best size-weighted silhouette among the
cuts that put `group_min_themes` to `group_max_themes` themes in a group on average (the
silhouette alone rewards the finest cut; the band keeps groups a level above themes).
"""

from __future__ import annotations

import numpy as np

from transforms.theme_params import ThemeParams


def weighted_silhouette(dist: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> float:
    """Silhouette of points with weights (a theme counts as many items as it holds)."""
    n, g = labels.size, int(labels.max()) + 1
    onehot = np.zeros((n, g))
    onehot[np.arange(n), labels] = weights
    mass = onehot.sum(0)
    mean_to = (dist @ onehot) / np.maximum(mass, 1e-12)  # mean distance to each group
    own_mass = mass[labels] - weights
    a = np.where(
        own_mass > 0,
        mean_to[np.arange(n), labels] * mass[labels] / np.maximum(own_mass, 1e-12),
        0.0,
    )
    other = mean_to.copy()
    other[np.arange(n), labels] = np.inf
    b = other.min(1)
    s = np.where(own_mass > 0, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float((s * weights).sum() / max(weights.sum(), 1e-12))


def theme_groups(centroids: np.ndarray, sizes: np.ndarray, params: ThemeParams) -> np.ndarray:
    """Group index per theme (too few themes to group: one group each)."""
    k = centroids.shape[0]
    if k < 2 * params.group_min_themes:
        return np.arange(k, dtype=np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(centroids.astype(np.float64), method="average", metric="cosine")
    dist = np.maximum(1.0 - centroids @ centroids.T, 0.0).astype(np.float64)
    lo = max(2, int(np.ceil(k / params.group_max_themes)))
    hi = max(lo, k // params.group_min_themes)
    best, best_score = np.arange(k, dtype=np.int64), -np.inf
    weights = np.maximum(sizes.astype(np.float64), 1.0)
    for g in range(lo, hi + 1):
        labels = fcluster(tree, g, criterion="maxclust") - 1
        if labels.max() < 1:
            continue
        score = weighted_silhouette(dist, labels, weights)
        if score > best_score:
            best, best_score = labels.astype(np.int64), score
    return np.unique(best, return_inverse=True)[1].astype(np.int64)
