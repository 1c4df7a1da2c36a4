"""The vectorised trend, weight and segment paths against plain per-row reference computations,
and the scale bench's timed path on a small synthetic lake."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from flows.devtools.bench.scale import _child, _print, check
from flows.devtools.bench.scale_lake import build_lake
from transforms.segments import segment_masks
from transforms.trends import TrendParams, weighted_trends
from transforms.weights import base_weights, repeat_factors


def _random_items(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    periods = [date(2026, 1, 5) + timedelta(weeks=w) for w in range(14)]
    speakers = np.array([f"acct_{i}" for i in rng.integers(0, 60, n)], dtype=object)
    speakers[rng.random(n) < 0.1] = None
    themes = np.array([f"th_{i}" for i in rng.integers(0, 7, n)], dtype=object)
    themes[rng.random(n) < 0.1] = None
    df = pd.DataFrame(
        {
            "theme_id": themes,
            "period_start": [periods[i] for i in rng.integers(0, len(periods), n)],
            "weight": rng.uniform(0.1, 3.0, n),
            "speaker": speakers,
        }
    )
    df["group_id"] = df["theme_id"].map({"th_1": "grp_a", "th_2": "grp_a", "th_5": "grp_b"})
    masks = {
        "all": np.ones(n, dtype=bool),
        "a": rng.random(n) < 0.4,
        "b": rng.random(n) < 0.7,
        "empty": np.zeros(n, dtype=bool),
    }
    return df, masks


def test_account_counts_match_sets_per_theme_segment_and_window() -> None:
    df, masks = _random_items()
    params = TrendParams(window=3, baseline_periods=4)
    out = weighted_trends(
        df, masks, {}, {}, "v", params, levels={"theme": "theme_id", "group": "group_id"}
    )
    periods = sorted(df["period_start"].unique())
    checked = 0
    for (key, seg), rows in out.groupby(["theme_id", "segment"]):
        column = "group_id" if key.startswith("grp_") else "theme_id"
        mine = df[masks[seg] & (df[column] == key).to_numpy()]
        assert len(rows) == len(periods)
        for r in rows.itertuples():
            p = periods.index(r.period_start)
            here = mine[mine["period_start"] == r.period_start]
            window = mine[mine["period_start"].isin(periods[max(0, p - 2) : p + 1])]
            assert r.count == len(here)
            assert r.unique_accounts == here["speaker"].dropna().nunique()
            assert r.window_count == len(window)
            assert r.window_accounts == window["speaker"].dropna().nunique()
            assert np.isclose(r.weighted_score, here["weight"].sum())
            checked += 1
    assert checked == len(out) and "empty" not in set(out["segment"])
    assert set(out["theme_id"]) == {*df["theme_id"].dropna(), "grp_a", "grp_b"}


def test_repeat_factors_match_a_plain_count_per_speaker_and_group() -> None:
    rng = np.random.default_rng(1)
    n = 2000
    speaker = [None if rng.random() < 0.1 else f"s{rng.integers(0, 40)}" for _ in range(n)]
    group = [f"g{rng.integers(0, 5)}" for _ in range(n)]
    got = repeat_factors(speaker, group, 0.5)
    count: dict[tuple[str, str], int] = {}
    for i in range(n):
        if speaker[i] is not None:
            count[(group[i], speaker[i])] = count.get((group[i], speaker[i]), 0) + 1
    want = np.ones(n)
    for i in range(n):
        if speaker[i] is not None:
            k = count[(group[i], speaker[i])]
            want[i] = sum(0.5**j for j in range(k)) / k
    assert np.allclose(got, want)


def test_segment_rules_are_decided_per_value_like_per_row() -> None:
    attrs = pd.DataFrame(
        {
            "plan": pd.array(["Pro", "free", None, "enterprise", "pro", None], dtype="string"),
            "arr": [10.0, np.nan, 5.0, 10.0, 0.0, np.nan],
            "target_market": [True, False, None, True, np.nan, False],
            "region": ["EMEA", "NA", "EMEA", None, "emea", "NA"],
        }
    )
    rule = SimpleNamespace
    masks = segment_masks(
        attrs,
        [
            rule(name="pro", where={"plan": "pro"}),
            rule(name="free", where={"plan": ["free", None]}),
            rule(name="big", where={"arr": 10}),
            rule(name="tm_emea", where={"target_market": True, "region": "EMEA"}),
        ],
    )
    assert masks["pro"].tolist() == [True, False, False, False, True, False]
    assert masks["free"].tolist() == [False, True, True, False, False, True]
    assert masks["big"].tolist() == [True, False, False, True, False, False]
    assert masks["tm_emea"].tolist() == [True, False, False, False, False, False]


def test_base_weights_by_kind_with_unknown_and_missing_kinds() -> None:
    policy = SimpleNamespace(
        source_kind={"support": 1.0, "review": 0.5},
        target_market=2.0,
        internal=0.2,
        arr_log_base=None,
    )
    w = base_weights(
        ["support", "review", "survey", None],
        [False] * 4,
        [False] * 4,
        [0.0] * 4,
        [1.0] * 4,
        policy,
    )
    assert w.tolist() == [1.0, 0.5, 1.0, 1.0]


def test_scale_bench_path_on_a_small_lake(tmp_path: Path, capsys) -> None:
    meta = build_lake(tmp_path, 6000, n_topics=30, seed=5)
    assert meta["rows"] == 6000 and meta["partitions"] >= 6
    res = _child(tmp_path)
    assert res["themes"] >= 20 and res["trend_rows"] > 0 and res["peak_gb"] > 0
    assert res["total_s"] == res["themes_s"] + res["items_s"] + res["trends_s"]
    quality = check(tmp_path)
    assert quality["nmi"] > 0.85 and set(quality["planted"]) == {
        "rising_all",
        "rising_enterprise",
        "emerging",
        "fading",
    }
    res.update(load_before=1.0, load_after=1.0)
    bt = [{"rows": 1000, "seconds": 10.0, "done": True, "why": ""}]
    bt.append({"rows": 2000, "seconds": float("nan"), "done": False, "why": "timeout"})
    _print(6000, res, quality, bt, 60.0)
    out = capsys.readouterr().out
    assert "themes + trends" in out and "ratio" in out and "timeout" in out


def test_bertopic_reference_stops_at_the_first_sample_past_the_cap(monkeypatch) -> None:
    import json

    import flows.devtools.bench.scale as scale

    seconds = {1000: 10.0, 2000: 16.0, 4000: 70.0, 8000: 90.0}
    calls: list[int] = []

    def fake_run(cmd, **kwargs):
        n = int(cmd[-1])
        calls.append(n)
        return SimpleNamespace(stdout=json.dumps({"rows": n, "seconds": seconds[n]}))

    monkeypatch.setattr(scale.subprocess, "run", fake_run)
    runs = scale.bertopic_reference(Path("unused"), (1000, 2000, 4000, 8000), cap=60.0)
    assert calls == [1000, 2000, 4000]
    assert [r["done"] for r in runs] == [True, True, False]
    # growth so far predicts far past the cap: not even started
    seconds[2000] = 45.0
    calls.clear()
    runs = scale.bertopic_reference(Path("unused"), (1000, 2000, 4000, 8000), cap=60.0)
    assert calls == [1000, 2000] and runs[-1]["why"].startswith("not run")
