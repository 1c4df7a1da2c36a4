"""Run the planted-trend scenario through the real pipeline and score the report's flags.

A flag names a theme (or a group of themes) and a segment; it stands for the intent most of
that theme's items carry. A planted change is found when a flag of the right kind names its
intent in its segment in the newest week. A flag is correct when it names a planted change, or
the same change seen in a segment that also holds the accounts that carry it ("all", a region);
every other flag is false, and a flag on a decoy fails the decoy. The null scenario counts how
many of the tested rows (theme x segment x week) were flagged at all.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flows.devtools.trend_scenario import WEEKS, Scenario, deliver

FLAGS = ("rising", "emerging", "fading")


def run_pipeline(scenario: Scenario, mode: str) -> float:
    """All weeks at once (`batch`) or one run per week (`weekly`); seconds spent."""
    from flows.pipeline import pipeline

    os.environ.setdefault("CHORUS_PSEUDONYM_KEY", "eval-key-not-a-secret")
    t0 = time.monotonic()
    if mode == "batch":
        deliver(scenario, WEEKS)
        pipeline(str(scenario.config))
    else:
        for week in range(1, WEEKS + 1):
            deliver(scenario, week)
            pipeline(str(scenario.config))
    return time.monotonic() - t0


def themed_items(lake: Path, truth_dir: Path) -> pd.DataFrame:
    """One row per item: its planted intent and role, its theme and its theme's group."""
    truth = pd.read_csv(truth_dir / "items.csv", dtype=str, keep_default_na=False)
    fb = pd.read_parquet(lake / "feedback", columns=["feedback_id", "source_id"])
    asg = pd.read_parquet(lake / "assignments", columns=["feedback_id", "theme_id"])
    themes = pd.read_parquet(lake / "themes", columns=["theme_id", "group_id"])
    items = truth.merge(fb, on="source_id", how="left").merge(asg, on="feedback_id", how="left")
    return items.merge(themes, on="theme_id", how="left")


def majority_intent(items: pd.DataFrame) -> dict[str, str]:
    """theme or group id -> the intent most of its items carry."""
    out: dict[str, str] = {}
    for key in ("group_id", "theme_id"):
        sub = items.dropna(subset=[key])
        if len(sub):
            out.update(sub.groupby(key)["intent"].agg(lambda s: s.value_counts().index[0]))
    return out


def newest_flags(lake: Path) -> pd.DataFrame:
    trends = pd.read_parquet(lake / "trends")
    newest = trends[trends["period_start"] == trends["period_start"].max()]
    return newest[newest["flag"].isin(FLAGS)]


def score(scenario: Scenario) -> dict[str, Any]:
    """Recall, precision and decoys for one scenario's lake (see the module docstring)."""
    lake, truth = scenario.root / "lake", scenario.truth
    items = themed_items(lake, scenario.root / "truth")
    intent_of = majority_intent(items)
    flags = newest_flags(lake)
    judged = set(truth["segments"])
    flags = flags[flags["segment"].isin(judged)]
    regions = {"all", "emea"}  # segments that also hold the accounts carrying a segment's change
    expected: set[tuple[str, str, str]] = set()
    tolerated: set[tuple[str, str, str]] = set()
    for intent, segs in truth.get("rising", {}).items():
        for seg in segs:
            expected.add((intent, seg, "rising"))
            tolerated |= {(intent, r, k) for r in regions for k in ("rising", "emerging")}
            tolerated.add((intent, seg, "emerging"))
    for intent in truth.get("emerging", []):
        expected.add((intent, "all", "emerging"))
        tolerated |= {(intent, s, k) for s in judged for k in ("rising", "emerging")}
    for intent in truth.get("fading", []):
        expected.add((intent, "all", "fading"))
        tolerated |= {(intent, s, "fading") for s in judged}
    decoys = set(truth.get("decoys", {}).values())
    predicted = [
        (intent_of.get(r.theme_id, "?"), r.segment, r.flag, r.level, r.theme_id)
        for r in flags.itertuples()
    ]
    found = {(i, s, f) for i, s, f, _, _ in predicted}
    ok = expected | tolerated
    correct = [p for p in predicted if p[:3] in ok]
    false = sorted({p[:4] for p in predicted if p[:3] not in ok})
    decoy_flags = sorted({p[:4] for p in predicted if p[0] in decoys and p[2] != "fading"})
    return {
        "expected": len(expected),
        "hits": len(expected & found),
        "missed": sorted(expected - found),
        "flags": len(predicted),
        "correct": len(correct),
        "false_flags": false,
        "decoy_flags": decoy_flags,
        "group_flags": sum(1 for p in predicted if p[3] == "group"),
    }


def null_flag_rate(scenario: Scenario) -> tuple[int, int]:
    """(flagged rows, tested rows) over every week: rows with a q-value were tested."""
    trends = pd.read_parquet(scenario.root / "lake" / "trends")
    tested = trends["q_value"].notna()
    return int(trends.loc[tested, "flag"].isin(FLAGS).sum()), int(tested.sum())


def assignment_agreement(a: Scenario, b: Scenario) -> float:
    """NMI between two runs' theme assignments of the same items (unassigned is one label)."""
    from sklearn.metrics import normalized_mutual_info_score

    left = pd.read_parquet(a.root / "lake" / "assignments").set_index("feedback_id")["theme_id"]
    right = pd.read_parquet(b.root / "lake" / "assignments").set_index("feedback_id")["theme_id"]
    both = left.index.intersection(right.index)
    x = left.reindex(both).fillna("-").to_numpy()
    y = right.reindex(both).fillna("-").to_numpy()
    return float(normalized_mutual_info_score(x, y)) if len(both) else float("nan")


def pooled(scores: list[dict[str, Any]]) -> tuple[float, float]:
    """(recall, precision) pooled over runs."""
    hits = sum(s["hits"] for s in scores)
    expected = sum(s["expected"] for s in scores)
    correct = sum(s["correct"] for s in scores)
    flags = sum(s["flags"] for s in scores)
    recall = hits / expected if expected else float("nan")
    precision = correct / flags if flags else float("nan")
    return recall, precision


def mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")
