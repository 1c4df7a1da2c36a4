"""Trends per theme x segment x period: counts, weighted scores, shares, baselines, tests, flags.

Each row describes one period; its window is the `window` periods ending there, compared with
the `baseline_periods` before the window. Shares and the test use the policy's weights: a
weighted proportion with Kish's effective sample size (n_eff = (sum w)^2 / sum w^2), so an
internal sales push or one account repeating itself moves a flag little, and false discoveries
are controlled with Benjamini-Hochberg across every theme x segment of a period.
"""

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
    min_items: int = 8  # items of the theme in the segment's window
    min_accounts: int = 3  # distinct accounts (or customers) among them
    fdr_alpha: float = 0.05
    rise_ratio: float = 1.5  # window share at least this many times the baseline share
    fade_ratio: float = 0.5
    min_baseline_periods: int = 2  # history needed before anything is called new or rising


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


def weighted_share_test(
    xw: np.ndarray,
    nw: np.ndarray,
    neff: np.ndarray,
    xw0: np.ndarray,
    nw0: np.ndarray,
    neff0: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One-sided p-values (rise, fall) of a weighted share against its baseline (two-proportion z)."""
    from scipy.stats import norm

    p1 = np.divide(xw, nw, out=np.zeros_like(xw), where=nw > 0)
    p0 = np.divide(xw0, nw0, out=np.zeros_like(xw0), where=nw0 > 0)
    pooled = np.divide(
        p1 * neff + p0 * neff0, neff + neff0, out=np.zeros_like(p1), where=(neff + neff0) > 0
    )
    inv = np.divide(1.0, neff, out=np.zeros_like(neff), where=neff > 0) + np.divide(
        1.0, neff0, out=np.zeros_like(neff0), where=neff0 > 0
    )
    se = np.sqrt(pooled * (1 - pooled) * inv)
    ok = (se > 0) & (neff > 0) & (neff0 > 0)
    z = np.divide(p1 - p0, se, out=np.zeros_like(p1), where=ok)
    up = np.where(ok, norm.sf(z), np.nan)
    down = np.where(ok, norm.cdf(z), np.nan)
    return up, down


_COLUMNS = [
    "theme_id", "theme_label", "level", "segment", "period_start", "count", "unique_accounts", "weighted_score",
    "effective_n", "score_low", "score_high", "share", "weighted_share", "baseline_share",
    "weighted_baseline_share", "window_count", "window_accounts", "change", "p_value", "q_value", "flag",
    "policy_version",
]  # fmt: skip


def weighted_trends(
    items: pd.DataFrame,
    masks: dict[str, np.ndarray],
    labels: dict[str, str],
    first_seen: dict[str, Any],
    policy_version: str,
    params: TrendParams,
    levels: dict[str, str] | None = None,
) -> pd.DataFrame:
    """One row per theme x segment x period.

    `items`: one row per item with theme_id (None: unassigned), period_start, weight and speaker
    (account, else customer id). `masks`: each segment's rows of `items` (segments may overlap).
    `levels` maps a level name to the column holding that level's key (default: theme ->
    theme_id); every level is tested in one false-discovery family.
    """
    levels = levels or {"theme": "theme_id"}
    periods = sorted(items["period_start"].dropna().unique()) if len(items) else []
    if not periods:
        return pd.DataFrame(columns=_COLUMNS)
    P, W, B = len(periods), params.window, params.baseline_periods
    pidx = {p: i for i, p in enumerate(periods)}
    pi = items["period_start"].map(pidx).to_numpy()
    w = items["weight"].to_numpy(float)
    frames = []
    for seg, mask in masks.items():
        m = np.asarray(mask, dtype=bool)
        if not m.any():
            continue
        # the segment's totals per period: count, sum of weights, sum of squared weights
        n = np.bincount(pi[m], minlength=P).astype(float)
        nw = np.bincount(pi[m], weights=w[m], minlength=P)
        nw2 = np.bincount(pi[m], weights=w[m] ** 2, minlength=P)
        for level, column in levels.items():
            sub = items[m & items[column].notna().to_numpy()]
            for theme, rows in sub.groupby(column, sort=True):
                tp = rows["period_start"].map(pidx).to_numpy()
                tw = rows["weight"].to_numpy(float)
                frame = _theme_rows(
                    theme, seg, tp, tw, rows["speaker"].to_numpy(object), n, nw, nw2, P, W, B
                )
                frame["level"] = level
                frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=_COLUMNS)
    df = pd.concat(frames, ignore_index=True)
    df["period_start"] = [periods[i] for i in df["period_idx"]]
    df = _tests_and_flags(df, {t: pidx.get(fs, -1) for t, fs in first_seen.items()}, params)
    df["theme_label"] = df["theme_id"].map(labels)
    df["policy_version"] = policy_version
    return (
        df[_COLUMNS]
        .sort_values(["segment", "theme_id", "period_start"], kind="stable")
        .reset_index(drop=True)
    )


def _window_sum(series: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Sum of series[lo:hi] for each pair (hi exclusive), via cumulative sums."""
    c = np.concatenate([[0.0], np.cumsum(series)])
    return c[hi] - c[lo]


