"""The report's content as plain data: top themes with evidence, heat map, representation, fatigue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class ThemeSummary:
    theme_id: str
    label: str
    keywords: list[str]
    count: int
    accounts: int
    weighted: float
    weighted_rank: int
    count_rank: int
    flags: dict[str, str]  # segment -> emerging | rising | fading (newest period)
    drivers: list[str]  # segments that drive it, strongest first
    series: list[float]  # weighted score per period (segment 'all')
    counts: list[int]
    quotes: list[dict[str, Any]]
    sentiment: dict[str, int]
    types: dict[str, int]


@dataclass
class ReportModel:
    title: str
    as_of: str
    periods: list[str]
    window_start: str
    policy_version: str
    totals: dict[str, Any]
    themes: list[ThemeSummary]
    heat: dict[str, dict[str, float]]  # theme_id -> segment -> lift (window share / baseline share)
    segments: list[str]
    representation: list[dict[str, Any]]
    fatigue: list[dict[str, Any]]
    flagged: list[dict[str, Any]] = field(default_factory=list)
    by_type: list[dict[str, Any]] = field(default_factory=list)


def _window_periods(periods: list[Any], window: int) -> list[Any]:
    return periods[-window:] if periods else []


def report_model(
    items: pd.DataFrame,
    trends: pd.DataFrame,
    themes: pd.DataFrame,
    cfg: Any,
    counts: dict[str, Any],
) -> ReportModel:
    periods = sorted(items["period_start"].dropna().unique())
    win = _window_periods(periods, cfg.report.window)
    in_win = items["period_start"].isin(win)
    masks: dict[str, np.ndarray] = items.attrs["masks"]
    segs = list(masks)
    newest = trends[trends["period_start"] == (periods[-1] if periods else None)]
    theme_info = themes.set_index("theme_id") if len(themes) else pd.DataFrame()
    w = items[in_win & items["theme_id"].notna()]
    by_theme = w.groupby("theme_id").agg(
        count=("weight", "size"), weighted=("rank_weight", "sum"), accounts=("speaker", "nunique")
    )
    by_theme["weighted_rank"] = (
        by_theme["weighted"].rank(ascending=False, method="first").astype(int)
    )
    by_theme["count_rank"] = by_theme["count"].rank(ascending=False, method="first").astype(int)
    flagged_ids = set(newest.loc[newest["flag"].notna(), "theme_id"])
    order = sorted(by_theme.index, key=lambda t: by_theme.loc[t, "weighted_rank"])
    chosen = order[: cfg.report.top_themes] + sorted(
        t for t in flagged_ids if t in by_theme.index and t not in order[: cfg.report.top_themes]
    )
    quoted = [
        fid
        for tid in chosen
        if tid in theme_info.index
        for fid in list(theme_info.loc[tid, "representative_ids"])[:3]
    ]
    index = pd.Index(items["feedback_id"])
    if index.is_unique:
        rows_of = index.get_indexer(quoted) if quoted else []
        id_to_row = {fid: int(i) for fid, i in zip(quoted, rows_of, strict=True) if i >= 0}
    else:
        id_to_row = {fid: i for i, fid in enumerate(items["feedback_id"])}
    summaries = []
    for tid in chosen:
        nt = newest[newest["theme_id"] == tid]
        flags = {
            r.segment: r.flag for r in nt.itertuples() if r.flag is not None and not pd.isna(r.flag)
        }
        lifts = {
            r.segment: (r.change + (r.weighted_baseline_share or 0)) / r.weighted_baseline_share
            if r.weighted_baseline_share and r.weighted_baseline_share > 0
            else float("inf")
            for r in nt.itertuples()
            if r.segment != "all"
        }
        drivers = (
            sorted((s for s in lifts if s in flags), key=lambda s: -lifts[s])
            or sorted((s for s in lifts if lifts[s] > 1.2), key=lambda s: -lifts[s])[:2]
        )
        all_rows = trends[(trends["theme_id"] == tid) & (trends["segment"] == "all")].set_index(
            "period_start"
        )
        series = [float(all_rows["weighted_score"].get(p, 0.0)) for p in periods]
        cnts = [int(all_rows["count"].get(p, 0)) for p in periods]
        info = theme_info.loc[tid] if tid in theme_info.index else None
        quotes = []
        for fid in (list(info["representative_ids"]) if info is not None else [])[:3]:
            if fid in id_to_row:
                r = items.iloc[id_to_row[fid]]
                quotes.append(
                    {
                        "feedback_id": fid,
                        "text": _clip(r["text"] or r["title"] or ""),
                        "source": r["source"],
                        "source_id": str(r["source_id"]),
                        "source_kind": r["source_kind"],
                        "date": str(pd.Timestamp(r["created_at"]).date()),
                        "url": r["url"] if isinstance(r["url"], str) else None,
                        "segment": _segments_of(masks, id_to_row[fid]),
                    }
                )
        tw = w[w["theme_id"] == tid]
        summaries.append(
            ThemeSummary(
                tid,
                str(info["label"]) if info is not None else tid,
                list(info["keywords"]) if info is not None else [],
                int(by_theme.loc[tid, "count"]),
                int(by_theme.loc[tid, "accounts"]),
                float(by_theme.loc[tid, "weighted"]),
                int(by_theme.loc[tid, "weighted_rank"]),
                int(by_theme.loc[tid, "count_rank"]),
                flags,
                drivers,
                series,
                cnts,
                quotes,
                tw["sentiment"].value_counts().to_dict(),
                tw["feedback_type"].value_counts().to_dict(),
            )
        )
    heat = {}
    for s in summaries:
        nt = newest[newest["theme_id"] == s.theme_id].set_index("segment")
        heat[s.theme_id] = {seg: _lift(nt, seg) for seg in segs}
    order_flags = {"emerging": 0, "rising": 1, "fading": 2}
    flagged = []
    for r in newest[newest["flag"].notna()].itertuples():
        base = None if pd.isna(r.weighted_baseline_share) else float(r.weighted_baseline_share)
        flagged.append(
            {
                "theme_id": r.theme_id,
                "label": r.theme_label,
                "level": r.level,
                "segment": r.segment,
                "flag": r.flag,
                "count": int(r.window_count),  # items in the window
                "accounts": int(r.window_accounts),
                "share": float(r.change + (base or 0.0)),  # the window's weighted share
                "baseline_share": base,
                "q_value": None if pd.isna(r.q_value) else float(r.q_value),
            }
        )
    group_of = (
        dict(zip(themes["theme_id"], themes["group_id"], strict=True))
        if len(themes) and "group_id" in themes
        else {}
    )
    flagged = distinct_flags(flagged, group_of)
    # what to act on first: new themes, then rises, strongest evidence first; 'all' after its segments
    flagged.sort(
        key=lambda f: (
            order_flags.get(f["flag"], 9),
            f["segment"] == "all",
            f["q_value"] if f["q_value"] is not None else 1.0,
        )
    )
    return ReportModel(
        title="Chorus feedback report",
        as_of=str(pd.Timestamp(items.attrs["as_of"]).date()) if len(items) else "",
        periods=[str(p) for p in periods],
        window_start=str(win[0]) if win else "",
        policy_version=cfg.weighting.version,
        totals={
            **counts,
            "items": int(len(items)),
            "in_window": int(in_win.sum()),
            "themed_share": float(items["theme_id"].notna().mean()) if len(items) else 0.0,
        },
        themes=summaries,
        heat=heat,
        segments=segs,
        representation=representation(
            items,
            in_win.to_numpy(),
            masks,
            items.attrs.get("customers"),
            cfg.report.underrepresented_ratio,
        ),
        fatigue=fatigue(items, cfg.report.fatigue_limit, cfg.report.fatigue_window_days),
        flagged=flagged,
        by_type=type_breakdown(items, in_win.to_numpy(), {t.theme_id: t.label for t in summaries}),
    )


def distinct_flags(flagged: list[dict[str, Any]], group_of: dict[str, Any]) -> list[dict[str, Any]]:
    """The flags worth reading: a group flagged alongside one of its own themes (same segment,
    same flag) says the same thing twice, so the theme's flag stays; a group flag that no single
    theme of it carries stays too: a rise spread over several related themes is the news."""
    theme_keys = {
        (group_of.get(f["theme_id"]), f["segment"], f["flag"])
        for f in flagged
        if f["level"] != "group"
    }
    return [
        f
        for f in flagged
        if f["level"] != "group" or (f["theme_id"], f["segment"], f["flag"]) not in theme_keys
    ]


def _lift(nt: pd.DataFrame, seg: str) -> float:
    if seg not in nt.index:
        return float("nan")
    r = nt.loc[seg]
    base = r["weighted_baseline_share"]
    if pd.isna(base) or base <= 0:
        return float("nan")
    return float((r["change"] + base) / base)


def _segments_of(masks: dict[str, np.ndarray], i: int) -> list[str]:
    return [s for s, m in masks.items() if s != "all" and m[i]]


def _clip(text: str, n: int = 280) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + "…"


def representation(
    items: pd.DataFrame,
    in_window: np.ndarray,
    masks: dict[str, np.ndarray],
    customers: pd.DataFrame | None,
    ratio_limit: float,
) -> list[dict[str, Any]]:
    """Each segment's share of customer feedback in the window against its share of accounts."""
    from transforms.segments import segment_masks

    voice = in_window & ~items["is_internal"].fillna(False).to_numpy(bool)
    known = voice & items["acct_known"].fillna(False).to_numpy(bool)
    rows = []
    latest = (
        customers.drop_duplicates("account_id", keep="last")
        if customers is not None and len(customers)
        else None
    )
    base_masks = (
        segment_masks(latest.reset_index(drop=True), _segment_rules(masks, items))
        if latest is not None
        else {}
    )
    for seg, mask in masks.items():
        if seg == "all":
            continue
        fshare = float((mask & known).sum() / known.sum()) if known.sum() else 0.0
        bshare = (
            float(base_masks[seg].mean()) if seg in base_masks and len(latest) else float("nan")
        )
        ratio = fshare / bshare if bshare and bshare > 0 else float("nan")
        mix = items.loc[mask & voice, "source_kind"].value_counts().to_dict()
        rows.append(
            {
                "segment": seg,
                "feedback_items": int((mask & voice).sum()),
                "feedback_share": fshare,
                "customer_share": bshare,
                "ratio": ratio,
                "under_represented": bool(ratio == ratio and ratio < ratio_limit),
                "source_mix": {k: int(v) for k, v in sorted(mix.items())},
            }
        )
    return rows


