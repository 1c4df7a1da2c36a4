"""`make eval`: theme quality on labeled data against BERTopic, planted-trend recall/precision, stable ids.

Prints a table per part and ends with one line:
eval: nmi=… bertopic_nmi=… unassigned=… trend_recall=… trend_precision=… stable_ids=yes|no
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


def clinc_items(path: Path, oos: int = 1000) -> tuple[list[str], list[str]]:
    """CLINC150 test split (4,500 in-scope requests, 150 intents) plus out-of-scope requests."""
    data = json.loads((path / "data_full.json").read_text())
    rows = data["test"] + data["oos_test"][:oos]
    return [t for t, _ in rows], [label for _, label in rows]


def theme_quality(
    texts: list[str], labels: list[str], embeddings: np.ndarray, seed: int = 42
) -> dict[str, Any]:
    """Chorus themes and BERTopic on the same embeddings: NMI/ARI on in-scope items, unassigned shares."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from transforms.themes import ThemeParams, themed

    ids = [f"clinc-{i:05d}" for i in range(len(texts))]
    inscope = np.array([lab != "oos" for lab in labels])
    truth = [lab for lab, ok in zip(labels, inscope, strict=True) if ok]
    t0 = time.monotonic()
    ours = themed(ids, embeddings, params=ThemeParams(seed=seed))
    ours_s = time.monotonic() - t0
    ours_labels = np.array([a or "-1" for a in ours.assignment])
    out: dict[str, Any] = {
        "items": len(texts),
        "intents": len(set(truth)),
        "nmi": normalized_mutual_info_score(truth, ours_labels[inscope]),
        "ari": adjusted_rand_score(truth, ours_labels[inscope]),
        "unassigned": float(np.mean(ours_labels == "-1")),
        "oos_unassigned": float(np.mean(ours_labels[~inscope] == "-1"))
        if (~inscope).any()
        else float("nan"),
        "themes": len(ours.themes.ids),
        "seconds": ours_s,
    }
    try:
        from bertopic import BERTopic
        from hdbscan import HDBSCAN
        from umap import UMAP
    except ImportError as exc:  # pragma: no cover - make eval installs it
        raise SystemExit(
            f"BERTopic is not installed ({exc}); run `make eval`, which installs requirements-eval.lock"
        ) from None
    t0 = time.monotonic()
    model = BERTopic(
        umap_model=UMAP(
            n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed
        ),
        hdbscan_model=HDBSCAN(
            min_cluster_size=10,
            metric="euclidean",
            cluster_selection_method="eom",
            prediction_data=True,
        ),
    )
    topics, _ = model.fit_transform(texts, embeddings)
    bt = np.array(topics)
    out.update(
        {
            "bertopic_nmi": normalized_mutual_info_score(truth, bt[inscope]),
            "bertopic_ari": adjusted_rand_score(truth, bt[inscope]),
            "bertopic_unassigned": float(np.mean(bt == -1)),
            "bertopic_oos_unassigned": float(np.mean(bt[~inscope] == -1))
            if (~inscope).any()
            else float("nan"),
            "bertopic_themes": int(len(set(topics) - {-1})),
            "bertopic_seconds": time.monotonic() - t0,
        }
    )
    return out


def planted_trend_scores(demo_dir: Path) -> dict[str, Any]:
    """Recall and precision of rising/emerging flags per segment against the generator's planted truth."""
    planted = json.loads((demo_dir / "truth" / "planted.json").read_text())
    truth_items = pd.read_csv(demo_dir / "truth" / "items.csv", dtype=str, keep_default_na=False)
    lake = demo_dir / "lake"
    fb = pd.read_parquet(lake / "feedback", columns=["feedback_id", "source", "source_id"])
    fb["source"] = fb["source"].astype(str)
    asg = pd.read_parquet(lake / "assignments")
    trends = pd.read_parquet(lake / "trends")
    items = fb.merge(
        truth_items[["source", "source_id", "theme"]], on=["source", "source_id"], how="left"
    ).merge(asg, on="feedback_id")
    # each Chorus theme stands for the planted theme most of its items carry
    themed_items = items.dropna(subset=["theme_id"])
    themes = pd.read_parquet(lake / "themes", columns=["theme_id", "group_id"])
    group_of = dict(zip(themes["theme_id"], themes["group_id"], strict=True))
    themed_items = themed_items.assign(group_id=themed_items["theme_id"].map(group_of))
    top = lambda s: s.value_counts().index[0]  # noqa: E731
    majority = pd.concat(
        [
            themed_items.groupby("theme_id")["theme"].agg(top),
            themed_items.dropna(subset=["group_id"]).groupby("group_id")["theme"].agg(top),
        ]
    )
    majority = majority[~majority.index.duplicated()]
    newest = trends[trends["period_start"] == trends["period_start"].max()]
    # only segments the generator defines can be judged (persona breakdowns have no planted truth)
    judged = set(planted["segments"])
    flags = newest[newest["flag"].isin(["rising", "emerging"]) & newest["segment"].isin(judged)]
    predicted = {
        (majority.get(r.theme_id, "?"), r.segment, r.theme_id, r.flag) for r in flags.itertuples()
    }
    expected, tolerated = set(), set()
    for t in planted["trends"]:
        if t.get("expect_flag") in ("rising", "emerging"):
            expected |= {(t["theme"], s) for s in t["segments"]}
            tolerated |= {(t["theme"], s) for s in t.get("also_affected", [])}
    found = {(theme, seg) for theme, seg, _, _ in predicted}
    hits = expected & found
    correct = [p for p in predicted if (p[0], p[1]) in expected | tolerated]
    wrong = sorted(
        {(p[0], p[1], p[3]) for p in predicted if (p[0], p[1]) not in expected | tolerated}
    )
    return {
        "expected": sorted(expected),
        "missed": sorted(expected - found),
        "false_flags": wrong,
        "recall": len(hits) / len(expected) if expected else float("nan"),
        "precision": len(correct) / len(predicted) if predicted else float("nan"),
        "flags": len(predicted),
    }


