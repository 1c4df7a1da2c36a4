"""Scale: 1,000,000 feedback items with precomputed embeddings through themes and trends.

The timed part is what the report flow's `themes_and_trends` task does (feedback read once and
themed, weighted_items, theme_trends), run in a fresh interpreter so that its peak resident
memory is that process's own. Setup (writing the synthetic lake, `scale_lake.py`) is not
timed. BERTopic (UMAP + HDBSCAN) is fitted on the same precomputed embeddings for the largest
sample that finishes within a time cap, as the reference ratio of rows per second.

    python -m flows.devtools.bench --only scale [--quick]
    python -m flows.devtools.bench.scale build DIR --rows N   # keep a lake to profile against
    python -m flows.devtools.bench.scale child DIR            # one timed run on it (derived data reset)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DERIVED = ("themes", "assignments", "lineage", "trends")
STAGES = (("themes", "update_themes"), ("items", "weighted_items"), ("trends", "theme_trends"))


def run(quick: bool = False) -> dict[str, float]:
    from flows.devtools.bench.scale_lake import build_lake

    n = 50_000 if quick else 1_000_000
    sizes, cap = (
        ((2_000, 5_000, 10_000), 60.0) if quick else ((20_000, 50_000, 100_000, 200_000), 120.0)
    )
    root = Path(tempfile.mkdtemp(prefix="chorus-scale-"))
    try:
        started = time.monotonic()
        meta = build_lake(root, n)
        print(
            f"   synthetic lake: {n:,} items, {meta['topics']} topics, {meta['accounts']:,} accounts, "
            f"{meta['partitions']} partitions, written in {time.monotonic() - started:.0f} s (not timed)",
            flush=True,
        )
        res = measure(root)
        quality = check(root)
        bt = bertopic_reference(root, sizes, cap)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    _print(n, res, quality, bt, cap)
    return {"trends_1m_s": res["total_s"], "trends_1m_gb": res["peak_gb"]}


def measure(root: Path) -> dict[str, Any]:
    """One timed run of the themes and trends path in a fresh interpreter."""
    for name in DERIVED:
        shutil.rmtree(root / "lake" / name, ignore_errors=True)
    load = os.getloadavg()[0]
    proc = subprocess.run(
        [sys.executable, "-m", "flows.devtools.bench.scale", "child", str(root)],
        check=True,
        capture_output=True,
        text=True,
    )
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["load_before"], res["load_after"] = load, os.getloadavg()[0]
    return res


def _child(root: Path, report: bool = True) -> dict[str, Any]:
    from flows.devtools.bench import peak_rss_gb as peak_gb

    t0 = time.perf_counter()
    import pyarrow as pa

    from flows.devtools.bench.scale_lake import KEY, bench_config
    from flows.lake.store import Lake
    from flows.runtime.config import config_from_dict
    from flows.runtime.report_datasets import (
        read_feedback_and_corpus,
        report_customers,
        trend_params,
        update_themes,
    )
    from transforms.trends import theme_trends
    from transforms.weighted_items import weighted_items

    cfg = config_from_dict(bench_config(root))
    lake = Lake(cfg.lake_url)
    out: dict[str, Any] = {"import_s": time.perf_counter() - t0}
    t = time.perf_counter()
    feedback, corpus = read_feedback_and_corpus(lake)
    update = update_themes(lake, cfg, corpus)
    del corpus
    out.update(themes_s=time.perf_counter() - t, themes_gb=peak_gb(), themes=update.run.themes)
    out["unassigned"] = update.run.unassigned_share
    t = time.perf_counter()
    items = weighted_items(
        feedback,
        update.assignments,
        report_customers(cfg, KEY),
        cfg.report.period,
        cfg.segments,
        cfg.personas,
        cfg.weighting,
    )
    del feedback
    out.update(items_s=time.perf_counter() - t, items_gb=peak_gb())
    t = time.perf_counter()
    themes = update.themes.to_pandas()
    trends = theme_trends(items, themes, cfg.weighting.version, trend_params(cfg))
    lake.replace_table("trends", pa.Table.from_pandas(trends, preserve_index=False))
    out.update(trends_s=time.perf_counter() - t, trends_gb=peak_gb(), trend_rows=len(trends))
    out["total_s"] = out["themes_s"] + out["items_s"] + out["trends_s"]
    out["peak_gb"] = peak_gb()
    if report:  # what the task and the rendering task do next; not part of the figure
        from transforms.report_model import report_model
        from transforms.report_render import html_report, markdown_report

        t = time.perf_counter()
        model = report_model(items, trends, themes, cfg, {})
        markdown_report(model), html_report(model)
        out.update(report_s=time.perf_counter() - t, report_gb=peak_gb())
    return out


def check(root: Path) -> dict[str, Any]:
    """Theme quality on the planted topics, and whether the planted trends are flagged."""
    import numpy as np
    import pandas as pd
    from sklearn.metrics import normalized_mutual_info_score

    truth = pd.read_parquet(root / "truth.parquet")
    lake = root / "lake"
    asg = pd.read_parquet(lake / "assignments", columns=["feedback_id", "theme_id"])
    df = truth.merge(asg, on="feedback_id", how="left")
    inlier = df["topic"].to_numpy() >= 0
    got = df["theme_id"].fillna("-").to_numpy()
    out: dict[str, Any] = {
        "nmi": normalized_mutual_info_score(df["topic"].to_numpy()[inlier], got[inlier]),
        "outliers_unassigned": float(np.mean(got[~inlier] == "-")),
    }
    planted = json.loads((root / "meta.json").read_text())["planted"]
    trends = pd.read_parquet(
        lake / "trends", columns=["theme_id", "segment", "period_start", "flag"]
    )
    newest = trends[trends["period_start"] == trends["period_start"].max()]
    themed = df[df["theme_id"].notna() & inlier]
    majority = themed.groupby("topic")["theme_id"].agg(lambda s: s.value_counts().index[0])
    want = {
        "rising_all": ("all", {"rising", "emerging"}),
        "rising_enterprise": ("enterprise", {"rising", "emerging"}),
        "emerging": ("all", {"emerging", "rising"}),
        "fading": ("all", {"fading"}),
    }
    found = {}
    for name, (seg, flags) in want.items():
        tid = majority.get(planted[name])
        hit = newest[(newest["theme_id"] == tid) & (newest["segment"] == seg)]
        found[name] = bool(hit["flag"].isin(flags).any())
    out["planted"] = found
    return out


def bertopic_reference(root: Path, sizes: tuple[int, ...], cap: float) -> list[dict[str, Any]]:
    """BERTopic on growing samples (same embeddings) until one does not finish within `cap` s.

    A size is left out only when the growth seen so far (a power law through the last two
    samples, else linear) puts it well past the cap; the fit time excludes reading the lake.
    """
    import math

    runs: list[dict[str, Any]] = []
    for n in sizes:
        if runs:
            a, b = runs[-2:] if len(runs) > 1 else (None, runs[-1])
            power = (
                min(
                    1.5,
                    max(
                        0.5, math.log(b["seconds"] / a["seconds"]) / math.log(b["rows"] / a["rows"])
                    ),
                )
                if a is not None
                else 1.0
            )
            guess = b["seconds"] * (n / b["rows"]) ** power
            if guess > 1.5 * cap:
                why = f"not run: about {guess:.0f} s expected"
                runs.append({"rows": n, "seconds": float("nan"), "done": False, "why": why})
                break
        cmd = [sys.executable, "-m", "flows.devtools.bench.scale", "bertopic", str(root), str(n)]
        try:  # the allowance beyond the cap: reading the lake and the untimed warm-up
            proc = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=cap + 90)
        except subprocess.TimeoutExpired:
            runs.append({"rows": n, "seconds": float("nan"), "done": False, "why": "timeout"})
            break
        except subprocess.CalledProcessError as exc:
            tail = (exc.stderr or "").strip().splitlines()[-1:] or ["?"]
            runs.append({"rows": n, "seconds": float("nan"), "done": False, "why": tail[0]})
            break
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        done = res["seconds"] <= cap
        runs.append({"rows": n, **res, "done": done, "why": "" if done else "over the cap"})
        if not done:
            break
    return runs


def _bertopic_child(root: Path, n: int) -> dict[str, Any]:
    import numpy as np
    import pyarrow.compute as pc

    from flows.lake.store import Lake
    from transforms.ids import content_text

    fb = Lake(str(root / "lake")).read_feedback(
        columns=["feedback_id", "source_kind", "title", "text", "embedding"]
    )
    rng = np.random.default_rng(11)
    take = np.sort(rng.choice(fb.num_rows, min(n, fb.num_rows), replace=False))
    fb = fb.take(take)
    emb = pc.list_flatten(fb["embedding"]).to_numpy().reshape(fb.num_rows, -1)
    texts = [
        content_text(t, x or "", k)
        for t, x, k in zip(
            fb["title"].to_pylist(),
            fb["text"].to_pylist(),
            fb["source_kind"].to_pylist(),
            strict=True,
        )
    ]
    from bertopic import BERTopic
    from hdbscan import HDBSCAN
    from umap import UMAP

    def model() -> BERTopic:  # as flows/devtools/evaluate.py configures it
        return BERTopic(
            umap_model=UMAP(
                n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=42
            ),
            hdbscan_model=HDBSCAN(
                min_cluster_size=10, metric="euclidean", cluster_selection_method="eom"
            ),
        )

    model().fit_transform(texts[:500], emb[:500])  # numba compiles on first use: not timed
    t = time.perf_counter()
    topics, _ = model().fit_transform(texts, emb)
    return {
        "rows": len(texts),
        "seconds": time.perf_counter() - t,
        "topics": len(set(topics) - {-1}),
        "unassigned": float(np.mean(np.array(topics) == -1)),
    }


def _print(
    n: int, res: dict[str, Any], quality: dict[str, Any], bt: list[dict[str, Any]], cap: float
) -> None:
    print(
        f"   machine load (1 min) before/after the timed run: {res['load_before']:.1f} / {res['load_after']:.1f}"
    )
    print(f"   | stage ({n:,} items, fresh process) | seconds | peak RSS GB |\n   |---|---|---|")
    for key, fn in STAGES:
        print(f"   | {key} ({fn}) | {res[f'{key}_s']:.1f} | {res[f'{key}_gb']:.2f} |")
    chorus_rate = n / res["total_s"]
    print(f"   | **themes + trends** | **{res['total_s']:.1f}** | **{res['peak_gb']:.2f}** |")
    if "report_s" in res:
        print(
            f"   | report model + render (not in the figure) | {res['report_s']:.1f} | {res['report_gb']:.2f} |"
        )
    print(
        f"   {res['themes']} themes, {res['unassigned']:.1%} unassigned, {res['trend_rows']:,} trend rows; "
        f"interpreter start and imports {res['import_s']:.1f} s (not in the figure)"
    )
    planted = ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in quality["planted"].items())
    print(
        f"   quality at scale: NMI vs planted topics {quality['nmi']:.3f}, "
        f"outliers left unassigned {quality['outliers_unassigned']:.1%}; planted flags: {planted}"
    )
    print(
        f"   | BERTopic 0.17 (UMAP+HDBSCAN), same embeddings, cap {cap:.0f} s | rows | seconds | rows/s |"
    )
    print("   |---|---|---|---|")
    for r in bt:
        secs = f"{r['seconds']:.1f}" if r["seconds"] == r["seconds"] else "-"
        rate = f"{r['rows'] / r['seconds']:,.0f}" if r["done"] else "-"
        note = "" if r["done"] else f" ({r['why']})"
        print(f"   | sample{note} | {r['rows']:,} | {secs} | {rate} |")
    best = [r for r in bt if r["done"]]
    if best:
        b = best[-1]
        b_rate = b["rows"] / b["seconds"]
        print(
            f"   Chorus {chorus_rate:,.0f} rows/s (themes and weighted trends) vs BERTopic "
            f"{b_rate:,.0f} rows/s (topics only) at its largest sample ({b['rows']:,}): "
            f"ratio {chorus_rate / b_rate:.1f}x"
        )
    print(
        f"   target: themes + trends < 120 s and < 6 GB: {res['total_s']:.0f} s, {res['peak_gb']:.2f} GB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.devtools.bench.scale")
    parser.add_argument("what", choices=["run", "build", "child", "bertopic"])
    parser.add_argument("root", nargs="?")
    parser.add_argument("n", nargs="?", type=int)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args(argv)
    if args.what == "run":
        print(run(quick=args.quick))
    elif args.what == "build":
        from flows.devtools.bench.scale_lake import build_lake

        root = Path(args.root)
        root.mkdir(parents=True, exist_ok=True)
        print(build_lake(root, args.rows))
    elif args.what == "child":
        root = Path(args.root)
        for name in DERIVED:
            shutil.rmtree(root / "lake" / name, ignore_errors=True)
        print(json.dumps(_child(root, report=not args.no_report)), flush=True)
    else:
        print(json.dumps(_bertopic_child(Path(args.root), args.n)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
