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


def repeat_factors(
    speaker: Sequence[Any], group: Sequence[Any], order: Sequence[Any], decay: float
) -> np.ndarray:
    """decay**k for the k-th item (in `order`) a speaker gives within a group; unknown speakers count once each.

    Sorted on integer codes (group, speaker, order, position), so a million items take one
    lexsort rather than a sort of Python objects.
    """
    s_code = _codes(speaker)
    g_code = _codes(group)
    o_code = _codes(order, sort=True)  # rank of the order value: ties keep item order
    o_code = np.where(o_code < 0, o_code.max(initial=0) + 1, o_code)  # missing order: last
    k = np.zeros(s_code.size)
    known = np.flatnonzero(s_code >= 0)
    if known.size:
        perm = known[np.lexsort((known, o_code[known], s_code[known], g_code[known]))]
        g, s = g_code[perm], s_code[perm]
        start = np.r_[True, (g[1:] != g[:-1]) | (s[1:] != s[:-1])]
        run_start = np.maximum.accumulate(np.where(start, np.arange(perm.size), 0))
        k[perm] = np.arange(perm.size) - run_start
    return decay**k


def _codes(values: Sequence[Any], sort: bool = False) -> np.ndarray:
    """Integer codes of values (equal values, equal codes; missing: -1), in value order if `sort`."""
    if not isinstance(values, pd.Series | pd.Index | np.ndarray | pd.api.extensions.ExtensionArray):
        values = pd.Series(list(values), dtype=object)
    codes, _ = pd.factorize(values, sort=sort)
    return np.asarray(codes, dtype=np.int64)