def _segment_rules(masks: dict[str, np.ndarray], items: pd.DataFrame) -> list[Any]:
    return items.attrs.get("segment_rules", [])


def fatigue(items: pd.DataFrame, limit: int, window_days: int) -> list[dict[str, Any]]:
    """Customers (the account, else the respondent) who answered surveys more than `limit` times
    in the last `window_days`: an account surveyed through several people is asked too often too."""
    cols = ["source_kind", "speaker", "created_at", "feedback_id", "source"]
    frame = items[[*cols, "acct_account_name", "acct_plan"]]
    frame.attrs = {}  # pandas deep-copies attrs (the segment masks) into every derived frame
    surveys = frame[(frame["source_kind"] == "survey") & frame["speaker"].notna()]
    if surveys.empty:
        return []
    end = pd.to_datetime(frame["created_at"], utc=True).max()
    recent = surveys[
        pd.to_datetime(surveys["created_at"], utc=True) > end - pd.Timedelta(days=window_days)
    ]
    counts = recent.groupby("speaker").agg(
        n=("feedback_id", "size"),
        account=("acct_account_name", "first"),
        plan=("acct_plan", "first"),
    )
    over = counts[counts["n"] > limit].sort_values(["n"], ascending=False)
    # the sources only of those over the limit (a Python aggregation per customer is slow)
    pairs = recent.loc[recent["speaker"].isin(over.index), ["speaker", "source"]]
    pairs = pairs.drop_duplicates().sort_values(["speaker", "source"])
    over["sources"] = pairs.groupby("speaker")["source"].agg(list).reindex(over.index)
    return [
        {
            "customer_id": cid,
            "responses": int(r.n),
            "account": None if pd.isna(r.account) else str(r.account),
            "plan": None if pd.isna(r.plan) else str(r.plan),
            "sources": r.sources,
        }
        for cid, r in over.iterrows()
    ]


def type_breakdown(
    items: pd.DataFrame, in_window: np.ndarray, labels: dict[str, str]
) -> list[dict[str, Any]]:
    """Per feedback type in the window: items, weighted share, negative share, and its top themes."""
    win = items[in_window]
    total_w = float(win["rank_weight"].sum()) or 1.0
    rows = []
    for ftype, grp in win.groupby("feedback_type", sort=True):
        top = (
            grp.dropna(subset=["theme_id"])
            .groupby("theme_id")["rank_weight"]
            .sum()
            .sort_values(ascending=False)
        )
        rows.append(
            {
                "type": str(ftype),
                "items": int(len(grp)),
                "weighted_share": float(grp["rank_weight"].sum()) / total_w,
                "negative": float((grp["sentiment"] == "negative").mean()),
                "top_themes": [labels.get(t, t) for t in top.index[:3]],
            }
        )
    return sorted(rows, key=lambda r: -r["weighted_share"])
