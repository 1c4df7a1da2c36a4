"""Ingest throughput: vendor pages from the sandbox -> parse -> raw zone -> normalise, redact,
pseudonymise -> feedback/ Parquet, in items per second, with no rate limit in the way.

The embedding is the embed benchmark's business: before the timed processing run the embedding
cache is warmed (one untimed run, then feedback/ and the processed state are removed), so the
timed run is the real process code path with every vector found in the cache. Each timed stage
runs in a fresh subprocess that reports its own peak memory, so "memory flat in the number of
pages" is measured, not assumed: the same sources at 1x and 2x the items.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# bulk-listing sources of the demo: the sandbox serves their documented page sizes
BULK_SOURCES = ["nps_survey", "app_store_reviews", "testflight_beta", "sales_notes"]


def _stage(config: str, stage: str, sources: list[str]) -> dict[str, float]:
    """Run one stage in this (fresh) process; print a JSON line with items, seconds, peak GB."""
    from flows.ingest import ingest_source
    from flows.process import pending_batches, process_batches

    started = time.perf_counter()
    if stage == "ingest":
        items = sum(ingest_source.fn(config, s)["items"] for s in sources)
    else:
        batches = pending_batches.fn(config, sources)
        items = process_batches.fn(config, batches)["landed"]
    seconds = time.perf_counter() - started
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    return {"items": items, "seconds": seconds, "peak_gb": peak_gb}


def _run_stage(config: Path, stage: str, env: dict[str, str]) -> dict[str, float]:
    code = (
        "import json, sys\nfrom flows.bench.ingest import _stage\n"
        f"print('RESULT', json.dumps(_stage({str(config)!r}, {stage!r}, {BULK_SOURCES!r})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"ingest bench stage {stage} failed:\n{out.stderr[-3000:]}")
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def _measure(n_items: int, workdir: Path) -> dict[str, dict[str, float]]:
    from flows.demo import generate_demo, run_demo_sandbox

    manifest = generate_demo(workdir, seed=3, n_items=n_items)
    env = {**os.environ, "CHORUS_PROGRESS": "0", "PREFECT_LOGGING_LEVEL": "WARNING"}
    env.setdefault("CHORUS_PSEUDONYM_KEY", "bench-key-not-a-secret")
    with run_demo_sandbox(manifest) as config:
        env.update({k: v for k, v in os.environ.items() if k.startswith("CHORUS_DEMO_")})
        ingest = _run_stage(config, "ingest", env)
        _run_stage(config, "process", env)  # untimed: fills the embedding cache
        lake = workdir / "lake"
        shutil.rmtree(lake / "feedback")
        shutil.rmtree(lake / "quarantine", ignore_errors=True)
        shutil.rmtree(lake / "_state" / "process")
        process = _run_stage(config, "process", env)
    return {"ingest": ingest, "process": process}


def run(quick: bool = False) -> dict[str, float]:
    n = 8_000 if quick else 40_000
    results = {}
    for scale in (1, 2):
        with tempfile.TemporaryDirectory(prefix="chorus-bench-ingest-") as tmp:
            results[scale] = _measure(n * scale, Path(tmp))
    print(f"   {'items (all sources)':<22}{'stage':<10}{'items':>9}{'s':>8}{'items/s':>10}{'peak GB':>9}")
    for scale, stages in results.items():
        for stage, r in stages.items():
            rate = r["items"] / r["seconds"] if r["seconds"] else 0.0
            print(
                f"   {n * scale:<22,}{stage:<10}{r['items']:>9,}{r['seconds']:>8.2f}"
                f"{rate:>10,.0f}{r['peak_gb']:>9.2f}"
            )
    big = results[2]
    items = big["ingest"]["items"]
    seconds = big["ingest"]["seconds"] + big["process"]["seconds"]
    per_s = items / seconds
    growth = max(big[s]["peak_gb"] / results[1][s]["peak_gb"] for s in ("ingest", "process"))
    print(
        f"   end to end (ingest + process, embeddings cached): {per_s:,.0f} items/s "
        f"(target >= 20,000); peak memory at 2x the pages / at 1x: {growth:.2f}"
    )
    return {"ingest_per_s": per_s, "ingest_mem_growth": growth}
