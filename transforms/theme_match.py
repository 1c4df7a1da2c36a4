"""Ids that survive a re-fit: new themes matched one to one to the old ones, lineage for the rest.

A re-fit partitions the corpus anew; each new theme that continues an old one (its centroid
close, and the pairing keeping the most items under the id they had) takes its id, so what a
user pinned or linked keeps its identity. A new theme that continues none
gets a new id and a `split` from the old theme most of its items came from; an old theme that
no new one continues is `merged` into the theme that took most of its items (or `retired`
when none did). Group ids follow their themes the same way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from transforms.vector_blocks import members_of, nearest


@dataclass
class Lineage:
    """What one run did to the themes (ids)."""

    born: list[str] = field(default_factory=list)  # new, with no earlier themes to come from
    split: dict[str, list[str]] = field(default_factory=dict)  # parent id -> new ids split off it
    merged: dict[str, list[str]] = field(
        default_factory=dict
    )  # absorber id -> old ids gone into it
    retired: list[str] = field(default_factory=list)  # old ids gone, their items nowhere


def new_id(prefix: str, members: list[str], seed: int, taken: set[str]) -> str:
    """A deterministic id from member ids (themes: item ids; groups: theme ids), not in `taken`."""
    base = f"{seed}|" + "|".join(sorted(members))
    for salt in range(1000):
        digest = hashlib.sha1(f"{base}#{salt}".encode() if salt else base.encode()).hexdigest()
        if f"{prefix}_{digest[:10]}" not in taken:
            return f"{prefix}_{digest[:10]}"
    raise RuntimeError("no free id")  # pragma: no cover - a thousand sha1 collisions


def matched_ids(
    old_centroids: np.ndarray,
    new_centroids: np.ndarray,
    min_similarity: np.ndarray,
    shared: np.ndarray | None = None,
) -> np.ndarray:
    """Per new theme, the old theme it continues (one to one), or -1.

    A pair can match when the old centroid is at least as close to the new one as that new
    theme's typical member (`min_similarity`, per new theme). Among those, the pairing keeps the
    most items in place (`shared`, new x old: items of the old theme now in the new one; pairs
    sharing none never match), ties going to the more similar; without `shared`, the most
    similar pairs overall.
    """
    from scipy.optimize import linear_sum_assignment

    out = np.full(new_centroids.shape[0], -1, dtype=np.int64)
    if old_centroids.shape[0] == 0 or new_centroids.shape[0] == 0:
        return out
    sim = new_centroids @ old_centroids.T
    ok = sim >= min_similarity[:, None]
    gain = sim.astype(np.float64)
    if shared is not None:
        ok &= shared > 0
        gain = shared + sim / 2.0  # one item more outweighs any difference in similarity
    rows, cols = linear_sum_assignment(np.where(ok, -gain, 0.0))
    keep = ok[rows, cols]
    out[rows[keep]] = cols[keep]
    return out


def _crosstab(a: np.ndarray, b: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Counts of (a, b) pairs over rows where both are >= 0."""
    ok = (a >= 0) & (b >= 0)
    out = np.zeros(shape, dtype=np.int64)
    np.add.at(out, (a[ok], b[ok]), 1)
    return out


def refit_ids(
    emb: np.ndarray,
    codes: np.ndarray,
    centroids: np.ndarray,
    medians: np.ndarray,
    previous: tuple[list[str], np.ndarray, np.ndarray],
    keys: tuple[list[str], np.ndarray, int],
) -> tuple[list[str], Lineage]:
    """Ids of the re-fitted themes (`codes` per item, `centroids`, members' `medians`) and the
    lineage, against `previous` (old ids, old centroids, each item's old theme: -1 none, -2 new).

    `keys`: item ids, their seeded hash order and the seed (a new id hashes its first members).
    """
    old_ids, old_cents, old_codes = previous
    item_ids, order, seed = keys
    k_new, k_old = centroids.shape[0], len(old_ids)
    went = _crosstab(old_codes, codes, (k_old, k_new))
    match = matched_ids(old_cents, centroids, medians, went.T)
    came_from = old_codes.copy()  # items without an old theme: the one they would have joined
    loose = np.flatnonzero(came_from < 0)
    if k_old and loose.size:
        came_from[loose] = nearest(emb, old_cents, loose)[0]
    into = _crosstab(came_from, codes, (k_old, k_new))
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    ids: list[str | None] = [old_ids[m] if m >= 0 else None for m in match]
    taken = set(old_ids)
    lineage = Lineage()
    members_per = members_of(codes, k_new)
    for j in np.flatnonzero(match < 0):
        members = members_per[j]
        first = members[np.argsort(rank[members], kind="stable")[:50]]
        ids[j] = new_id("th", [item_ids[i] for i in first], seed, taken)
        taken.add(ids[j])
        if k_old and into[:, j].any():
            lineage.split.setdefault(old_ids[int(into[:, j].argmax())], []).append(ids[j])
        else:
            lineage.born.append(ids[j])
    for i in sorted(set(range(k_old)) - set(match[match >= 0].tolist())):
        if went[i].any():
            lineage.merged.setdefault(ids[int(went[i].argmax())], []).append(old_ids[i])
        else:
            lineage.retired.append(old_ids[i])
    return [str(t) for t in ids], lineage


def group_ids(
    theme_ids: list[str],
    groups: np.ndarray,
    sizes: np.ndarray,
    previous: dict[str, str],
    seed: int,
) -> dict[str, str]:
    """theme id -> group id. A theme alone in its group is its own group; a group of several
    takes the earlier group id that covers most of its items (one to one, largest overlap
    first), else a new id from its themes' ids."""
    by_group: dict[int, list[int]] = {}
    for j, g in enumerate(groups.tolist()):
        by_group.setdefault(g, []).append(j)
    overlaps = []
    for g, members in by_group.items():
        if len(members) < 2:
            continue
        cover: dict[str, int] = {}
        for j in members:
            old = previous.get(theme_ids[j])
            if old is not None and old != theme_ids[j]:
                cover[old] = cover.get(old, 0) + int(sizes[j])
        overlaps += [(-n, old, g) for old, n in cover.items()]
    named: dict[int, str] = {}
    used: set[str] = set()
    for _, old, g in sorted(overlaps):
        if g not in named and old not in used:
            named[g] = old
            used.add(old)
    out: dict[str, str] = {}
    taken = set(theme_ids) | used | set(previous.values())
    for g, members in sorted(by_group.items()):
        if len(members) < 2:
            out[theme_ids[members[0]]] = theme_ids[members[0]]
            continue
        if g not in named:
            named[g] = new_id("grp", [theme_ids[j] for j in members], seed, taken)
            taken.add(named[g])
        for j in members:
            out[theme_ids[j]] = named[g]
    return out
