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

    Vectorised over items: every count is one `bincount` over (theme, period) codes per segment,
    so a million items cost a few array passes, not a Python loop per theme.
    """
    levels = levels or {"theme": "theme_id"}
    pcode, period_values = pd.factorize(items["period_start"], sort=True)
    periods = list(period_values)
    if not periods:
        return pd.DataFrame(columns=_COLUMNS)
    P = len(periods)
    pidx = {p: i for i, p in enumerate(periods)}
    pcode = np.asarray(pcode, dtype=np.int64)
    w = items["weight"].to_numpy(float)
    scode, _ = pd.factorize(items["speaker"])  # -1: no speaker known
    scode = np.asarray(scode, dtype=np.int64)
    keys = {}
    for level, column in levels.items():
        code, uniq = pd.factorize(items[column], sort=True)
        keys[level] = (np.asarray(code, dtype=np.int64), np.asarray(uniq, dtype=object))
    frames = []
    for seg, mask in masks.items():
        m = np.asarray(mask, dtype=bool) & (pcode >= 0)
        if not m.any():
            continue
        # the segment's totals per period: count, sum of weights, sum of squared weights
        n = np.bincount(pcode[m], minlength=P).astype(float)
        nw = np.bincount(pcode[m], weights=w[m], minlength=P)
        nw2 = np.bincount(pcode[m], weights=w[m] ** 2, minlength=P)
        for level, (code, uniq) in keys.items():
            sel = m & (code >= 0)
            if not sel.any():
                continue
            frame = _level_rows(
                code[sel], uniq, pcode[sel], w[sel], scode[sel], n, nw, nw2, P, params
            )
            frame["segment"] = seg
            frame["level"] = level
            frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=_COLUMNS)
    df = pd.concat(frames, ignore_index=True)
    df["period_start"] = np.asarray(periods, dtype=object)[df["period_idx"].to_numpy()]
    df = _tests_and_flags(df, {t: pidx.get(fs, -1) for t, fs in first_seen.items()}, params)
    df["theme_label"] = df["theme_id"].map(labels)
    df["policy_version"] = policy_version
    return (
        df[_COLUMNS]
        .sort_values(["segment", "theme_id", "period_start"], kind="stable")
        .reset_index(drop=True)
    )


def theme_trends(
    items: pd.DataFrame,
    themes: pd.DataFrame,
    policy_version: str,
    params: TrendParams,
) -> pd.DataFrame:
    """`weighted_trends` of the report's items frame (`transforms.weighted_items`) per theme and
    per group of themes, labelled from the themes table (its first_seen dates what is new)."""
    labels = dict(zip(themes["theme_id"], themes["label"], strict=True))
    first_seen = {}
    for tid, fs in zip(themes["theme_id"], themes["first_seen"], strict=True):
        if fs is not None and not pd.isna(fs):
            first_seen[tid] = period_starts(pd.Series([fs]), params.period).iloc[0]
    groups = (
        dict(zip(themes["theme_id"], themes["group_id"], strict=True))
        if "group_id" in themes
        else {}
    )
    # plain columns, without `items.attrs` (pandas deep-copies attrs on every derived frame)
    frame = pd.DataFrame(
        {c: items[c].to_numpy() for c in ("theme_id", "period_start", "weight", "speaker")}
    )
    # a group row only where the group holds more than one theme (else it is the theme itself)
    in_group = {t: g for t, g in groups.items() if isinstance(g, str) and g != t}
    frame["group_id"] = frame["theme_id"].map(in_group).astype(object)
    return weighted_trends(
        frame,
        items.attrs["masks"],
        labels,
        first_seen,
        policy_version,
        params,
        levels={"theme": "theme_id", "group": "group_id"},
    )


def newest_flags(trends: pd.DataFrame) -> pd.DataFrame:
    """Rows of the newest period that carry a flag (emerging, rising, fading)."""
    if trends.empty:
        return trends
    last = trends["period_start"].max()
    return trends[(trends["period_start"] == last) & trends["flag"].notna()]


def _window_sum(series: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Sum of series[..., lo:hi] for each pair (hi exclusive), via cumulative sums on the last axis."""
    c = np.concatenate([np.zeros((*series.shape[:-1], 1)), np.cumsum(series, axis=-1)], axis=-1)
    return c[..., hi] - c[..., lo]


