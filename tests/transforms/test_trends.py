from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import numpy as np
import pandas as pd

from transforms.segments import attributes_as_of, customers_frame, segment_masks
from transforms.trends import TrendParams, benjamini_hochberg, weighted_trends
from transforms.weights import base_weights, recency_factors, repeat_factors


def _items(weeks: int = 12, seed: int = 0) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Three themes over two segments; theme 'sso' triples in 'ent' in the last 4 weeks."""
    rng = np.random.default_rng(seed)
    rows = []
    start = date(2026, 8, 31)
    for w in range(weeks):
        period = start + timedelta(weeks=w)
        for seg in ("ent", "smb"):
            for theme, rate in (("sso", 6), ("export", 10), ("slow", 10)):
                lam = rate * (3 if (theme == "sso" and seg == "ent" and w >= weeks - 4) else 1)
                for _ in range(rng.poisson(lam)):
                    rows.append(
                        {
                            "theme_id": theme,
                            "period_start": period,
                            "weight": 1.0,
                            "speaker": f"{seg}-{rng.integers(40)}",
                            "seg": seg,
                        }
                    )
    df = pd.DataFrame(rows)
    masks = {
        "all": np.ones(len(df), bool),
        "ent": (df["seg"] == "ent").to_numpy(),
        "smb": (df["seg"] == "smb").to_numpy(),
    }
    return df, masks


def test_planted_rise_is_flagged_only_where_it_happens() -> None:
    df, masks = _items()
    trends = weighted_trends(
        df, masks, {"sso": "SSO"}, {}, "v1", TrendParams(min_items=5, min_accounts=3)
    )
    last = trends[trends["period_start"] == trends["period_start"].max()]
    flagged = {(r.theme_id, r.segment) for r in last.itertuples() if r.flag == "rising"}
    assert ("sso", "ent") in flagged
    assert not any(seg == "smb" for _, seg in flagged)
    assert not any(theme != "sso" for theme, _ in flagged)
    row = last[(last.theme_id == "sso") & (last.segment == "ent")].iloc[0]
    assert row.policy_version == "v1" and row.q_value < 0.05 and row.share > row.baseline_share


def test_minimum_volume_guard_stops_three_items_making_a_trend() -> None:
    periods = [date(2026, 8, 31) + timedelta(weeks=w) for w in range(12)]
    rows = [
        {"theme_id": "bulk", "period_start": p, "weight": 1.0, "speaker": f"a{i}"}
        for p in periods
        for i in range(30)
    ]
    rows += [
        {"theme_id": "tiny", "period_start": periods[-1], "weight": 1.0, "speaker": f"t{i}"}
        for i in range(3)
    ]
    df = pd.DataFrame(rows)
    trends = weighted_trends(
        df, {"all": np.ones(len(df), bool)}, {}, {}, "v1", TrendParams(min_items=8)
    )
    assert trends[trends.theme_id == "tiny"]["flag"].isna().all()


def test_weighted_score_interval_and_effective_n() -> None:
    df = pd.DataFrame(
        {
            "theme_id": ["a"] * 4,
            "period_start": [date(2026, 9, 7)] * 4,
            "weight": [1.0, 1.0, 1.0, 5.0],
            "speaker": list("wxyz"),
        }
    )
    t = weighted_trends(df, {"all": np.ones(4, bool)}, {}, {}, "v", TrendParams()).iloc[0]
    assert t.weighted_score == 8.0 and t.unique_accounts == 4
    assert abs(t.effective_n - 64 / 28) < 1e-9 and t.score_low < 8 < t.score_high


def test_benjamini_hochberg_matches_hand_computation() -> None:
    q = benjamini_hochberg(np.array([0.01, 0.04, 0.03, np.nan, 0.5]))
    assert np.allclose(q[[0, 1, 2, 4]], [0.04, 0.0533333, 0.0533333, 0.5])
    assert np.isnan(q[3])


def test_weights_favour_target_market_and_discount_internal_and_repeats() -> None:
    policy = SimpleNamespace(
        source_kind={"support": 1.0, "internal": 0.2},
        target_market=2.0,
        internal=0.2,
        arr_log_base=10000.0,
        recency_half_life_days=30.0,
    )
    w = base_weights(
        ["support", "support", "internal"],
        [False, False, True],
        [True, False, True],
        [100000, 0, 100000],
        [1, 1, 1],
        policy,
    )
    assert w[0] > 2 * w[1] and w[2] < 0.1 * w[0]
    assert np.allclose(recency_factors([0, 30, 60], 30.0), [1.0, 0.5, 0.25])
    assert np.allclose(recency_factors([0, 30], None), [1.0, 1.0])
    f = repeat_factors(["a", "a", "a", "b", None, None], ["g"] * 6, 0.5)
    assert np.allclose(f, [1.75 / 3, 1.75 / 3, 1.75 / 3, 1.0, 1.0, 1.0])
    assert np.allclose(repeat_factors(["a", "a"], ["g1", "g2"], 0.5), [1.0, 1.0])  # per group


def test_a_repeater_gains_nothing_by_spreading_over_themes() -> None:
    """Forty items from one speaker in a period count the same in all, in one theme or in four."""
    speaker = ["rep"] * 40 + [f"c{i}" for i in range(20)]
    period = ["w1"] * 60
    f = repeat_factors(speaker, period, 0.5)
    one_theme = f[:40].sum()
    themes = np.array([i % 4 for i in range(40)])
    per_theme = [f[:40][themes == t].sum() for t in range(4)]
    assert np.isclose(one_theme, sum(per_theme)) and one_theme < 2.0
    assert max(per_theme) < 0.6  # no theme sees the repeater as more than a fraction of a voice
    assert np.allclose(f[40:], 1.0)


def test_customers_are_joined_as_of_the_feedback_date_and_segments_apply() -> None:
    cust = customers_frame(
        pd.DataFrame(
            {
                "account_id": ["a", "a", "b"],
                "plan": ["pro", "enterprise", "free"],
                "region": ["EMEA", "EMEA", "NA"],
                "valid_from": ["2026-01-01", "2026-06-01", "2026-01-01"],
            }
        )
    )
    attrs = attributes_as_of(
        ["a", "a", "b", None, "zzz"],
        pd.to_datetime(
            ["2026-03-01", "2026-07-01", "2026-03-01", "2026-03-01", "2026-03-01"], utc=True
        ),
        cust,
    )
    assert attrs["plan"].tolist()[:3] == ["pro", "enterprise", "free"]
    assert not attrs["known"][3] and not attrs["known"][4]
    seg = SimpleNamespace
    masks = segment_masks(
        attrs,
        [
            seg(name="ent", where={"plan": "enterprise"}),
            seg(name="free", where={"plan": ["free", None]}),
            seg(name="emea", where={"region": "EMEA"}),
        ],
    )
    assert masks["ent"].tolist() == [False, True, False, False, False]
    assert masks["free"].tolist() == [False, False, True, True, True]
    assert masks["emea"].tolist() == [True, True, False, False, False]


def test_fatigue_counts_survey_answers_per_account_within_the_window() -> None:
    from transforms.report_model import fatigue

    now = pd.Timestamp("2026-11-20", tz="UTC")
    rows = [
        {
            "feedback_id": f"a{i}",
            "source_kind": "survey",
            "source": "nps",
            "speaker": "acct_a",
            "created_at": now - pd.Timedelta(days=3 * i),
            "acct_account_name": "Acme",
            "acct_plan": "pro",
        }
        for i in range(6)
    ]
    rows += [
        {
            "feedback_id": f"b{i}",
            "source_kind": "survey",
            "source": "nps",
            "speaker": "acct_b",
            "created_at": now - pd.Timedelta(days=20 * i),
            "acct_account_name": "Beta",
            "acct_plan": "free",
        }
        for i in range(6)
    ]
    rows += [
        {
            "feedback_id": f"c{i}",
            "source_kind": "support",
            "source": "zd",
            "speaker": "acct_c",
            "created_at": now,
            "acct_account_name": "C",
            "acct_plan": "pro",
        }
        for i in range(9)
    ]
    listed = fatigue(pd.DataFrame(rows), limit=4, window_days=30)
    assert [(f["customer_id"], f["responses"], f["account"]) for f in listed] == [
        ("acct_a", 6, "Acme")
    ]


def test_accounts_by_domain_names_only_unambiguous_domains() -> None:
    from transforms.segments import accounts_by_domain

    cust = customers_frame(
        pd.DataFrame(
            {
                "account_id": ["a", "a", "b", "c"],
                "domains": [
                    "acme.example",
                    "acme.example",
                    "beta.example; shared.example",
                    "shared.example",
                ],
            }
        )
    )
    assert accounts_by_domain(cust) == {"acme.example": "a", "beta.example": "b"}
    assert accounts_by_domain(customers_frame(pd.DataFrame({"account_id": ["x"]}))) == {}
