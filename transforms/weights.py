"""The weighting policy applied to items: who speaks counts, the policy is versioned, nothing re-embeds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def base_weights(
    source_kinds: Sequence[str],
    is_internal: Sequence[bool],
    target_market: Sequence[bool],
    arr: Sequence[float],
    segment_factor: Sequence[float],
    policy: Any,
) -> np.ndarray:
    """Per-item weight before repeat decay: kind x target market x account value x segment x internal.

    Recency is kept apart (`recency_factors`): it ranks what matters now, and would make every
    theme look as if it were rising if it entered the weekly series.
    """
    kind_w = np.array([policy.source_kind.get(k, 1.0) for k in source_kinds], dtype=float)
    tm = np.where(np.asarray(target_market, dtype=bool), policy.target_market, 1.0)
    arr_f = (
        np.ones(len(kind_w))
        if policy.arr_log_base is None
        else 1.0 + np.log1p(np.maximum(np.asarray(arr, dtype=float), 0.0) / policy.arr_log_base)
    )
    internal = np.where(np.asarray(is_internal, dtype=bool), policy.internal, 1.0)
    # an internal stakeholder's note is not a customer's voice: no target-market or ARR boost
    boost = np.where(
        np.asarray(is_internal, dtype=bool),
        1.0,
        tm * arr_f * np.asarray(segment_factor, dtype=float),
    )
    return kind_w * boost * internal


def recency_factors(ages_days: Sequence[float], half_life_days: float | None) -> np.ndarray:
    """0.5 ** (age / half-life): an item half a half-life old counts ~0.71; None switches it off."""
    ages = np.maximum(np.asarray(ages_days, dtype=float), 0.0)
    return np.ones(len(ages)) if half_life_days is None else 0.5 ** (ages / half_life_days)


def repeat_factors(
    speaker: Sequence[Any], group: Sequence[Any], order: Sequence[Any], decay: float
) -> np.ndarray:
    """decay**k for the k-th item (in `order`) a speaker gives within a group; unknown speakers count once each."""
    df = pd.DataFrame(
        {
            "s": pd.Series(speaker, dtype="object"),
            "g": pd.Series(group, dtype="object"),
            "o": pd.Series(order),
        }
    )
    df["i"] = np.arange(len(df))
    known = df["s"].notna()
    k = np.zeros(len(df))
    if known.any():
        sub = df[known].sort_values(["g", "s", "o", "i"], kind="stable")
        ranks = sub.groupby(["g", "s"], sort=False).cumcount().to_numpy()
        k[sub["i"].to_numpy()] = ranks
    return decay**k
