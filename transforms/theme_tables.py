"""The rows of themes/, assignments/ and lineage/ for one theming run (`theme_update`).

Themes and groups get a phrase label read from their most central members (unique across all
rows), keywords, quotes, first/last seen and lineage; themes that this run retired keep their row
with their new status.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from schemas.tables import ASSIGNMENTS_SCHEMA, LINEAGE_SCHEMA
from transforms.keywords import keywords_from_counts
from transforms.theme_labels import (
    central_members,
    label_candidates,
    representatives,
    unique_labels,
)
from transforms.theme_match import Lineage
from transforms.themes import Theming
from transforms.vector_blocks import CHUNK, theme_sums, unit

if TYPE_CHECKING:
    from transforms.theme_update import Corpus


def _ts(us: int) -> pd.Timestamp:
    return pd.Timestamp(int(us), unit="us", tz="UTC")


def _seen(corpus: Corpus, idx: np.ndarray) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    if idx.size == 0:
        return None, None
    created = corpus.created_us[idx]
    return _ts(created.min()), _ts(created.max())


def theme_rows(
    result: Theming,
    members: list[np.ndarray],
    keywords: dict[str, list[str]],
    old: pd.DataFrame,
    corpus: Corpus,
) -> list[dict[str, Any]]:
    """One row per active theme (label still to set; `_central`: its most central members)."""
    split_from = {kid: parent for parent, kids in result.lineage.split.items() for kid in kids}
    rows = []
    for j, tid in enumerate(result.themes.ids):
        idx = members[j]
        sims = result.similarity[idx]
        first, last = _seen(corpus, idx)
        parents: list[str] = []
        if tid in old.index:
            before = old.loc[tid, "first_seen"]
            if before is not None and not pd.isna(before):
                first = before if first is None else min(first, before)
            parents = list(
                old.loc[tid, "parent_ids"] if old.loc[tid, "parent_ids"] is not None else []
            )
        parents += result.lineage.merged.get(tid, [])
        parents += [split_from[tid]] if tid in split_from else []
        rows.append(
            {
                "theme_id": tid,
                "keywords": keywords.get(tid, []),
                "centroid": result.themes.centroids[j].tolist(),
                "size": int(idx.size),
                "first_seen": first,
                "last_seen": last,
                "status": "active",
                "group_id": result.groups.get(tid, tid),
                "parent_ids": list(dict.fromkeys(parents)),
                "representative_ids": [
                    corpus.ids[r] for r in representatives(idx, sims, corpus.texts)
                ],
                "_central": central_members(idx, sims),
            }
        )
    return rows


def group_rows(
    result: Theming,
    members: list[np.ndarray],
    counts: tuple[dict[str, Counter[str]], dict[str, int]],
    corpus: Corpus,
) -> list[dict[str, Any]]:
    """One row per group of two or more themes: centroid, keywords and quotes from all their
    items (one block-wise pass over the embeddings)."""
    term_counts, n_docs = counts
    tids = result.themes.ids
    by_group: dict[str, list[int]] = {}
    for j, tid in enumerate(tids):
        gid = result.groups.get(tid, tid)
        if gid != tid:
            by_group.setdefault(gid, []).append(j)
    if not by_group:
        return []
    gids = sorted(by_group)
    sums = theme_sums(corpus.emb, result.codes, len(tids))
    cents = unit(np.stack([sums[by_group[g]].sum(axis=0) for g in gids]))
    group_of = np.full(len(tids) + 1, -1, dtype=np.int64)  # the last: unassigned items
    for g, gid in enumerate(gids):
        group_of[by_group[gid]] = g
    row_group = group_of[result.codes]
    gsim = np.zeros(result.codes.size, dtype=np.float32)
    for a in range(0, row_group.size, CHUNK):
        rg = row_group[a : a + CHUNK]
        sel = np.flatnonzero(rg >= 0)
        gsim[a + sel] = np.einsum("ij,ij->i", corpus.emb[a : a + rg.size][sel], cents[rg[sel]])
    keywords = keywords_from_counts(
        {g: sum((term_counts[tids[j]] for j in by_group[g]), Counter()) for g in gids},
        {g: sum(n_docs[tids[j]] for j in by_group[g]) for g in gids},
    )
    rows = []
    for g, gid in enumerate(gids):
        idx = np.sort(np.concatenate([members[j] for j in by_group[gid]]))
        first, last = _seen(corpus, idx)
        rows.append(
            {
                "theme_id": gid,
                "keywords": keywords.get(gid, []),
                "centroid": cents[g].tolist(),
                "size": int(idx.size),
                "first_seen": first,
                "last_seen": last,
                "status": "group",
                "group_id": gid,
                "parent_ids": sorted(tids[j] for j in by_group[gid]),  # the themes it groups
                "representative_ids": [
                    corpus.ids[r] for r in representatives(idx, gsim[idx], corpus.texts)
                ],
            }
        )
    return rows


def labelled(rows: list[dict[str, Any]], texts: list[str]) -> list[dict[str, Any]]:
    """The rows with unique labels: a theme's phrase (the larger themes choose first); a group's,
    the labels of its two largest themes ("A · B +2": what it rolls up)."""
    themes = [r for r in rows if r["status"] != "group"]
    keywords = {r["theme_id"]: r["keywords"] for r in rows}
    candidates = {
        r["theme_id"]: label_candidates([texts[i] for i in r["_central"]], r["keywords"])
        for r in themes
    }
    order = [r["theme_id"] for r in sorted(themes, key=lambda r: (-r["size"], r["theme_id"]))]
    labels = unique_labels(candidates, order, keywords)
    size = {r["theme_id"]: r["size"] for r in themes}
    groups = [r for r in rows if r["status"] == "group"]
    for r in groups:
        parts = sorted(r["parent_ids"], key=lambda t: (-size.get(t, 0), t))
        more = f" +{len(parts) - 2}" if len(parts) > 2 else ""
        candidates[r["theme_id"]] = [" · ".join(labels[t] for t in parts[:2]) + more]
    taken = unique_labels(candidates, order + [r["theme_id"] for r in groups], keywords)
    return [
        {k: v for k, v in r.items() if k != "_central"} | {"label": taken[r["theme_id"]]}
        for r in rows
    ]


def gone_rows(old: pd.DataFrame, active: set[str], lineage: Lineage) -> list[dict[str, Any]]:
    """Earlier theme rows that are not active now (groups are rebuilt every run): merged and
    retired ones take that status, the rest keep theirs."""
    merged = {t for ts in lineage.merged.values() for t in ts}
    retired = set(lineage.retired)
    rows = []
    for tid, prev in old.iterrows():
        if tid in active or prev["status"] == "group":
            continue
        if tid in merged:
            status = "merged"
        elif tid in retired or prev["status"] == "active":
            status = "retired"
        else:
            status = prev["status"]
        rows.append({**prev.to_dict(), "theme_id": tid, "status": status})
    return rows


def assignment_rows(
    corpus: Corpus, result: Theming, model_runs: np.ndarray, run_id: str
) -> pa.Table:
    """Every item's theme (themed items, then the unthemed ones with none), its similarity and
    the run it was fitted or assigned in (the unthemed ones: this run)."""
    ids, unthemed = corpus.ids, corpus.unthemed
    theme_of = np.array([*result.themes.ids, None], dtype=object)[result.codes]  # -1: None
    return pa.table(
        {
            "feedback_id": pa.array(ids + unthemed, pa.string()),
            "theme_id": pa.array(
                np.concatenate([theme_of, np.full(len(unthemed), None, dtype=object)]), pa.string()
            ),
            "similarity": np.concatenate([result.similarity, np.zeros(len(unthemed))]).astype(
                np.float32
            ),
            "model_run": pa.array(
                np.concatenate([model_runs, np.full(len(unthemed), run_id, dtype=object)]),
                pa.string(),
            ),
        },
        schema=ASSIGNMENTS_SCHEMA,
    )


def lineage_rows(
    lineage: Lineage, sizes: dict[str, int], run_id: str, now: datetime, previous: pa.Table | None
) -> pa.Table:
    """The lineage table: the previous events, then this run's births, splits, merges and
    retirements."""

    def event(kind: str, tid: str, related: list[str]) -> dict[str, Any]:
        return {"run_id": run_id, "event": kind, "theme_id": tid, "related_ids": related} | {
            "at": now,
            "size": sizes.get(tid, 0),
        }

    events = [event("born", t, []) for t in lineage.born]
    events += [event("split", parent, kids) for parent, kids in lineage.split.items()]
    events += [event("merged", keep, gone) for keep, gone in lineage.merged.items()]
    events += [event("retired", t, []) for t in lineage.retired]
    table = pa.Table.from_pylist(events, schema=LINEAGE_SCHEMA)
    if previous is None:
        return table
    return pa.concat_tables([previous.cast(LINEAGE_SCHEMA), table]) if events else previous