def _level_rows(
    code: np.ndarray,
    uniq: np.ndarray,
    tp: np.ndarray,
    tw: np.ndarray,
    spk: np.ndarray,
    n: np.ndarray,
    nw: np.ndarray,
    nw2: np.ndarray,
    P: int,
    params: TrendParams,
) -> pd.DataFrame:
    """Rows (theme x period, themes sorted, periods ascending) for one segment and level."""
    K, W, B = uniq.size, params.window, params.baseline_periods
    flat = code * P + tp
    x = np.bincount(flat, minlength=K * P).reshape(K, P).astype(float)
    xw = np.bincount(flat, weights=tw, minlength=K * P).reshape(K, P)
    xw2 = np.bincount(flat, weights=tw**2, minlength=K * P).reshape(K, P)
    present = np.flatnonzero(x.sum(axis=1) > 0)
    # distinct speakers per theme and period, and per theme over each window of W periods
    known = spk >= 0
    n_spk = int(spk.max()) + 1 if known.any() else 1
    # distinct (theme, speaker, period), sorted: a plain sort beats np.unique's hashing here
    triple = np.sort((code[known] * n_spk + spk[known]) * P + tp[known])
    triple = triple[np.r_[True, triple[1:] != triple[:-1]]] if triple.size else triple
    pair, period = triple // P, triple % P
    per_period = np.bincount((pair // n_spk) * P + period, minlength=K * P).reshape(K, P)
    # a speaker counts in windows ending at p..p+W-1; a later period of the same speaker only
    # adds the ends its predecessor's windows did not already cover
    same = np.r_[False, pair[1:] == pair[:-1]]
    prev_end = np.r_[0, period[:-1] + W]
    start = np.where(same, np.maximum(period, prev_end), period)
    stop = np.minimum(period + W, P)  # exclusive
    ok = start < stop
    theme = pair // n_spk
    size = K * (P + 1)
    diff = np.bincount(theme[ok] * (P + 1) + start[ok], minlength=size) - np.bincount(
        theme[ok] * (P + 1) + stop[ok], minlength=size
    )
    win_accounts = np.cumsum(diff.reshape(K, P + 1), axis=1)[:, :P]
    x, xw, xw2 = x[present], xw[present], xw2[present]
    ends = np.arange(P)
    lo = np.maximum(0, ends - W + 1)
    b_lo = np.maximum(0, lo - B)
    half = 1.96 * np.sqrt(xw2)
    rep = lambda v: np.broadcast_to(v, x.shape).ravel()  # noqa: E731  (per-period series)
    wsum = lambda v, a, b: _window_sum(np.broadcast_to(v, x.shape), a, b).ravel()  # noqa: E731
    return pd.DataFrame(
        {
            "theme_id": np.repeat(uniq[present], P),
            "period_idx": np.tile(ends, present.size),
            "count": x.ravel().astype(np.int64),
            "unique_accounts": per_period[present].ravel().astype(np.int64),
            "weighted_score": xw.ravel(),
            "effective_n": np.divide(xw**2, xw2, out=np.zeros_like(xw), where=xw2 > 0).ravel(),
            "score_low": np.maximum(xw - half, 0.0).ravel(),
            "score_high": (xw + half).ravel(),
            "share": np.divide(x, n, out=np.zeros_like(x), where=n > 0).ravel(),
            "weighted_share": np.divide(xw, nw, out=np.zeros_like(xw), where=nw > 0).ravel(),
            # window and baseline aggregates (the test's inputs)
            "window_count": wsum(x, lo, ends + 1).astype(np.int64),
            "window_accounts": win_accounts[present].ravel(),
            "_xw": wsum(xw, lo, ends + 1),
            "_nw": wsum(nw, lo, ends + 1),
            "_nw2": wsum(nw2, lo, ends + 1),
            "_n": wsum(n, lo, ends + 1),
            "_x0": wsum(x, b_lo, lo),
            "_n0": wsum(n, b_lo, lo),
            "_xw0": wsum(xw, b_lo, lo),
            "_nw0": wsum(nw, b_lo, lo),
            "_nw20": wsum(nw2, b_lo, lo),
            "_nb": rep((lo - b_lo).astype(float)),
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
