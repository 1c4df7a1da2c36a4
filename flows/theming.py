"""Themes over the lake: read feedback and embeddings, theme, label, write themes/assignments/lineage.

Built for a million items on a small machine: the embeddings go from the lake, partition by
partition, into one float32 matrix (sorted by feedback_id, only the items that get themed),
passes over all items run block by block, and keywords are counted on at most `KEYWORD_DOCS`
items per theme.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from flows.lake.journal import TableCommit
from flows.lake.store import Lake
from flows.runtime.config import ChorusConfig
from schemas.feedback import FEEDBACK_SCHEMA
from schemas.tables import ASSIGNMENTS_SCHEMA, LINEAGE_SCHEMA, THEMES_SCHEMA
from transforms.ids import content_text
from transforms.keywords import (
    keywords_from_counts,
    label_from_keywords,
    substantive,
    term_counts,
)
from transforms.themes import (
    ThemeParams,
    ThemeSet,
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


def theme_params(cfg: ChorusConfig) -> ThemeParams:
    t = cfg.themes
    return ThemeParams(
        seed=t.seed,
        join_threshold=t.join_threshold,
        min_theme_size=t.min_theme_size,
        merge_distance=t.merge_distance,
        neighbors=t.neighbors,
        max_unassigned=t.max_unassigned,
        sample_size=t.sample_size,
    )


def read_corpus(lake: Lake) -> Corpus:
    """Feedback with an embedding, sorted by feedback_id; one-word texts are kept apart.

    Two passes: the small columns (order, texts, what gets themed), then the embeddings one
    partition at a time straight into their rows of one float32 matrix, so the Arrow copy of
    all embeddings never sits beside it. A partition rewritten between the passes (a
    concurrent upsert) is noticed by its ids, and the read starts over.
    """
    for _ in range(3):
        corpus = _read_corpus(lake)
        if corpus is not None:
            return corpus
    raise RuntimeError("feedback/ kept changing while it was read for theming; try again")


def _read_corpus(lake: Lake) -> Corpus | None:
    dim = FEEDBACK_SCHEMA.field("embedding").type.list_size
    fb = lake.read_feedback(columns=["feedback_id", "source_kind", "title", "text", "created_at"])
    n = fb.num_rows
    order = pc.sort_indices(fb["feedback_id"]).to_numpy()
    ids = fb["feedback_id"].take(order).to_pylist()
    texts = [
        content_text(t, x, k)
        for t, x, k in zip(
            fb["title"].take(order).to_pylist(),
            fb["text"].take(order).to_pylist(),
            fb["source_kind"].take(order).to_pylist(),
            strict=True,
        )
    ]
    # one-word texts ("test", "asdf", "ok") say nothing a theme could hold: stored, never themed
    keep = np.fromiter((substantive(t) for t in texts), dtype=bool, count=n)
    created = pc.cast(fb["created_at"], pa.int64()).to_numpy(zero_copy_only=False)[order]
    stored_ids = fb["feedback_id"]
    del fb
    # each stored row's place in the matrix (-1: not themed)
    dest = np.full(n, -1, dtype=np.int64)
    dest[order[keep]] = np.arange(int(keep.sum()))
    emb = np.empty((int(keep.sum()), dim), dtype=np.float32)
    valid = np.zeros(n, dtype=bool)
    start = 0
    for part in lake.iter_feedback(columns=["feedback_id", "embedding"], batch_rows=8192):
        m = part.num_rows
        if start + m > n or not part["feedback_id"].equals(stored_ids.slice(start, m)):
            return None
        for chunk in part["embedding"].chunks:
            k = len(chunk)
            ok_rows = pc.is_valid(chunk).to_numpy(zero_copy_only=False)
            valid[start : start + k] = ok_rows
            vals = chunk.values.slice(chunk.offset * dim, k * dim).to_numpy(zero_copy_only=False)
            d = dest[start : start + k]
            ok = (d >= 0) & ok_rows
            emb[d[ok]] = vals.reshape(k, dim)[ok]
            start += k
    if start != n:
        return None
    valid = valid[order]
    if not valid[keep].all():  # text but no embedding (not written by the pipeline): drop
        emb = emb[valid[keep]]
    themed_rows = keep & valid
    return Corpus(
        [i for i, t in zip(ids, themed_rows, strict=True) if t],
        [x for x, t in zip(texts, themed_rows, strict=True) if t],
        created[themed_rows],
        emb,
        [i for i, k, v in zip(ids, keep, valid, strict=True) if v and not k],
    )


def _existing_themes(lake: Lake) -> tuple[ThemeSet | None, pd.DataFrame | None]:
    table = lake.read_table("themes")
    if table is None or table.num_rows == 0:
        return None, None
    df = table.to_pandas()
    active = df[df["status"] == "active"]
    cents = (
        np.stack(active["centroid"].to_numpy()).astype(np.float32)
        if len(active)
        else np.zeros((0, 384), np.float32)
    )
    return ThemeSet(active["theme_id"].tolist(), cents, active["size"].to_numpy()), df


def _previous(lake: Lake) -> tuple[dict[str, str | None] | None, pa.Table | None]:
    """Each item's theme from the last run (items of themes merged away follow the absorber)."""
    prev_table = lake.read_table("assignments")
    prev_lineage = lake.read_table("lineage")
    if prev_table is None:
        return None, prev_lineage
    previous = dict(
        zip(prev_table["feedback_id"].to_pylist(), prev_table["theme_id"].to_pylist(), strict=True)
    )
    if prev_lineage is not None:
        absorbed = {
            d: r["theme_id"]
            for r in prev_lineage.to_pylist()
            if r["event"] == "merged"
            for d in r["related_ids"] or []
        }
        if absorbed:
            previous = {
                k: absorbed.get(v, v) if v is not None else None for k, v in previous.items()
            }
    return previous, prev_lineage


