"""One theming run as plain data: the corpus, the previous theme tables and the parameters in,
the new themes/, assignments/ and lineage/ tables out (feedback/ is never rewritten).

Built for a million items on a small machine: passes over all items run block by block, and
keywords are counted on at most `KEYWORD_DOCS` items per theme.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from schemas.tables import ASSIGNMENTS_SCHEMA, LINEAGE_SCHEMA, THEMES_SCHEMA
from transforms.keywords import keywords_from_counts, label_from_keywords, term_counts
from transforms.themes import (
    ThemeParams,
    ThemeSet,
    Theming,
    representatives,
    theme_groups,
    themed,
)
from transforms.vector_blocks import theme_sums

KEYWORD_DOCS = 1000  # items per theme (first in feedback_id order, i.e. a hash sample) for keywords


@dataclass(frozen=True)
class ThemeRun:
    run_id: str
    themes: int
    born: int
    merged: int
    assigned: int
    unassigned_share: float


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


def existing_themes(themes: pa.Table | None) -> tuple[ThemeSet | None, pd.DataFrame | None]:
    """The active themes of the last run as a ThemeSet, and its whole themes table as a frame."""
    if themes is None or themes.num_rows == 0:
        return None, None
    df = themes.to_pandas()
    active = df[df["status"] == "active"]
    cents = (
        np.stack(active["centroid"].to_numpy()).astype(np.float32)
        if len(active)
        else np.zeros((0, 384), np.float32)
    )
    return ThemeSet(active["theme_id"].tolist(), cents, active["size"].to_numpy()), df


def previous_item_themes(
    assignments: pa.Table | None, lineage: pa.Table | None
) -> dict[str, str | None] | None:
    """Each item's theme from the last run (items of themes merged away follow the absorber)."""
    if assignments is None:
        return None
    previous = dict(
        zip(
            assignments["feedback_id"].to_pylist(),
            assignments["theme_id"].to_pylist(),
            strict=True,
        )
    )
    if lineage is not None:
        absorbed = {
            d: r["theme_id"]
            for r in lineage.to_pylist()
            if r["event"] == "merged"
            for d in r["related_ids"] or []
        }
        if absorbed:
            previous = {
                k: absorbed.get(v, v) if v is not None else None for k, v in previous.items()
            }
    return previous


def _ts(us: int) -> pd.Timestamp:
    return pd.Timestamp(int(us), unit="us", tz="UTC")


