"""Trends per theme x segment x period: counts, weighted scores, shares, baselines, tests, flags."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class TrendParams:
    period: str = "week"
    window: int = 4
    baseline_periods: int = 8
    min_items: int = 8
    min_accounts: int = 3
    fdr_alpha: float = 0.05
    rise_ratio: float = 1.5
    fade_ratio: float = 0.5


def period_starts(ts: pd.Series, period: str = "week") -> pd.Series:
    """The first day of each timestamp's period (ISO weeks start on Monday)."""
    t = pd.to_datetime(ts, utc=True).dt.tz_convert(None).dt.normalize()
    if period == "week":
        return (t - pd.to_timedelta(t.dt.day_of_week, unit="D")).dt.date
    return t.dt.to_period("M").dt.start_time.dt.date


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """q-values controlling the false-discovery rate (Benjamini-Hochberg step-up)."""
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    if ok.size == 0:
        return q
    order = ok[np.argsort(p[ok], kind="stable")]
    m = order.size
    ranked = p[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    q[order] = np.minimum(ranked, 1.0)
    return q


def _binom_tails(x: np.ndarray, n: np.ndarray, p0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from scipy.stats import binom

    up = binom.sf(x - 1, n, p0)  # P(X >= x)
    down = binom.cdf(x, n, p0)  # P(X <= x)
    return up, down


def weighted_trends(
    items: pd.DataFrame,
    masks: dict[str, np.ndarray],
    labels: dict[str, str],
    first_seen: dict[str, Any],
    policy_version: str,
    params: TrendParams,
) -> pd.DataFrame:
    """One row per theme x segment x period.

    `items` has one row per (item, theme) with: theme_id, period_start, weight, speaker (account
    or customer id, for unique counts). `masks` gives each segment's rows of `items`.
    """
    periods = sorted(items["period_start"].unique()) if len(items) else []
    if not periods:
        return pd.DataFrame(columns=_COLUMNS)
    pidx = {p: i for i, p in enumerate(periods)}
    frames = []
    for seg, mask in masks.items():
        sub = items[mask]
        if sub.empty:
            continue
        totals = sub.groupby("period_start").size().reindex(periods, fill_value=0).to_numpy()
        themed_rows = sub[sub["theme_id"].notna()]
        g = themed_rows.groupby(["theme_id", "period_start"], sort=True)
        agg = g.agg(
            count=("weight", "size"),
            unique_accounts=("speaker", "nunique"),
            weighted_score=("weight", "sum"),
            w2=("weight", lambda w: float(np.square(w).sum())),
        ).reset_index()
        for theme, rows in agg.groupby("theme_id", sort=True):
            full = pd.DataFrame({"period_start": periods})
            full = full.merge(rows.drop(columns="theme_id"), on="period_start", how="left").fillna(
                {"count": 0, "unique_accounts": 0, "weighted_score": 0.0, "w2": 0.0}
            )
            full["theme_id"] = theme
            full["segment"] = seg
            full["total"] = totals
            frames.append(full)
    if not frames:
        return pd.DataFrame(columns=_COLUMNS)
    df = pd.concat(frames, ignore_index=True)
    df["count"] = df["count"].astype(np.int64)
    df["unique_accounts"] = df["unique_accounts"].astype(np.int64)
    w, w2 = df["weighted_score"].to_numpy(float), df["w2"].to_numpy(float)
    df["effective_n"] = np.where(w2 > 0, w**2 / np.where(w2 > 0, w2, 1), 0.0)
    half = 1.96 * np.sqrt(w2)
    df["score_low"] = np.maximum(w - half, 0.0)
    df["score_high"] = w + half
    df["share"] = np.where(
        df["total"] > 0, df["count"] / df["total"].where(df["total"] > 0, 1), 0.0
    )
    df = _windows(df, pidx, first_seen, params)
    df["theme_label"] = df["theme_id"].map(labels)
    df["policy_version"] = policy_version
    return (
        df[_COLUMNS]
        .sort_values(["segment", "theme_id", "period_start"], kind="stable")
        .reset_index(drop=True)
    )


_COLUMNS = [
    "theme_id",
    "theme_label",
    "segment",
    "period_start",
    "count",
    "unique_accounts",
    "weighted_score",
    "effective_n",
    "score_low",
    "score_high",
    "share",
    "baseline_share",
    "change",
    "p_value",
    "q_value",
    "flag",
    "policy_version",
]


def _windows(
    df: pd.DataFrame, pidx: dict[Any, int], first_seen: dict[str, Any], params: TrendParams
) -> pd.DataFrame:
    """Window (last `window` periods up to each row) against the `baseline_periods` before it."""
    df = df.sort_values(["segment", "theme_id", "period_start"], kind="stable").reset_index(
        drop=True
    )
    key = df["segment"] + "\x1f" + df["theme_id"]
    names = ("baseline_share", "x", "n", "x0", "n0", "acc", "nb")
    out_cols = {c: np.full(len(df), np.nan) for c in names}
    W, B = params.window, params.baseline_periods
    for _, idx in df.groupby(key, sort=False).indices.items():
        cnt = df["count"].to_numpy()[idx].astype(float)
        tot = df["total"].to_numpy()[idx].astype(float)
        acc = df["unique_accounts"].to_numpy()[idx].astype(float)
        c_cnt, c_tot, c_acc = (
            np.concatenate([[0], np.cumsum(cnt)]),
            np.concatenate([[0], np.cumsum(tot)]),
            np.concatenate([[0], np.cumsum(acc)]),
        )
        for j, row in enumerate(idx):
            lo = max(0, j - W + 1)
            b_lo, b_hi = max(0, lo - B), lo
            x, n = c_cnt[j + 1] - c_cnt[lo], c_tot[j + 1] - c_tot[lo]
            x0, n0 = c_cnt[b_hi] - c_cnt[b_lo], c_tot[b_hi] - c_tot[b_lo]
            out_cols["x"][row], out_cols["n"][row], out_cols["x0"][row], out_cols["n0"][row] = (
                x,
                n,
                x0,
                n0,
            )
            out_cols["acc"][row] = c_acc[j + 1] - c_acc[lo]
            out_cols["nb"][row] = b_hi - b_lo
            if n0 > 0:
                out_cols["baseline_share"][row] = x0 / n0
    x, n, x0, n0 = (out_cols[k] for k in ("x", "n", "x0", "n0"))
    has_base = n0 > 0
    p0 = np.where(has_base, (x0 + 0.5) / (n0 + 1.0), np.nan)
    up, down = np.full(len(df), np.nan), np.full(len(df), np.nan)
    if has_base.any():
        u, d = _binom_tails(x[has_base], n[has_base], p0[has_base])
        up[has_base], down[has_base] = u, d
    share_w = np.where(n > 0, x / np.where(n > 0, n, 1), 0.0)
    df["baseline_share"] = out_cols["baseline_share"]
    df["change"] = share_w - np.nan_to_num(out_cols["baseline_share"], nan=0.0)
    p = np.where(np.isnan(up), np.nan, np.minimum(1.0, 2 * np.minimum(up, down)))
    df["p_value"] = p
    # false-discovery control across all themes x segments, separately for each period
    q = np.full(len(df), np.nan)
    for _, idx in df.groupby("period_start", sort=False).indices.items():
        q[idx] = benjamini_hochberg(p[idx])
    df["q_value"] = q
    ratio = np.where(p0 > 0, share_w / np.where(p0 > 0, p0, 1), np.inf)
    enough = (x >= params.min_items) & (out_cols["acc"] >= params.min_accounts)
    sig = q <= params.fdr_alpha
    flag = np.full(len(df), None, dtype=object)
    has_history = out_cols["nb"] >= 2  # at least two baseline periods before calling anything new
    born_idx = np.array([pidx.get(first_seen.get(t), -1) for t in df["theme_id"]])
    window_start_idx = np.array([max(0, pidx[p] - params.window + 1) for p in df["period_start"]])
    emerging = (
        enough
        & has_history
        & (x0 <= np.maximum(1.0, 0.1 * x))
        & (born_idx >= window_start_idx - params.baseline_periods)
    )
    rising = enough & has_history & sig & (up < down) & (ratio >= params.rise_ratio)
    fading = (
        has_history & sig & (down < up) & (ratio <= params.fade_ratio) & (x0 >= params.min_items)
    )
    flag[fading] = "fading"
    flag[rising] = "rising"
    flag[emerging] = "emerging"
    df["flag"] = flag
    return df