def _theme_rows(
    theme: str,
    seg: str,
    tp: np.ndarray,
    tw: np.ndarray,
    speakers: np.ndarray,
    n: np.ndarray,
    nw: np.ndarray,
    nw2: np.ndarray,
    P: int,
    W: int,
    B: int,
) -> pd.DataFrame:
    x = np.bincount(tp, minlength=P).astype(float)
    xw = np.bincount(tp, weights=tw, minlength=P)
    xw2 = np.bincount(tp, weights=tw**2, minlength=P)
    ends = np.arange(P)
    lo = np.maximum(0, ends - W + 1)
    b_lo = np.maximum(0, lo - B)
    per_period_accounts = [set() for _ in range(P)]
    for p, s in zip(tp, speakers, strict=True):
        if s is not None and not (isinstance(s, float) and np.isnan(s)):
            per_period_accounts[p].add(s)
    win_accounts = [len(set().union(*per_period_accounts[lo[t] : t + 1])) for t in ends]
    half = 1.96 * np.sqrt(xw2)
    return pd.DataFrame(
        {
            "theme_id": theme,
            "segment": seg,
            "period_idx": ends,
            "count": x.astype(np.int64),
            "unique_accounts": [len(a) for a in per_period_accounts],
            "weighted_score": xw,
            "effective_n": np.divide(xw**2, xw2, out=np.zeros_like(xw), where=xw2 > 0),
            "score_low": np.maximum(xw - half, 0.0),
            "score_high": xw + half,
            "share": np.divide(x, n, out=np.zeros_like(x), where=n > 0),
            "weighted_share": np.divide(xw, nw, out=np.zeros_like(xw), where=nw > 0),
            # window and baseline aggregates (the test's inputs)
            "window_count": _window_sum(x, lo, ends + 1).astype(np.int64),
            "window_accounts": win_accounts,
            "_xw": _window_sum(xw, lo, ends + 1),
            "_nw": _window_sum(nw, lo, ends + 1),
            "_nw2": _window_sum(nw2, lo, ends + 1),
            "_n": _window_sum(n, lo, ends + 1),
            "_x0": _window_sum(x, b_lo, lo),
            "_n0": _window_sum(n, b_lo, lo),
            "_xw0": _window_sum(xw, b_lo, lo),
            "_nw0": _window_sum(nw, b_lo, lo),
            "_nw20": _window_sum(nw2, b_lo, lo),
            "_nb": (lo - b_lo).astype(float),
        }
    )


def _tests_and_flags(df: pd.DataFrame, born: dict[str, int], params: TrendParams) -> pd.DataFrame:
    nw, nw2, nw0, nw20 = (df[c].to_numpy(float) for c in ("_nw", "_nw2", "_nw0", "_nw20"))
    xw, xw0 = df["_xw"].to_numpy(float), df["_xw0"].to_numpy(float)
    neff = np.divide(nw**2, nw2, out=np.zeros_like(nw), where=nw2 > 0)
    neff0 = np.divide(nw0**2, nw20, out=np.zeros_like(nw0), where=nw20 > 0)
    up, down = weighted_share_test(xw, nw, neff, xw0, nw0, neff0)
    share_w = np.divide(xw, nw, out=np.zeros_like(xw), where=nw > 0)
    base_w = np.where(nw0 > 0, np.divide(xw0, nw0, out=np.zeros_like(xw0), where=nw0 > 0), np.nan)
    x0, n0 = df["_x0"].to_numpy(float), df["_n0"].to_numpy(float)
    df["baseline_share"] = np.where(
        n0 > 0, np.divide(x0, n0, out=np.zeros_like(x0), where=n0 > 0), np.nan
    )
    df["weighted_baseline_share"] = base_w
    df["change"] = share_w - np.nan_to_num(base_w, nan=0.0)
    p = np.minimum(1.0, 2 * np.fmin(up, down))
    df["p_value"] = p
    history = df["_nb"].to_numpy() >= params.min_baseline_periods
    enough = (df["window_count"].to_numpy() >= params.min_items) & (
        df["window_accounts"].to_numpy() >= params.min_accounts
    )
    eligible = history & (enough | (x0 >= params.min_items))
    # FDR across every theme x segment of a period that could be flagged at all (independent
    # filtering on volume: rows below the guard are never tested, so they cost no power)
    q = np.full(len(df), np.nan)
    for _, idx in df.groupby("period_idx", sort=False).indices.items():
        idx = idx[eligible[idx]]
        q[idx] = benjamini_hochberg(p[idx])
    df["q_value"] = q
    ratio = np.divide(
        share_w, base_w, out=np.full_like(share_w, np.inf), where=np.nan_to_num(base_w) > 0
    )
    sig = np.nan_to_num(q, nan=1.0) <= params.fdr_alpha
    # "for whom": a segment is flagged when it carries the rise, at or above everyone's share
    is_all = df["segment"].to_numpy() == "all"
    overall = pd.Series(
        share_w[is_all], index=pd.MultiIndex.from_frame(df.loc[is_all, ["theme_id", "period_idx"]])
    )
    everyone = overall.reindex(pd.MultiIndex.from_frame(df[["theme_id", "period_idx"]])).to_numpy()
    carries = is_all | ~(share_w < np.nan_to_num(everyone, nan=0.0))
    rising = history & enough & sig & (up < down) & (ratio >= params.rise_ratio) & carries
    born_idx = df["theme_id"].map(born).fillna(-1).to_numpy()
    window_start = np.maximum(0, df["period_idx"].to_numpy() - params.window + 1)
    new = (x0 <= np.maximum(1.0, 0.1 * df["window_count"].to_numpy())) & (
        born_idx >= window_start - params.baseline_periods
    )
    emerging = rising & new
    fading = history & sig & (down < up) & (ratio <= params.fade_ratio) & (x0 >= params.min_items)
    flag = np.full(len(df), None, dtype=object)
    flag[fading] = "fading"
    flag[rising] = "rising"
    flag[emerging] = "emerging"
    df["flag"] = flag
    return df