def stable_ids(demo_dir: Path, config: Path) -> dict[str, Any]:
    """The same data themed twice from scratch gives identical ids; a re-run on the same lake changes nothing."""
    from flows.analysis import update_themes
    from flows.lake.store import Lake
    from flows.runtime.config import load_config

    lake_dir = demo_dir / "lake"
    original = pd.read_parquet(lake_dir / "assignments").set_index("feedback_id")["theme_id"]
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "lake"
        shutil.copytree(lake_dir / "feedback", copy / "feedback")
        cfg = load_config(config, overrides={"lake": str(copy)})
        update_themes(Lake(str(copy)), cfg)
        fresh = pd.read_parquet(copy / "assignments").set_index("feedback_id")["theme_id"]
        update_themes(Lake(str(copy)), cfg)
        rerun = pd.read_parquet(copy / "assignments").set_index("feedback_id")["theme_id"]
    same_fresh = original.sort_index().fillna("-").equals(fresh.sort_index().fillna("-"))
    same_rerun = fresh.sort_index().fillna("-").equals(rerun.sort_index().fillna("-"))
    return {"fresh_identical": bool(same_fresh), "rerun_identical": bool(same_rerun)}


def run_demo(out: Path, seed: int, n_items: int) -> Path:
    from flows.cli.main import _run_step
    from flows.devtools.demo import generate_demo, run_demo_sandbox

    manifest = generate_demo(out, seed=seed, n_items=n_items)
    os.environ.setdefault("CHORUS_PSEUDONYM_KEY", "eval-key-not-a-secret")
    with run_demo_sandbox(manifest) as config:  # through the vendor sandbox and the real connectors
        _run_step(str(config), "pipeline")
    return manifest.config_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=str(SHARED), help="folder holding clinc150/")
    parser.add_argument(
        "--seeds", default="7,8", help="demo generator seeds for the trend evaluation"
    )
    parser.add_argument("--items", type=int, default=6000)
    parser.add_argument("--out", default=".eval")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("CHORUS_PROGRESS", "0")
    from transforms.embed import Embedder

    texts, labels = clinc_items(Path(args.datasets) / "clinc150")
    t0 = time.monotonic()
    emb = Embedder().encode(texts)
    print(f"embedded {len(texts):,} CLINC150 texts in {time.monotonic() - t0:.0f} s")
    q = theme_quality(texts, labels, emb)
    print("\n## Themes on CLINC150 (Larson et al., EMNLP 2019; CC BY 3.0), same MiniLM embeddings")
    print(
        "| method | themes | NMI | ARI | unassigned | out-of-scope unassigned | seconds |\n|---|---|---|---|---|---|---|"
    )
    print(
        f"| Chorus | {q['themes']} | {q['nmi']:.3f} | {q['ari']:.3f} | {q['unassigned']:.1%} | {q['oos_unassigned']:.1%} | {q['seconds']:.1f} |"
    )
    print(
        f"| BERTopic 0.17 (UMAP+HDBSCAN) | {q['bertopic_themes']} | {q['bertopic_nmi']:.3f} | {q['bertopic_ari']:.3f} | {q['bertopic_unassigned']:.1%} | {q['bertopic_oos_unassigned']:.1%} | {q['bertopic_seconds']:.1f} |"
    )

    recalls, precisions, stable = [], [], True
    for seed in [int(s) for s in args.seeds.split(",") if s]:
        demo_dir = Path(args.out) / f"demo-{seed}"
        shutil.rmtree(demo_dir, ignore_errors=True)
        config = run_demo(demo_dir, seed, args.items)
        t = planted_trend_scores(demo_dir)
        s = stable_ids(demo_dir, config)
        recalls.append(t["recall"])
        precisions.append(t["precision"])
        stable &= s["fresh_identical"] and s["rerun_identical"]
        print(
            f"\n## Planted trends, demo seed {seed}: recall {t['recall']:.2f}, precision {t['precision']:.2f} ({t['flags']} rising/emerging flags)"
        )
        print(f"missed: {t['missed'] or 'none'}; false flags: {t['false_flags'] or 'none'}")
        print(
            f"stable ids: same data from scratch identical={s['fresh_identical']}, re-run unchanged={s['rerun_identical']}"
        )
    print("\n## Personal-data detection per kind (span level; tests/data corpora)")
    print(_pii_report())
    print(
        f"eval: nmi={q['nmi']:.3f} bertopic_nmi={q['bertopic_nmi']:.3f} unassigned={q['unassigned']:.3f} "
        f"trend_recall={np.mean(recalls):.2f} trend_precision={np.mean(precisions):.2f} stable_ids={'yes' if stable else 'no'}"
    )
    return 0


def _pii_report() -> str:
    """tests/pii_eval.py's per-kind tables (the corpora live beside the tests)."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "tests" / "pii_eval.py"
    spec = importlib.util.spec_from_file_location("chorus_pii_eval", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.pii_report()


if __name__ == "__main__":
    raise SystemExit(main())
