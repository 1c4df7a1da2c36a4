"""A new ask among recent items: items unlike every theme's history that hold together, or a
part of a theme's recent members whose core holds few of its older items.

Both tests are relative to the data (a theme's own spread, its own share of recent items), not
to a distance constant. They only say whether, and which, recent items are new; what becomes
of them (a re-fit, a split with lineage) is `transforms/themes.py`'s decision.
"""

from __future__ import annotations

import numpy as np

from transforms.theme_params import ThemeParams
from transforms.vector_blocks import members_of, two_means, unit

_HALF_SAMPLE = 1000  # rows a half is fitted or counted on (more are sampled evenly)
_LINKAGE_ROWS = 4000  # unlike items grouped by average linkage at most (it is quadratic)


def _evenly(rows: np.ndarray, size: int) -> np.ndarray:
    if rows.size <= size:
        return rows
    return rows[np.linspace(0, rows.size - 1, size).astype(np.int64)]


def novel_part(
    emb: np.ndarray,
    history: np.ndarray,
    recent: np.ndarray,
    base: float,
    seed: int,
    params: ThemeParams,
) -> np.ndarray | None:
    """The rows of `recent` (one theme's recent members) that form a new ask.

    The recent members are split in two (2-means); each half's territory takes the theme's
    older members nearer to it than to the other half. A half at least 2 x `min_theme_size`
    strong whose territory is concentrated in recent items - its recent share at least halfway
    from `base` (the corpus's recent share, what a steady ask has) to all - is new: older items
    of the same ask would have landed in its territory, so it is also unlike the theme's
    history. Both halves new: all the recent members.
    """
    min_part = 2 * params.min_theme_size
    if recent.size < 3 * params.min_theme_size or history.size < params.min_theme_size:
        return None
    need = (1.0 + base) / 2.0
    _, halves = two_means(emb[_evenly(recent, _HALF_SAMPLE)], seed)
    side = (emb[recent] @ halves.T).argmax(axis=1)
    older = _evenly(history, 4 * _HALF_SAMPLE)
    older_side = (emb[older] @ halves.T).argmax(axis=1)
    new = []
    for h in (0, 1):
        now = float((side == h).sum())
        before = float((older_side == h).sum()) * history.size / older.size
        if now >= min_part and now >= need * (now + before):
            new.append(h)
    if not new:
        return None
    return recent if len(new) == 2 else recent[side == new[0]]


def coherent_groups(x: np.ndarray, min_similarity: float, min_items: int) -> list[np.ndarray]:
    """Row groups of x (unit rows) whose average pairwise similarity stays above `min_similarity`."""
    if x.shape[0] < min_items:
        return []
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(x.astype(np.float64), method="average", metric="cosine")
    labels = fcluster(tree, t=1.0 - min_similarity, criterion="distance")
    groups = [np.flatnonzero(labels == lab) for lab in np.unique(labels)]
    return [g for g in groups if g.size >= min_items]


def unlike_groups(
    emb: np.ndarray,
    rows: np.ndarray,
    best: np.ndarray,
    sims: np.ndarray,
    spread: tuple[np.ndarray, np.ndarray],
    cents: np.ndarray,
    params: ThemeParams,
) -> list[np.ndarray]:
    """Groups of `rows` unlike their nearest theme (`novelty_z` robust deviations below its median
    similarity) that hold together as tightly as a typical theme, lie outside the radius where
    their nearest theme's members typically lie, and number `min_theme_size` or more.

    `best`, `sims`: the rows' nearest theme and similarity; `spread`: the themes' (median, deviation).
    """
    med, dev = spread
    unlike = np.flatnonzero(sims < med[best] - params.novelty_z * dev[best])
    unlike = _evenly(unlike, _LINKAGE_ROWS)
    typical = float(np.median(med)) if med.size else 0.0
    out = []
    for g in coherent_groups(emb[rows[unlike]], typical * typical, params.min_theme_size):
        part = unlike[g]
        c = unit(emb[rows[part]].mean(axis=0, keepdims=True))[0]
        parent = int(np.bincount(best[part]).argmax())
        if float(c @ cents[parent]) < float(med[parent]):
            out.append(rows[part])
    return out


def novel_recent_parts(
    emb: np.ndarray,
    recent: np.ndarray,
    nearest_theme: tuple[np.ndarray, np.ndarray],
    history_codes: np.ndarray,
    spread: tuple[np.ndarray, np.ndarray],
    cents: np.ndarray,
    params: ThemeParams,
) -> list[np.ndarray]:
    """Every new ask among the `recent` rows: groups unlike every theme (`unlike_groups`) and
    parts of a theme's recent members unlike its history (`novel_part`).

    `nearest_theme`: the recent rows' nearest theme and similarity; `history_codes`: per row of
    emb, the theme of a history row (-1: not history).
    """
    best, sims = nearest_theme
    parts = unlike_groups(emb, recent, best, sims, spread, cents, params)
    k = cents.shape[0]
    history_of = members_of(history_codes, k)
    base = recent.size / max(1, recent.size + int((history_codes >= 0).sum()))
    for j, members in enumerate(members_of(best, k)):
        part = novel_part(emb, history_of[j], recent[members], base, j, params)
        if part is not None:
            parts.append(part)
    return parts
