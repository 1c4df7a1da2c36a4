"""The report's items frame: one row per feedback item with its theme, period, the customer's
attributes as of the item's date, segment membership and the weighting policy's weights."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.segments import attributes_as_of, customers_frame, segment_masks
from transforms.trends import period_starts
from transforms.weights import base_weights, recency_factors, repeat_factors

# the feedback columns the items frame (and so the report) uses
ITEM_COLUMNS = [
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


def weighted_items(
    feedback: pa.Table,
    assignments: pa.Table | None,
    customers: pd.DataFrame | None,
    period: str,
    segments: Sequence[Any],
    personas: Sequence[Any],
    weighting: Any,
) -> pd.DataFrame:
    """One row per feedback item (`ITEM_COLUMNS` of `feedback`, sorted by feedback_id) with its
    theme and similarity from `assignments`, period, the pseudonymised `customers`' attributes as
    of its date (acct_*), `weight` (policy x repeat decay) and `rank_weight` (also recency).

    `attrs` carry what the report needs beside the rows: as_of, customers, segment masks and rules.
    """
    table = feedback.select(ITEM_COLUMNS)
    fb = table.take(pc.sort_indices(table["feedback_id"])).to_pandas()
    del table
    _attach_assignments(fb, assignments)
    if customers is None:
        customers = customers_frame(pd.DataFrame({"account_id": pd.Series([], dtype="string")}))
    attrs = attributes_as_of(fb["account_id"], fb["created_at"], customers)
    for col in attrs.columns:
        fb[f"acct_{col}"] = attrs[col].array
    fb["period_start"] = period_starts(fb["created_at"], period)
    as_of = (
        pd.to_datetime(fb["created_at"], utc=True).max() if len(fb) else pd.Timestamp.now(tz="UTC")
    )
    ages = (as_of - pd.to_datetime(fb["created_at"], utc=True)).dt.total_seconds() / 86400.0
    masks = segment_masks(attrs, segments)
    masks.update(
        {f"persona:{k}": v for k, v in segment_masks(attrs, personas).items() if k != "all"}
    )
    seg_factor = np.ones(len(fb))
    for name, factor in weighting.segment.items():
        if name in masks:
            seg_factor = np.where(masks[name], np.maximum(seg_factor, factor), seg_factor)
    base = base_weights(
        fb["source_kind"],
        fb["is_internal"].fillna(False).to_numpy(bool),
        attrs["target_market"].fillna(False).astype(bool).to_numpy(),
        pd.to_numeric(attrs["arr"], errors="coerce").fillna(0.0).to_numpy(float),
        seg_factor,
        weighting,
    )
    fb["speaker"] = fb["account_id"].fillna(fb["customer_id"])
    # repeats count per speaker and period, across themes (see repeat_factors)
    fb["weight"] = base * repeat_factors(fb["speaker"], fb["period_start"], weighting.repeat_decay)
    # ranking "now" also discounts older items; the weekly series do not
    fb["rank_weight"] = fb["weight"] * recency_factors(
        ages.to_numpy(float), weighting.recency_half_life_days
    )
    # attrs last: pandas deep-copies them into every frame or column derived from `fb`
    fb.attrs["as_of"] = as_of
    fb.attrs["customers"] = customers
    fb.attrs["masks"] = masks
    fb.attrs["segment_rules"] = [
        *segments,
        *(SimpleNamespace(name=f"persona:{p.name}", where=p.where) for p in personas),
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
    if pos is None:  # never written by theme_update; keep the first row per item
        first = ~index.duplicated()
        pos = pd.Index(index[first]).get_indexer(fb["feedback_id"])
        asg = asg.filter(pa.array(first))
    take = pa.array(pos, mask=pos < 0)
    fb["theme_id"] = asg["theme_id"].take(take).to_pandas()
    fb["similarity"] = asg["similarity"].take(take).to_pandas()


def items_summary(items: pd.DataFrame) -> dict[str, Any]:
    """How many items, how many of them themed, from how many sources."""
    return {
        "items": int(len(items)),
        "themed": int(items["theme_id"].notna().sum()),
        "sources": int(items["source"].nunique()),
    }