def _members(codes: np.ndarray, k: int) -> list[np.ndarray]:
    """Item positions per theme (ascending), from the per-item theme positions (-1: none)."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(k + 1))
    return [order[bounds[j] : bounds[j + 1]] for j in range(k)]


def theme_update(
    corpus: Corpus,
    themes: pa.Table | None,
    assignments: pa.Table | None,
    lineage: pa.Table | None,
    params: ThemeParams,
    group_distance: float,
    now: datetime,
) -> ThemeUpdate:
    """Join, cluster and label the corpus against the last run's tables (`themes`, `assignments`,
    `lineage`; None when there was none); `now` stamps the lineage events."""
    item_ids, texts, emb, created = corpus.ids, corpus.texts, corpus.emb, corpus.created_us
    existing, old_df = existing_themes(themes)
    result = themed(item_ids, emb, existing, previous_item_themes(assignments, lineage), params)
    run_id = uuid.uuid5(uuid.NAMESPACE_OID, "|".join(result.themes.ids) + f"|{len(item_ids)}").hex[
        :12
    ]
    tids = result.themes.ids
    members = dict(zip(tids, _members(result.codes, len(tids)), strict=True))
    # keywords from at most KEYWORD_DOCS items per theme; a group reuses its themes' counts
    sampled = {tid: idx[:KEYWORD_DOCS] for tid, idx in members.items()}
    counts = {tid: term_counts([texts[i] for i in idx]) for tid, idx in sampled.items()}
    seen = {
        tid: (int(created[idx].min()), int(created[idx].max()))
        for tid, idx in members.items()
        if idx.size
    }
    old = old_df.set_index("theme_id") if old_df is not None else None
    split_from = {child: [parent] for parent, kids in result.split.items() for child in kids}
    rows = theme_rows(result, members, sampled, counts, seen, old, split_from, corpus, run_id)
    groups = theme_groups(
        tids,
        result.themes.centroids,
        np.array([members[t].size for t in tids]),
        group_distance,
    )
    for row in rows:
        row["group_id"] = groups.get(row["theme_id"])
    rows += group_rows(groups, result.codes, tids, (members, sampled, counts, seen), corpus, run_id)
    merged_away = {d for ds in result.merged.values() for d in ds}
    if old is not None:
        for tid, prev in old.iterrows():
            if tid in tids or prev["status"] == "group":
                continue  # groups are recomputed every run
            status = "merged" if tid in merged_away else prev["status"]
            rows.append({**prev.to_dict(), "theme_id": tid, "status": status})
    sizes = {t: int(m.size) for t, m in members.items()}
    return ThemeUpdate(
        ThemeRun(
            run_id,
            len(tids),
            len(result.born),
            len(merged_away),
            int((result.codes >= 0).sum()),
            result.unassigned_share,
        ),
        pa.Table.from_pylist(rows, schema=THEMES_SCHEMA),
        assignment_rows(corpus, result, run_id),
        lineage_rows(result, split_from, sizes, run_id, now, lineage),
    )


def theme_rows(
    result: Theming,
    members: dict[str, np.ndarray],
    sampled: dict[str, np.ndarray],
    counts: dict[str, Counter],
    seen: dict[str, tuple[int, int]],
    old: pd.DataFrame | None,
    split_from: dict[str, list[str]],
    corpus: Corpus,
    run_id: str,
) -> list[dict[str, Any]]:
    """One row per active theme: label, keywords, centroid, size, first/last seen, quotes, lineage."""
    tids = result.themes.ids
    keywords = keywords_from_counts(counts, {t: idx.size for t, idx in sampled.items()})
    rows = []
    for j, tid in enumerate(tids):
        idx = members[tid]
        reps = representatives(
            corpus.emb, idx, result.themes.centroids[j], corpus.texts, sims=result.similarity[idx]
        )
        first = _ts(seen[tid][0]) if idx.size else None
        last = _ts(seen[tid][1]) if idx.size else None
        if old is not None and tid in old.index:
            prev_first = old.loc[tid, "first_seen"]
            first = (
                min(x for x in (first, prev_first) if x is not None and not pd.isna(x))
                if idx.size
                else prev_first
            )
        rows.append(
            {
                "theme_id": tid,
                "label": label_from_keywords(keywords.get(tid, [])),
                "keywords": keywords.get(tid, []),
                "centroid": result.themes.centroids[j].tolist(),
                "size": int(idx.size),
                "first_seen": first,
                "last_seen": last,
                "status": "active",
                "parent_ids": _parents(old, tid)
                + result.merged.get(tid, [])
                + split_from.get(tid, []),
                "representative_ids": [corpus.ids[r] for r in reps],
                "model_run": run_id,
            }
        )
    return rows


def group_rows(
    groups: dict[str, str],
    codes: np.ndarray,
    tids: list[str],
    per_theme: tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, Any], dict[str, Any]],
    corpus: Corpus,
    run_id: str,
) -> list[dict[str, Any]]:
    """One row per group of two or more related themes, labelled from all their items.

    Built from per-theme parts (members, keyword samples and counts, first/last seen) and one
    sequential pass over the embeddings for centroids and quote similarities.
    """
    members, sampled, counts, seen = per_theme
    emb, texts = corpus.emb, corpus.texts
    by_group: dict[str, list[str]] = {}
    for tid, gid in groups.items():
        if gid != tid:
            by_group.setdefault(gid, []).append(tid)
    if not by_group:
        return []
    gids = sorted(by_group)
    position = {t: j for j, t in enumerate(tids)}
    sums = theme_sums(emb, codes, len(tids))
    cents = np.stack([sums[[position[t] for t in by_group[g]]].sum(axis=0) for g in gids])
    cents = (cents / np.maximum(np.linalg.norm(cents, axis=1, keepdims=True), 1e-12)).astype(
        np.float32
    )
    # each item's similarity to its group's centroid (items outside groups: unused)
    group_of_theme = np.full(len(tids) + 1, -1, dtype=np.int64)  # last: unassigned items
    for g, gid in enumerate(gids):
        group_of_theme[[position[t] for t in by_group[gid]]] = g
    row_group = group_of_theme[codes]
    gsim = np.zeros(codes.size, dtype=np.float32)
    for a in range(0, codes.size, 32768):
        rg = row_group[a : a + 32768]
        sel = np.flatnonzero(rg >= 0)
        block = emb[a : a + rg.size][sel]
        gsim[a + sel] = np.einsum("ij,ij->i", block, cents[rg[sel]])
    keywords = keywords_from_counts(
        {g: sum((counts[t] for t in by_group[g]), Counter()) for g in gids},
        {g: sum(sampled[t].size for t in by_group[g]) for g in gids},
    )
    rows = []
    for g, gid in enumerate(gids):
        tids_g = by_group[gid]
        idx = np.sort(np.concatenate([members[t] for t in tids_g]))
        spans = [seen[t] for t in tids_g if t in seen]
        rows.append(
            {
                "theme_id": gid,
                "label": label_from_keywords(keywords.get(gid, [])),
                "keywords": keywords.get(gid, []),
                "centroid": cents[g].tolist(),
                "size": int(idx.size),
                "first_seen": _ts(min(s[0] for s in spans)) if spans else None,
                "last_seen": _ts(max(s[1] for s in spans)) if spans else None,
                "status": "group",
                "parent_ids": sorted(tids_g),  # the themes it groups
                "representative_ids": [
                    corpus.ids[r]
                    for r in representatives(emb, idx, cents[g], texts, sims=gsim[idx])
                ],
                "model_run": run_id,
                "group_id": gid,
            }
        )
    return rows


def assignment_rows(corpus: Corpus, result: Theming, run_id: str) -> pa.Table:
    """Every item's theme (themed items, then the unthemed ones with none) and its similarity."""
    item_ids, unthemed = corpus.ids, corpus.unthemed
    total = len(item_ids) + len(unthemed)
    theme_of = np.array([*result.themes.ids, None], dtype=object)[result.codes]  # code -1: None
    return pa.table(
        {
            "feedback_id": pa.array(item_ids + unthemed, pa.string()),
            "theme_id": pa.array(
                np.concatenate([theme_of, np.full(len(unthemed), None, dtype=object)]),
                pa.string(),
            ),
            "similarity": np.concatenate([result.similarity, np.zeros(len(unthemed))]).astype(
                np.float32
            ),
            "model_run": pa.array(np.full(total, run_id, dtype=object), pa.string()),
        },
        schema=ASSIGNMENTS_SCHEMA,
    )


