"""Themes and trends as plain functions over the lake (the report flow's tasks call these)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from flows.lake.store import Lake
from flows.runtime.config import ChorusConfig
from flows.theming import ThemeRun, theme_params, update_themes
from transforms.segments import (
    attributes_as_of,
    pseudonymised_customers,
    read_customers,
    segment_masks,
)
from transforms.trends import TrendParams, period_starts, weighted_trends
from transforms.weights import base_weights, recency_factors, repeat_factors

__all__ = [
    "ThemeRun",
    "compute_trends",
    "items_frame",
    "newest_flags",
    "summary",
    "theme_params",
    "trend_params",
    "update_themes",
]


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
    table = lake.read_feedback(columns=cols)
    fb = table.take(pc.sort_indices(table["feedback_id"])).to_pandas()
    del table
    _attach_assignments(fb, lake.read_table("assignments"))
    if cfg.customers is not None:
        customers = pseudonymised_customers(
            read_customers(cfg.resolve(cfg.customers.path), cfg.customers.format),
            lambda a: pseudonym(a, key, "acct"),
        )
    else:
        from transforms.segments import customers_frame

        customers = customers_frame(pd.DataFrame({"account_id": pd.Series([], dtype="string")}))
    attrs = attributes_as_of(fb["account_id"], fb["created_at"], customers)
    for col in attrs.columns:
        fb[f"acct_{col}"] = attrs[col].array
    fb["period_start"] = period_starts(fb["created_at"], cfg.report.period)
    as_of = (
        pd.to_datetime(fb["created_at"], utc=True).max() if len(fb) else pd.Timestamp.now(tz="UTC")
    )
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
        fb["source_kind"],
        fb["is_internal"].fillna(False).to_numpy(bool),
        attrs["target_market"].fillna(False).astype(bool).to_numpy(),
        pd.to_numeric(attrs["arr"], errors="coerce").fillna(0.0).to_numpy(float),
        seg_factor,
        cfg.weighting,
    )
    fb["speaker"] = fb["account_id"].fillna(fb["customer_id"])
    # repeats count within a theme (unassigned items: their own) and period
    theme_code = pd.factorize(fb["theme_id"])[0].astype(np.int64)
    period_code = pd.factorize(fb["period_start"])[0].astype(np.int64)
    group = (theme_code + 1) * (int(period_code.max(initial=0)) + 2) + period_code + 1
    fb["weight"] = base * repeat_factors(
        fb["speaker"], group, fb["created_at"], cfg.weighting.repeat_decay
    )
    # ranking "now" also discounts older items; the weekly series do not
    fb["rank_weight"] = fb["weight"] * recency_factors(
        ages.to_numpy(float), cfg.weighting.recency_half_life_days
    )
    # attrs last: pandas deep-copies them into every frame or column derived from `fb`
    fb.attrs["as_of"] = as_of
    fb.attrs["customers"] = customers
    fb.attrs["masks"] = masks
    fb.attrs["segment_rules"] = [
        *cfg.segments,
        *(SimpleNamespace(name=f"persona:{p.name}", where=p.where) for p in cfg.personas),
    ]
    return fb


def _attach_assignments(fb: pd.DataFrame, asg: pa.Table | None) -> None:
    """theme_id and similarity of each item (missing: null) from the assignments table."""
    if asg is None or asg.num_rows == 0:
        fb["theme_id"] = pd.Series([None] * len(fb), dtype=object)
        fb["similarity"] = np.full(len(fb), np.nan, dtype=np.float32)
        return
    index = pd.Index(asg["feedback_id"].to_pandas())
    pos = index.get_indexer(fb["feedback_id"]) if index.is_unique else None
    if pos is None:  # never written by update_themes; keep the first row per item
        first = ~index.duplicated()
        pos = pd.Index(index[first]).get_indexer(fb["feedback_id"])
        asg = asg.filter(pa.array(first))
    take = pa.array(pos, mask=pos < 0)
    fb["theme_id"] = asg["theme_id"].take(take).to_pandas()
    fb["similarity"] = asg["similarity"].take(take).to_pandas()


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
    # plain columns, without `items.attrs` (pandas deep-copies attrs on every derived frame)
    frame = pd.DataFrame(
        {c: items[c].to_numpy() for c in ("theme_id", "period_start", "weight", "speaker")}
    )
    # a group row only where the group holds more than one theme (else it is the theme itself)
    in_group = {t: g for t, g in groups.items() if isinstance(g, str) and g != t}
    frame["group_id"] = frame["theme_id"].map(in_group).astype(object)
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
