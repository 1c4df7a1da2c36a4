"""Themes and trends as plain functions over the lake (the report flow's tasks call these)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from flows.config import ChorusConfig
from flows.lake import Lake
from schemas.tables import ASSIGNMENTS_SCHEMA, LINEAGE_SCHEMA, THEMES_SCHEMA
from transforms.ids import content_text
from transforms.keywords import class_keywords, label_from_keywords, substantive
from transforms.segments import (
    attributes_as_of,
    pseudonymised_customers,
    read_customers,
    segment_masks,
)
from transforms.themes import ThemeParams, ThemeSet, representatives, theme_groups, themed
from transforms.trends import TrendParams, period_starts, weighted_trends
from transforms.weights import base_weights, recency_factors, repeat_factors


@dataclass(frozen=True)
class ThemeRun:
    run_id: str
    themes: int
    born: int
    merged: int
    assigned: int
    unassigned_share: float


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


def update_themes(lake: Lake, cfg: ChorusConfig) -> ThemeRun:
    """Join, cluster and label; write themes/, assignments/ and lineage/ (feedback/ is never rewritten)."""
    fb = lake.read_feedback(
        columns=["feedback_id", "source_kind", "title", "text", "embedding", "created_at"]
    )
    fb = fb.filter(pa.compute.is_valid(fb["embedding"])).sort_by("feedback_id")
    item_ids = fb["feedback_id"].to_pylist()
    emb = (
        fb["embedding"]
        .combine_chunks()
        .flatten()
        .to_numpy(zero_copy_only=False)
        .reshape(len(item_ids), -1)
        if item_ids
        else np.zeros((0, 384), np.float32)
    )
    texts = [
        content_text(t, x, k)
        for t, x, k in zip(
            fb["title"].to_pylist(),
            fb["text"].to_pylist(),
            fb["source_kind"].to_pylist(),
            strict=True,
        )
    ]
    created = (
        pd.to_datetime(pd.Series(fb["created_at"].to_pylist()), utc=True)
        if item_ids
        else pd.Series([], dtype="datetime64[ns, UTC]")
    )
    # one-word texts ("test", "asdf", "ok") say nothing a theme could hold: stored, never themed
    keep = np.array([substantive(t) for t in texts], dtype=bool)
    unthemed = [i for i, k in zip(item_ids, keep, strict=True) if not k]
    item_ids = [i for i, k in zip(item_ids, keep, strict=True) if k]
    emb, texts = emb[keep], [t for t, k in zip(texts, keep, strict=True) if k]
    created = created[keep].reset_index(drop=True)
    existing, old_df = _existing_themes(lake)
    prev_table = lake.read_table("assignments")
    previous = (
        dict(
            zip(
                prev_table["feedback_id"].to_pylist(),
                prev_table["theme_id"].to_pylist(),
                strict=True,
            )
        )
        if prev_table is not None
        else None
    )
    prev_lineage = lake.read_table("lineage")
    if previous is not None and prev_lineage is not None:
        # items of themes merged away follow the theme that absorbed them
        absorbed = {
            d: r["theme_id"]
            for r in prev_lineage.to_pylist()
            if r["event"] == "merged"
            for d in r["related_ids"] or []
        }
        previous = {k: absorbed.get(v, v) if v is not None else None for k, v in previous.items()}
    result = themed(item_ids, emb, existing, previous, theme_params(cfg))
    run_id = uuid.uuid5(uuid.NAMESPACE_OID, "|".join(result.themes.ids) + f"|{len(item_ids)}").hex[
        :12
    ]
    now = datetime.now(UTC)

    members: dict[str, list[int]] = {tid: [] for tid in result.themes.ids}
    for i, tid in enumerate(result.assignment):
        if tid is not None:
            members[tid].append(i)
    keywords = class_keywords({tid: [texts[i] for i in idx] for tid, idx in members.items()})
    old = old_df.set_index("theme_id") if old_df is not None else None
    split_from = {child: [parent] for parent, kids in result.split.items() for child in kids}
    rows = []
    for j, tid in enumerate(result.themes.ids):
        idx = np.array(members[tid], dtype=np.int64)
        reps = representatives(emb, idx, result.themes.centroids[j], texts)
        first = created.iloc[idx].min() if idx.size else None
        last = created.iloc[idx].max() if idx.size else None
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
        result.themes.ids,
        result.themes.centroids,
        np.array([len(members[t]) for t in result.themes.ids]),
        cfg.themes.group_distance,
    )
    for row in rows:
        row["group_id"] = groups.get(row["theme_id"])
    rows += _group_rows(groups, members, texts, emb, item_ids, created, run_id)
    merged_away = {d for ds in result.merged.values() for d in ds}
    if old is not None:
        for tid, prev in old.iterrows():
            if tid in result.themes.ids or prev["status"] == "group":
                continue  # groups are recomputed every run
            status = "merged" if tid in merged_away else prev["status"]
            rows.append({**prev.to_dict(), "theme_id": tid, "status": status})
    lake.replace_table("themes", pa.Table.from_pylist(rows, schema=THEMES_SCHEMA))
    sims = result.similarity
    lake.replace_table(
        "assignments",
        pa.table(
            {
                "feedback_id": item_ids + unthemed,
                "theme_id": result.assignment + [None] * len(unthemed),
                "similarity": np.concatenate([sims, np.zeros(len(unthemed))]).astype(np.float32),
                "model_run": [run_id] * (len(item_ids) + len(unthemed)),
            },
            schema=ASSIGNMENTS_SCHEMA,
        ),
    )
    events = [
        {
            "run_id": run_id,
            "event": "born",
            "theme_id": t,
            "related_ids": [],
            "at": now,
            "size": len(members.get(t, [])),
        }
        for t in result.born
        if t not in split_from
    ]
    events += [
        {
            "run_id": run_id,
            "event": "split",
            "theme_id": parent,
            "related_ids": kids,
            "at": now,
            "size": len(members.get(parent, [])),
        }
        for parent, kids in result.split.items()
    ]
    events += [
        {
            "run_id": run_id,
            "event": "merged",
            "theme_id": keep,
            "related_ids": drops,
            "at": now,
            "size": len(members.get(keep, [])),
        }
        for keep, drops in result.merged.items()
    ]
    lineage = pa.Table.from_pylist(events, schema=LINEAGE_SCHEMA)
    if prev_lineage is not None:
        lineage = (
            pa.concat_tables([prev_lineage.cast(LINEAGE_SCHEMA), lineage])
            if events
            else prev_lineage
        )
    lake.replace_table("lineage", lineage)
    return ThemeRun(
        run_id,
        len(result.themes.ids),
        len(result.born),
        len(merged_away),
        sum(a is not None for a in result.assignment),
        result.unassigned_share,
    )


def _group_rows(
    groups: dict[str, str],
    members: dict[str, list[int]],
    texts: list[str],
    emb: np.ndarray,
    item_ids: list[str],
    created: pd.Series,
    run_id: str,
) -> list[dict[str, Any]]:
    """One row per group of two or more related themes, labelled from all their items."""
    by_group: dict[str, list[str]] = {}
    for tid, gid in groups.items():
        if gid != tid:
            by_group.setdefault(gid, []).append(tid)
    docs = {gid: [i for t in tids for i in members[t]] for gid, tids in by_group.items()}
    keywords = class_keywords({gid: [texts[i] for i in idx] for gid, idx in docs.items()})
    rows = []
    for gid, tids in sorted(by_group.items()):
        idx = np.array(sorted(docs[gid]), dtype=np.int64)
        centroid = emb[idx].mean(axis=0) if idx.size else np.zeros(emb.shape[1], np.float32)
        centroid = centroid / max(float(np.linalg.norm(centroid)), 1e-12)
        rows.append(
            {
                "theme_id": gid,
                "label": label_from_keywords(keywords.get(gid, [])),
                "keywords": keywords.get(gid, []),
                "centroid": centroid.astype(np.float32).tolist(),
                "size": int(idx.size),
                "first_seen": created.iloc[idx].min() if idx.size else None,
                "last_seen": created.iloc[idx].max() if idx.size else None,
                "status": "group",
                "parent_ids": sorted(tids),  # the themes it groups
                "representative_ids": [
                    item_ids[r] for r in representatives(emb, idx, centroid, texts)
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


def trend_params(cfg: ChorusConfig) -> TrendParams:
    r = cfg.report
    return TrendParams(
        period=r.period,
        window=r.window,
        baseline_periods=r.baseline_periods,
        min_items=r.min_items,
        min_accounts=r.min_accounts,
        fdr_alpha=r.fdr_alpha,
    )


def items_frame(lake: Lake, cfg: ChorusConfig, key: bytes) -> pd.DataFrame:
    """One row per feedback item with its theme, period, customer attributes as of its date and weight."""
    from transforms.ids import pseudonym

    cols = [
        "feedback_id",
        "source",
        "source_id",
        "source_kind",
        "created_at",
        "account_id",
        "customer_id",
        "is_internal",
        "rating",
        "nps",
        "feedback_type",
        "sentiment",
        "text",
        "title",
        "url",
        "language",
        "pii_redactions",
    ]
    fb = lake.read_feedback(columns=cols).to_pandas()
    asg = lake.read_table("assignments")
    fb = fb.merge(
        asg.to_pandas()[["feedback_id", "theme_id", "similarity"]]
        if asg is not None
        else pd.DataFrame(columns=["feedback_id", "theme_id", "similarity"]),
        on="feedback_id",
        how="left",
    )
    fb = fb.sort_values("feedback_id", kind="stable").reset_index(drop=True)
    if cfg.customers is not None:
        customers = pseudonymised_customers(
            read_customers(cfg.resolve(cfg.customers.path), cfg.customers.format),
            lambda a: pseudonym(a, key, "acct"),
        )
    else:
        from transforms.segments import customers_frame

        customers = customers_frame(pd.DataFrame({"account_id": pd.Series([], dtype="string")}))
    attrs = attributes_as_of(fb["account_id"].tolist(), fb["created_at"].tolist(), customers)
    for col in attrs.columns:
        fb[f"acct_{col}"] = attrs[col].to_numpy()
    fb["period_start"] = period_starts(fb["created_at"], cfg.report.period)
    as_of = (
        pd.to_datetime(fb["created_at"], utc=True).max() if len(fb) else pd.Timestamp.now(tz="UTC")
    )
    fb.attrs["as_of"] = as_of
    fb.attrs["customers"] = customers
    ages = (as_of - pd.to_datetime(fb["created_at"], utc=True)).dt.total_seconds() / 86400.0
    masks = segment_masks(attrs, cfg.segments)
    masks.update(
        {f"persona:{k}": v for k, v in segment_masks(attrs, cfg.personas).items() if k != "all"}
    )
    seg_factor = np.ones(len(fb))
    for name, factor in cfg.weighting.segment.items():
        if name in masks:
            seg_factor = np.where(masks[name], np.maximum(seg_factor, factor), seg_factor)
    base = base_weights(
        fb["source_kind"].tolist(),
        fb["is_internal"].fillna(False).tolist(),
        attrs["target_market"].fillna(False).astype(bool).tolist(),
        pd.to_numeric(attrs["arr"], errors="coerce").fillna(0.0).tolist(),
        seg_factor,
        cfg.weighting,
    )
    fb["speaker"] = fb["account_id"].fillna(fb["customer_id"])
    group = fb["theme_id"].fillna("-").astype(str) + "|" + fb["period_start"].astype(str)
    fb["weight"] = base * repeat_factors(
        fb["speaker"].tolist(),
        group.tolist(),
        fb["created_at"].tolist(),
        cfg.weighting.repeat_decay,
    )
    # ranking "now" also discounts older items; the weekly series do not
    fb["rank_weight"] = fb["weight"] * recency_factors(
        ages.tolist(), cfg.weighting.recency_half_life_days
    )
    fb.attrs["masks"] = masks
    fb.attrs["segment_rules"] = [
        *cfg.segments,
        *(SimpleNamespace(name=f"persona:{p.name}", where=p.where) for p in cfg.personas),
    ]
    return fb


def compute_trends(lake: Lake, cfg: ChorusConfig, items: pd.DataFrame) -> pd.DataFrame:
    themes = lake.read_table("themes")
    tdf = (
        themes.to_pandas()
        if themes is not None
        else pd.DataFrame(columns=["theme_id", "label", "first_seen"])
    )
    labels = dict(zip(tdf["theme_id"], tdf["label"], strict=True))
    first_seen = {}
    for tid, fs in zip(tdf["theme_id"], tdf["first_seen"], strict=True):
        if fs is not None and not pd.isna(fs):
            first_seen[tid] = period_starts(pd.Series([fs]), cfg.report.period).iloc[0]
    groups = dict(zip(tdf["theme_id"], tdf["group_id"], strict=True)) if "group_id" in tdf else {}
    frame = items[["theme_id", "period_start", "weight", "speaker"]].copy()
    # a group row only where the group holds more than one theme (else it is the theme itself)
    frame["group_id"] = [
        g if isinstance(g, str) and g != t else None
        for t, g in ((t, groups.get(t)) for t in frame["theme_id"])
    ]
    trends = weighted_trends(
        frame,
        items.attrs["masks"],
        labels,
        first_seen,
        cfg.weighting.version,
        trend_params(cfg),
        levels={"theme": "theme_id", "group": "group_id"},
    )
    lake.replace_table("trends", pa.Table.from_pandas(trends, preserve_index=False))
    return trends


def newest_flags(trends: pd.DataFrame) -> pd.DataFrame:
    """Rows of the newest period that carry a flag (emerging, rising, fading)."""
    if trends.empty:
        return trends
    last = trends["period_start"].max()
    return trends[(trends["period_start"] == last) & trends["flag"].notna()]


def summary(items: pd.DataFrame) -> dict[str, Any]:
    return {
        "items": int(len(items)),
        "themed": int(items["theme_id"].notna().sum()),
        "sources": int(items["source"].nunique()),
    }