def lineage_rows(
    result: Theming,
    split_from: dict[str, list[str]],
    sizes: dict[str, int],
    run_id: str,
    now: datetime,
    previous: pa.Table | None,
) -> pa.Table:
    """The lineage table: the previous events, then this run's births, splits and merges."""
    events = [
        {"run_id": run_id, "event": "born", "theme_id": t, "related_ids": [], "at": now}
        | {"size": sizes.get(t, 0)}
        for t in result.born
        if t not in split_from
    ]
    events += [
        {"run_id": run_id, "event": "split", "theme_id": parent, "related_ids": kids, "at": now}
        | {"size": sizes.get(parent, 0)}
        for parent, kids in result.split.items()
    ]
    events += [
        {"run_id": run_id, "event": "merged", "theme_id": keep, "related_ids": drops, "at": now}
        | {"size": sizes.get(keep, 0)}
        for keep, drops in result.merged.items()
    ]
    lineage = pa.Table.from_pylist(events, schema=LINEAGE_SCHEMA)
    if previous is not None:
        lineage = pa.concat_tables([previous.cast(LINEAGE_SCHEMA), lineage]) if events else previous
    return lineage


def _parents(old: pd.DataFrame | None, tid: str) -> list[str]:
    """Lineage a theme already had (kept across runs)."""
    if old is None or tid not in old.index:
        return []
    parents = old.loc[tid, "parent_ids"]
    return [] if parents is None else [p for p in parents]
