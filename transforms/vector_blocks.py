"""Passes over all items' embeddings, block by block: memory stays near the embeddings' own.

A million 384-d float32 rows are 1.5 GB; a similarity matrix against a few hundred centroids
would be as large again, so every pass here works on `CHUNK` rows at a time.
"""

from __future__ import annotations

import numpy as np

CHUNK = 32768  # rows per block in the passes over all items (about 50 MB of float32 at d=384)


def unit(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def as_unit(x: np.ndarray) -> np.ndarray:
    """float32 unit rows; rows already of unit length (the lake's) are used as given, not copied."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2:
        return unit(x)
    for start in range(0, x.shape[0], CHUNK):
        block = x[start : start + CHUNK]
        if np.abs(np.einsum("ij,ij->i", block, block) - 1.0).max() > 1e-4:
            out = np.empty_like(x)
            for a in range(0, x.shape[0], CHUNK):
                out[a : a + CHUNK] = unit(x[a : a + CHUNK])
            return out
    return x


def nearest(
    emb: np.ndarray, cents: np.ndarray, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per row (all, or `rows`): the nearest centroid and its cosine similarity, block by block."""
    m = emb.shape[0] if rows is None else rows.size
    best = np.zeros(m, dtype=np.int64)
    sim = np.full(m, -np.inf, dtype=np.float32)
    if cents.shape[0] == 0:
        return best, sim
    for a in range(0, m, CHUNK):
        block = emb[a : a + CHUNK] if rows is None else emb[rows[a : a + CHUNK]]
        s = block @ cents.T
        b = s.argmax(axis=1)
        best[a : a + b.size] = b
        sim[a : a + b.size] = s[np.arange(b.size), b]
    return best, sim


def theme_sums(emb: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """Sum of the embeddings of each theme's members (codes: theme position per row, -1: none)."""
    from scipy.sparse import csr_matrix

    sums = np.zeros((k, emb.shape[1]), dtype=np.float64)
    for a in range(0, codes.size, CHUNK):
        lab = codes[a : a + CHUNK]
        ok = np.flatnonzero(lab >= 0)
        onehot = csr_matrix((np.ones(ok.size), (lab[ok], ok)), shape=(k, lab.size))
        sums += onehot @ emb[a : a + lab.size].astype(np.float64)
    return sums


def members_of(codes: np.ndarray, k: int) -> list[np.ndarray]:
    """Row positions per theme (ascending), from the per-row theme positions (-1: none)."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(k + 1))
    return [order[bounds[j] : bounds[j + 1]] for j in range(k)]


def two_means(x: np.ndarray, seed: int, steps: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """(labels 0/1, 2 x d unit centroids): spherical 2-means started from two far-apart rows."""
    rng = np.random.default_rng(seed)
    a = x[rng.integers(x.shape[0])]
    first = int(np.argmin(x @ a))
    second = int(np.argmin(x @ x[first]))
    c = unit(x[[first, second]])
    labels = np.zeros(x.shape[0], dtype=np.int64)
    for _ in range(steps):
        labels = (x @ c.T).argmax(axis=1)
        if labels.min() == labels.max():
            break
        c = unit(np.vstack([x[labels == h].mean(axis=0) for h in (0, 1)]))
    return labels, c
