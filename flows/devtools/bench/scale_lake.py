"""A synthetic feedback lake for the scale bench: real schema and layout, precomputed embeddings.

Embeddings are unit 384-d vectors drawn around topic centres arranged like sentence
embeddings: a shared direction (every sentence looks a little alike), product areas whose
topics are related (cosine ~0.5 between sibling topics, ~0.15 across areas), per-topic spread
(cosine ~0.6-0.75 to the centre) and ~8% outliers. Topic sizes follow a Zipf law; texts carry
each topic's words so keywords have something to find. A few trends are planted in the last
weeks: a rise for everyone, a rise only among enterprise accounts, an emerging topic, a fade.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from schemas.feedback import EMBEDDING_DIM, FEEDBACK_SCHEMA

KEY = b"chorus-scale-bench-key"  # the pseudonym key of the synthetic lake (no real customer)
WEEKS = 16
END = np.datetime64("2026-03-29T23:59:59", "s")  # a Sunday: the last week is complete
SOURCES = (  # name, kind, share of items, has an account
    ("support_tickets", "support", 0.38, 0.95),
    ("app_reviews", "review", 0.2, 0.1),
    ("nps_survey", "survey", 0.16, 0.9),
    ("beta_feedback", "beta", 0.1, 0.8),
    ("sales_notes", "internal", 0.06, 1.0),
    ("meeting_notes", "notes", 0.1, 1.0),
)
AREAS = """dashboard export billing invoice login password search filter report chart api webhook
import sync calendar notification email mobile android ios tablet offline upload attachment
permission role sso audit integration slack jira salesforce zapier template workflow automation
comment mention editor table formula spreadsheet pdf print sharing link onboarding tutorial pricing
plan seat trial refund support chat timezone language translation accessibility keyboard
darkmode theme widget embed latency""".split()
ASPECTS = """slow crash freeze timeout error missing broken confusing expensive duplicate wrong blank
laggy stuck failing flaky limit cap delay lost hidden tiny huge cluttered outdated inconsistent
unreadable unsupported disabled overwritten truncated corrupted misaligned stale noisy manual
repetitive unclear locked expired rejected throttled retry bulk custom granular scheduled
realtime""".split()
FILLER = """we our team customers users the when after since every each update release version
again still really quite often always sometimes today morning weekly monthly admin manager sales
workspace project account company colleagues client setup settings page screen button menu
option feature tool process data file list view""".split()
PLANS = (("enterprise", 0.1), ("business", 0.25), ("pro", 0.35), ("free", 0.3))
REGIONS = ("EMEA", "NA", "APAC", "LATAM")
PERSONAS = ("admin", "developer", "analyst", "executive", "end_user")


def bench_config(root: Path) -> dict[str, Any]:
    """The chorus.yaml of the synthetic lake, as a dict for flows.runtime.config.config_from_dict."""
    return {
        "lake": "lake",
        "reports": "reports",
        "base_dir": str(root),
        "sources": [
            {
                "name": n,
                "type": "file_drop",
                "source_kind": k,
                "path": f"inbox/{n}/*.jsonl",
                "format": "jsonl",
            }
            for n, k, _, _ in SOURCES
        ],
        "customers": {"path": "customers.parquet"},
        "segments": [
            {"name": "enterprise", "where": {"plan": "enterprise"}},
            {"name": "mid_market", "where": {"plan": "business"}},
            {"name": "smb", "where": {"plan": "pro"}},
            {"name": "free", "where": {"plan": ["free", None]}},
            {"name": "emea", "where": {"region": "EMEA"}},
        ],
        "personas": [
            {"name": "admins", "where": {"persona": "admin"}},
            {"name": "builders", "where": {"persona": ["developer", "analyst"]}},
        ],
        "weighting": {
            "version": "bench-1",
            "source_kind": {"support": 1.0, "review": 0.6, "survey": 1.0, "beta": 0.8},
            "segment": {"enterprise": 1.5},
            "recency_half_life_days": 60,
        },
        "report": {"period": "week", "min_items": 8, "min_accounts": 3},
    }


@dataclass(frozen=True)
class Planted:
    rising_all: int
    rising_enterprise: int
    emerging: int
    fading: int


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _hex(prefix: str, values: np.ndarray, salt: str, n: int = 24) -> list[str]:
    return [
        prefix + hashlib.sha256(f"{salt}\x1f{v}".encode()).hexdigest()[:n] for v in values.tolist()
    ]


def build_lake(root: Path, n_rows: int, n_topics: int = 240, seed: int = 7) -> dict[str, Any]:
    """Write <root>/lake/feedback/… and <root>/customers.parquet; returns what was planted."""
    from transforms.ids import pseudonym

    rng = np.random.default_rng(seed)
    d = EMBEDDING_DIM
    n_areas = len(AREAS)
    common = _unit(rng.standard_normal((1, d)))[0]
    area_dirs = _unit(rng.standard_normal((n_areas, d)))
    topic_area = np.arange(n_topics) % n_areas
    centres = _unit(
        np.sqrt(0.15) * common
        + np.sqrt(0.35) * area_dirs[topic_area]
        + np.sqrt(0.5) * _unit(rng.standard_normal((n_topics, d)))
    )
    spread = rng.uniform(0.9, 1.3, n_topics).astype(np.float32)  # noise norm: cos 0.61..0.74
    aspects = np.array([rng.choice(len(ASPECTS), 2, replace=False) for _ in range(n_topics)])

    # accounts and the customers table (some accounts changed plan during the period)
    n_acc = max(50, n_rows // 50)
    plan_idx = rng.choice(len(PLANS), n_acc, p=[p for _, p in PLANS])
    raw_ids = np.array([f"acct-{i:06d}" for i in range(n_acc)], dtype=object)
    cust = {
        "account_id": raw_ids,
        "account_name": [f"Company {i}" for i in range(n_acc)],
        "plan": [PLANS[p][0] for p in plan_idx],
        "arr": np.round(rng.lognormal(9.5, 1.2, n_acc) * (1 + 4 * (plan_idx == 0)), 0),
        "region": rng.choice(REGIONS, n_acc, p=[0.35, 0.4, 0.15, 0.1]),
        "lifecycle": rng.choice(["new", "active", "at_risk"], n_acc, p=[0.2, 0.7, 0.1]),
        "persona": rng.choice(PERSONAS, n_acc),
        "target_market": rng.random(n_acc) < 0.3,
        "valid_from": np.full(n_acc, "2025-01-01"),
    }
    customers = pa.table(cust).to_pandas()
    movers = rng.choice(n_acc, n_acc // 20, replace=False)
    moved = customers.iloc[movers].copy()
    moved["plan"] = "enterprise"
    moved["valid_from"] = str(END.astype("datetime64[D]") - np.timedelta64(40, "D"))
    customers = pd.concat([customers, moved], ignore_index=True)
    customers.to_parquet(root / "customers.parquet", index=False)
    acct_pseudo = np.array([pseudonym(a, KEY, "acct") for a in raw_ids], dtype=object)
    enterprise_acct = plan_idx == 0

    # items: source, account, time, then a topic that may depend on time and segment
    src = rng.choice(len(SOURCES), n_rows, p=[s[2] for s in SOURCES])
    activity = 1.0 / np.arange(1, n_acc + 1) ** 0.6
    acc = rng.choice(n_acc, n_rows, p=activity / activity.sum())
    has_acc = rng.random(n_rows) < np.array([s[3] for s in SOURCES])[src]
    secs = rng.integers(0, WEEKS * 7 * 86400, n_rows)
    created = END - (WEEKS * 7 * 86400 - 1) + secs.astype("timedelta64[s]")
    week = secs // (7 * 86400)
    sizes = 1.0 / np.arange(1, n_topics + 1) ** 0.8
    base_p = sizes[rng.permutation(n_topics)]
    # planted trends on mid-sized topics (ranks 10 to 60 by size), visible at any scale
    ranked = np.argsort(-base_p, kind="stable")
    planted = Planted(
        *[int(t) for t in rng.choice(ranked[min(10, n_topics - 4) : 60], 4, replace=False)]
    )
    recent = week >= WEEKS - 4
    ent = has_acc & enterprise_acct[acc]
    topic = np.empty(n_rows, dtype=np.int64)
    for is_recent in (False, True):
        for is_ent in (False, True):
            p = base_p.copy()
            if is_recent:
                p[planted.rising_all] *= 3.0
                p[planted.fading] *= 0.2
                p[planted.emerging] = base_p.max() * 0.3
                if is_ent:
                    p[planted.rising_enterprise] *= 5.0
            else:
                p[planted.emerging] = 0.0
            sel = np.flatnonzero((recent == is_recent) & (ent == is_ent))
            topic[sel] = rng.choice(n_topics, sel.size, p=p / p.sum())
    late = recent & (topic == planted.emerging)
    topic[late & (week < WEEKS - 3)] = planted.rising_all  # emerging: only the last 3 weeks
    topic[rng.random(n_rows) < 0.08] = -1  # outliers: about nothing in particular

    texts = _texts(rng, topic, topic_area, aspects)
    source_id = np.arange(n_rows)
    names = np.array([s[0] for s in SOURCES], dtype=object)
    kinds = np.array([s[1] for s in SOURCES], dtype=object)
    fid = np.array(
        [
            hashlib.sha256(f"{names[s]}\x1f{i}".encode()).hexdigest()[:24]
            for s, i in zip(src.tolist(), source_id.tolist(), strict=True)
        ],
        dtype=object,
    )
    month = created.astype("datetime64[M]").astype(str)
    account = np.where(has_acc, acct_pseudo[acc], None)
    customer = np.array(_hex("cust_", acc * 13 + rng.integers(0, 13, n_rows), "c", 20))
    rating = np.round(rng.uniform(0, 1, n_rows), 2)
    ftype = rng.choice(
        ["bug", "feature_request", "complaint", "praise", "question", "other"], n_rows
    )
    sentiment = rng.choice(["negative", "neutral", "positive"], n_rows, p=[0.45, 0.35, 0.2])
    ts = created.astype("datetime64[us]").astype(np.int64)
    parts = 0
    for s in range(len(SOURCES)):
        for m in np.unique(month[src == s]):
            rows = np.flatnonzero((src == s) & (month == m))
            rows = rows[np.argsort(fid[rows], kind="stable")]
            _write_partition(
                root / "lake" / "feedback" / f"source={names[s]}" / f"created_month={m}",
                rng,
                rows,
                {
                    "feedback_id": fid,
                    "source_kind": kinds[src],
                    "source_id": source_id.astype(str).astype(object),
                    "account_id": account,
                    "customer_id": customer,
                    "created_at": ts,
                    "text": texts,
                    "rating": rating,
                    "feedback_type": ftype,
                    "sentiment": sentiment,
                    "is_internal": kinds[src] == "internal",
                },
                (topic, centres, spread, common),
            )
            parts += 1
    truth = pa.table({"feedback_id": fid, "topic": topic})
    pq.write_table(truth, root / "truth.parquet")
    meta = {
        "rows": n_rows,
        "topics": n_topics,
        "accounts": n_acc,
        "partitions": parts,
        "planted": planted.__dict__,
    }
    (root / "meta.json").write_text(json.dumps(meta))
    return meta


def _texts(
    rng: np.random.Generator, topic: np.ndarray, topic_area: np.ndarray, aspects: np.ndarray
) -> np.ndarray:
    n = topic.size
    filler = np.array(FILLER, dtype=object)
    f = filler[rng.integers(0, len(FILLER), (n, 4))]
    areas = np.array(AREAS, dtype=object)
    asp = np.array(ASPECTS, dtype=object)
    t = np.maximum(topic, 0)
    a_word = np.where(topic >= 0, areas[topic_area[t]], areas[rng.integers(0, len(AREAS), n)])
    w1 = np.where(topic >= 0, asp[aspects[t, 0]], filler[rng.integers(0, len(FILLER), n)])
    w2 = np.where(topic >= 0, asp[aspects[t, 1]], filler[rng.integers(0, len(FILLER), n)])
    out = np.array(
        [
            f"{a} the {b} {c} is {x} {d} and {y} for {e}"
            for a, b, c, x, d, y, e in zip(
                f[:, 0], a_word, f[:, 1], w1, f[:, 2], w2, f[:, 3], strict=True
            )
        ],
        dtype=object,
    )
    junk = rng.random(n) < 0.01
    out[junk] = rng.choice(["ok", "test", "asdf", "n/a", "great"], int(junk.sum()))
    return out


def _write_partition(
    folder: Path,
    rng: np.random.Generator,
    rows: np.ndarray,
    cols: dict[str, np.ndarray],
    geometry: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    topic, centres, spread, common = geometry
    m, d = rows.size, centres.shape[1]
    t = topic[rows]
    noise = rng.standard_normal((m, d), dtype=np.float32) / np.float32(np.sqrt(d))
    inlier = t >= 0
    emb = np.empty((m, d), dtype=np.float32)
    emb[inlier] = centres[t[inlier]] + spread[t[inlier], None] * noise[inlier]
    emb[~inlier] = 0.4 * common + noise[~inlier]
    emb = _unit(emb)
    utc = pa.timestamp("us", tz="UTC")
    text = cols["text"][rows]
    table = {
        "feedback_id": pa.array(cols["feedback_id"][rows], pa.string()),
        "source_kind": pa.array(cols["source_kind"][rows], pa.string()),
        "source_id": pa.array(cols["source_id"][rows], pa.string()),
        "thread_id": pa.nulls(m, pa.string()),
        "account_id": pa.array(cols["account_id"][rows], pa.string()),
        "customer_id": pa.array(cols["customer_id"][rows], pa.string()),
        "created_at": pa.array(cols["created_at"][rows]).cast(utc),
        "updated_at": pa.array(cols["created_at"][rows]).cast(utc),
        "title": pa.nulls(m, pa.string()),
        "text": pa.array(text, pa.string()),
        "rating": pa.array(cols["rating"][rows]),
        "rating_raw": pa.array(cols["rating"][rows] * 4 + 1),
        "rating_scale": pa.array(["1-5"] * m, pa.string()),
        "nps": pa.nulls(m, pa.int8()),
        "tags": pa.nulls(m, pa.list_(pa.string())),
        "url": pa.nulls(m, pa.string()),
        "app_version": pa.array(["4.2.0"] * m, pa.string()),
        "is_internal": pa.array(cols["is_internal"][rows]),
        "ingested_at": pa.array(cols["created_at"][rows]).cast(utc),
        "language": pa.array(["en"] * m, pa.string()),
        "feedback_type": pa.array(cols["feedback_type"][rows], pa.string()),
        "sentiment": pa.array(cols["sentiment"][rows], pa.string()),
        "text_hash": pa.array([hashlib.sha256(x.encode()).hexdigest()[:32] for x in text]),
        "pii_redactions": pa.nulls(m, pa.list_(pa.string())),
        "embedding": pa.FixedSizeListArray.from_arrays(pa.array(emb.reshape(-1)), d),
        "embedding_model": pa.array(["all-MiniLM-L6-v2"] * m, pa.string()),
        "schema_version": pa.array(np.ones(m, dtype=np.int16)),
    }
    stored = pa.schema([f for f in FEEDBACK_SCHEMA if f.name not in ("source", "created_month")])
    os.makedirs(folder, exist_ok=True)
    pq.write_table(pa.table(table).cast(stored), folder / "part-0.parquet", compression="zstd")
