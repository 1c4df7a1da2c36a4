"""`make eval`: theme quality on CLINC150 and HWU64 against BERTopic, planted trends on real
utterances (in one go and week by week, five seeds, decoys, a null scenario), stable ids, PII.

Prints a table per part and ends with one line:
eval: clinc_nmi=… clinc_bertopic_nmi=… hwu_nmi=… hwu_bertopic_nmi=… unassigned=… trend_recall=…
trend_precision=… incremental_recall=… incremental_precision=… null_flag_rate=…
incremental_agreement=… stable_ids=yes|no
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


def stable_ids(demo_dir: Path, config: Path) -> dict[str, Any]:
    """The same data themed twice from scratch gives identical ids; a re-run on the same lake changes nothing."""
    from flows.lake.store import Lake
    from flows.runtime.config import load_config
    from flows.runtime.report_datasets import update_themes

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


def trend_scenarios(seeds: list[int], datasets: Path, out: Path) -> dict[str, Any]:
    """Each seed's scenario (odd seeds CLINC150, even HWU64) run in one go and week by week,
    scored against what was planted; then the null scenarios (nothing planted)."""
    from flows.devtools import trend_eval as te
    from flows.devtools.trend_scenario import build_scenario, clinc_pools, hwu_pools

    pools = {"clinc": clinc_pools(datasets / "clinc150"), "hwu": hwu_pools(datasets / "hwu64")}
    rows, batch, weekly, agreement, stable = [], [], [], [], True
    for seed in seeds:
        name = "clinc" if seed % 2 else "hwu"
        runs = {}
        for mode in ("batch", "weekly"):
            root = out / f"{name}-{seed}-{mode}"
            shutil.rmtree(root, ignore_errors=True)
            runs[mode] = build_scenario(root, pools[name], name, seed)
            seconds = te.run_pipeline(runs[mode], mode)
            scored = te.score(runs[mode])
            (batch if mode == "batch" else weekly).append(scored)
            rows.append({"seed": seed, "data": name, "mode": mode, "seconds": seconds, **scored})
        agreement.append(te.assignment_agreement(runs["batch"], runs["weekly"]))
        ids = stable_ids(runs["batch"].root, runs["batch"].config)
        stable &= ids["fresh_identical"] and ids["rerun_identical"]
        rows[-1]["agreement"] = rows[-2]["agreement"] = agreement[-1]
    flagged = tested = 0
    for seed, name in ((101, "clinc"), (102, "hwu")):
        root = out / f"{name}-{seed}-null"
        shutil.rmtree(root, ignore_errors=True)
        scenario = build_scenario(root, pools[name], name, seed, null=True)
        te.run_pipeline(scenario, "batch")
        f, t = te.null_flag_rate(scenario)
        flagged, tested = flagged + f, tested + t
        rows.append(
            {"seed": seed, "data": name, "mode": "null", "null_flagged": f, "null_tested": t}
        )
    return {
        "rows": rows,
        "batch": te.pooled(batch),
        "weekly": te.pooled(weekly),
        "agreement": min(agreement) if agreement else float("nan"),
        "null_flag_rate": flagged / tested if tested else float("nan"),
        "decoys_flagged": sum(len(r.get("decoy_flags", [])) for r in rows),
        "stable_ids": stable,
    }


def print_trend_rows(rows: list[dict[str, Any]]) -> None:
    print(
        "| seed | data | mode | planted found | flags | correct | false flags | decoy flags | agreement | s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r["mode"] == "null":
            print(
                f"| {r['seed']} | {r['data']} | null | - | {r['null_flagged']} of {r['null_tested']} tested rows | - | - | - | - | - |"
            )
            continue
        false = "; ".join(f"{i} {s} {f} ({lv})" for i, s, f, lv in r["false_flags"]) or "none"
        missed = "".join(f" (missed {i} {s} {f})" for i, s, f in r["missed"])
        print(
            f"| {r['seed']} | {r['data']} | {r['mode']} | {r['hits']}/{r['expected']}{missed} | {r['flags']} "
            f"| {r['correct']} | {false} | {len(r['decoy_flags'])} | {r.get('agreement', float('nan')):.3f} | {r['seconds']:.0f} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", default=str(SHARED), help="folder holding clinc150/ and hwu64/"
    )
    parser.add_argument("--seeds", default="1,2,3,4,5", help="planted-trend scenario seeds")
    parser.add_argument("--out", default=".eval")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("CHORUS_PROGRESS", "0")
    os.environ.setdefault("CHORUS_PSEUDONYM_KEY", "eval-key-not-a-secret")
    from flows.devtools.theme_quality import dataset_quality, print_quality

    datasets = Path(args.datasets)
    quality = dataset_quality(datasets)
    print_quality(quality)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    t = trend_scenarios(seeds, datasets, Path(args.out))
    print("\n## Planted trends on real utterances (CLINC150 odd seeds, HWU64 even), newest week")
    print_trend_rows(t["rows"])
    print("\n## Personal-data detection per kind (span level; tests/data corpora)")
    print(_pii_report())
    c, h = quality["clinc150"], quality["hwu64"]
    print(
        f"eval: clinc_nmi={c['nmi']:.3f} clinc_bertopic_nmi={c['bertopic_nmi']:.3f} "
        f"clinc_ari={c['ari']:.3f} clinc_bertopic_ari={c['bertopic_ari']:.3f} "
        f"hwu_nmi={h['nmi']:.3f} hwu_bertopic_nmi={h['bertopic_nmi']:.3f} "
        f"hwu_ari={h['ari']:.3f} hwu_bertopic_ari={h['bertopic_ari']:.3f} "
        f"unassigned={max(c['unassigned'], h['unassigned']):.3f} "
        f"trend_recall={t['batch'][0]:.2f} trend_precision={t['batch'][1]:.2f} "
        f"incremental_recall={t['weekly'][0]:.2f} incremental_precision={t['weekly'][1]:.2f} "
        f"null_flag_rate={t['null_flag_rate']:.3f} incremental_agreement={t['agreement']:.3f} "
        f"decoys_flagged={t['decoys_flagged']} stable_ids={'yes' if t['stable_ids'] else 'no'}"
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
