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
    codes, kinds = pd.factorize(pd.Series(source_kinds, dtype=object))  # -1: missing kind
    per_kind = [policy.source_kind.get(k, 1.0) for k in kinds] + [policy.source_kind.get(None, 1.0)]
    kind_w = np.asarray(per_kind, dtype=float)[codes]
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


def repeat_factors(speaker: Sequence[Any], group: Sequence[Any], decay: float) -> np.ndarray:
    """Each item's share of its speaker's voice within a group (a period): a speaker with n items
    there counts 1 + decay + ... + decay**(n-1) in all, spread evenly over those items, whatever
    themes they fall in. One account repeating itself gains little, and gains nothing by
    spreading its repeats over several themes; unknown speakers count once each.
    """
    s_code = _codes(speaker)
    g_code = _codes(group)
    out = np.ones(s_code.size)
    known = np.flatnonzero(s_code >= 0)
    if known.size == 0 or decay >= 1.0:
        return out
    key = g_code[known] * (int(s_code.max()) + 1) + s_code[known]
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    n = counts[inverse].astype(float)
    out[known] = (1.0 - decay**n) / ((1.0 - decay) * n)
    return out


def _codes(values: Sequence[Any], sort: bool = False) -> np.ndarray:
    """Integer codes of values (equal values, equal codes; missing: -1), in value order if `sort`."""
    if not isinstance(values, pd.Series | pd.Index | np.ndarray | pd.api.extensions.ExtensionArray):
        values = pd.Series(list(values), dtype=object)
    codes, _ = pd.factorize(values, sort=sort)
    return np.asarray(codes, dtype=np.int64)