def _ts(us: int) -> pd.Timestamp:
    return pd.Timestamp(int(us), unit="us", tz="UTC")


def _members(codes: np.ndarray, k: int) -> list[np.ndarray]:
    """Item positions per theme (ascending), from the per-item theme positions (-1: none)."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(k + 1))
    return [order[bounds[j] : bounds[j + 1]] for j in range(k)]


def update_themes(lake: Lake, cfg: ChorusConfig) -> ThemeRun:
    """Join, cluster and label; write themes/, assignments/ and lineage/ (feedback/ is never rewritten)."""
    corpus = read_corpus(lake)
    item_ids, texts, emb, created = corpus.ids, corpus.texts, corpus.emb, corpus.created_us
    existing, old_df = _existing_themes(lake)
    previous, prev_lineage = _previous(lake)
    result = themed(item_ids, emb, existing, previous, theme_params(cfg))
    run_id = uuid.uuid5(uuid.NAMESPACE_OID, "|".join(result.themes.ids) + f"|{len(item_ids)}").hex[
        :12
    ]
    now = datetime.now(UTC)

    tids = result.themes.ids
    members = dict(zip(tids, _members(result.codes, len(tids)), strict=True))
    # keywords from at most KEYWORD_DOCS items per theme; a group reuses its themes' counts
    sampled = {tid: idx[:KEYWORD_DOCS] for tid, idx in members.items()}
    counts = {tid: term_counts([texts[i] for i in idx]) for tid, idx in sampled.items()}
    keywords = keywords_from_counts(counts, {t: idx.size for t, idx in sampled.items()})
    seen = {
        tid: (int(created[idx].min()), int(created[idx].max()))
        for tid, idx in members.items()
        if idx.size
    }
    old = old_df.set_index("theme_id") if old_df is not None else None
    split_from = {child: [parent] for parent, kids in result.split.items() for child in kids}
    rows = []
    for j, tid in enumerate(tids):
        idx = members[tid]
        reps = representatives(
            emb, idx, result.themes.centroids[j], texts, sims=result.similarity[idx]
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
                "representative_ids": [item_ids[r] for r in reps],
                "model_run": run_id,
            }
        )
    groups = theme_groups(
        tids,
        result.themes.centroids,
        np.array([members[t].size for t in tids]),
        cfg.themes.group_distance,
    )
    for row in rows:
        row["group_id"] = groups.get(row["theme_id"])
    rows += _group_rows(
        groups, result.codes, tids, (members, sampled, counts, seen), corpus, run_id
    )
    merged_away = {d for ds in result.merged.values() for d in ds}
    if old is not None:
        for tid, prev in old.iterrows():
            if tid in tids or prev["status"] == "group":
                continue  # groups are recomputed every run
            status = "merged" if tid in merged_away else prev["status"]
            rows.append({**prev.to_dict(), "theme_id": tid, "status": status})
    commit = TableCommit(lake)  # themes, assignments and lineage become visible together
    commit.replace_table("themes", pa.Table.from_pylist(rows, schema=THEMES_SCHEMA))
    total = len(item_ids) + len(corpus.unthemed)
    theme_of = np.array([*tids, None], dtype=object)[result.codes]  # code -1: None
    commit.replace_table(
        "assignments",
        pa.table(
            {
                "feedback_id": pa.array(item_ids + corpus.unthemed, pa.string()),
                "theme_id": pa.array(
                    np.concatenate([theme_of, np.full(len(corpus.unthemed), None, dtype=object)]),
                    pa.string(),
                ),
                "similarity": np.concatenate(
                    [result.similarity, np.zeros(len(corpus.unthemed))]
                ).astype(np.float32),
                "model_run": pa.array(np.full(total, run_id, dtype=object), pa.string()),
            },
            schema=ASSIGNMENTS_SCHEMA,
        ),
    )
    sizes = {t: int(m.size) for t, m in members.items()}
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
    if prev_lineage is not None:
        lineage = (
            pa.concat_tables([prev_lineage.cast(LINEAGE_SCHEMA), lineage])
            if events
            else prev_lineage
        )
    commit.replace_table("lineage", lineage)
    commit.done()
    return ThemeRun(
        run_id,
        len(tids),
        len(result.born),
        len(merged_away),
        int((result.codes >= 0).sum()),
        result.unassigned_share,
    )


def _group_rows(
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


def _parents(old: pd.DataFrame | None, tid: str) -> list[str]:
    """Lineage a theme already had (kept across runs)."""
    if old is None or tid not in old.index:
        return []
    parents = old.loc[tid, "parent_ids"]
    return [] if parents is None else [p for p in parents]
