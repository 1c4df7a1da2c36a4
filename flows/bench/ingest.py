"""Ingest throughput: vendor pages from the sandbox -> parse -> raw zone -> normalise, redact,
pseudonymise -> feedback/ Parquet, in items per second, with no rate limit in the way.

The embedding is the embed benchmark's business, so the normalise stage writes feedback/ rows
with the embedding left null (the real parse, normalise, redact and upsert code). Each timed stage
runs in a fresh subprocess that reports its own peak memory, so "memory flat in the number of
pages" is measured, not assumed: the same sources at 1x and 2x the items.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# bulk-listing sources of the demo: the sandbox serves their documented page sizes
BULK_SOURCES = ["nps_survey", "app_store_reviews", "testflight_beta", "sales_notes"]


def _stage(config: str, stage: str, sources: list[str]) -> dict[str, float]:
    """Run one stage in this (fresh) process; print a JSON line with items, seconds, peak GB."""
    import pyarrow as pa

    from flows.ingest import ingest_source
    from flows.process import pending_batches
    from flows.runtime import context

    started, cpu = time.perf_counter(), time.process_time()
    if stage == "ingest":
        items = sum(ingest_source.fn(config, s)["items"] for s in sources)
    else:  # parse raw, normalise, redact, pseudonymise, write feedback/ (embedding left null:
        # the embed benchmark measures that step)
        from datetime import UTC, datetime

        from flows.process import plan_chunks
        from flows.runtime import pseudonym_key
        from flows.steps import canonical_rows, domain_accounts, enriched_table

        cfg, lake = context(config)
        now, items, key, accounts = datetime.now(UTC), 0, pseudonym_key(cfg), domain_accounts(cfg)
        for chunk in plan_chunks(lake, pending_batches.fn(config, sources), 20_000):
            rows = []
            for batch in chunk:
                doc = lake.read_raw(batch)
                items += len(doc.get("items", []))
                good, bad = canonical_rows(cfg, batch, doc, now)
                lake.write_quarantine(
                    batch.source, batch.batch_id, pa.Table.from_pylist(bad) if bad else pa.table({})
                )
                rows += good
            if rows:
                table, _texts = enriched_table(rows, cfg, key, now, accounts)
                lake.upsert_feedback(table)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    return {"items": items, "seconds": seconds, "cpu": cpu, "peak_gb": peak_gb}


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
        out = {"ingest": ingest, "normalize": _run_stage(config, "normalize", env)}
    return out


def run(quick: bool = False) -> dict[str, float]:
    n = 8_000 if quick else 40_000
    results = {}
    for scale in (1, 2):
        with tempfile.TemporaryDirectory(prefix="chorus-bench-ingest-") as tmp:
            results[scale] = _measure(n * scale, Path(tmp))
    print(
        f"   {'items (all sources)':<21}{'stage':<11}{'items':>8}{'wall s':>8}{'cpu s':>7}"
        f"{'items/s':>9}{'/cpu s':>9}{'peak GB':>8}"
    )
    for scale, stages in results.items():
        for stage, r in stages.items():
            print(
                f"   {n * scale:<21,}{stage:<11}{r['items']:>8,}{r['seconds']:>8.2f}{r['cpu']:>7.2f}"
                f"{r['items'] / r['seconds']:>9,.0f}{r['items'] / r['cpu']:>9,.0f}{r['peak_gb']:>8.2f}"
            )
    big = results[2]
    items = big["ingest"]["items"]
    per_cpu = items / big["ingest"]["cpu"]
    wall = items / big["ingest"]["seconds"]
    normalize = items / big["normalize"]["cpu"]
    growth = max(big[s]["peak_gb"] / results[1][s]["peak_gb"] for s in big)
    print(
        f"   ingest (fetch, parse every page, write the raw zone), per second of Chorus CPU: "
        f"{per_cpu:,.0f} items/s (target >= 20,000); wall {wall:,.0f} items/s against the sandbox, "
        f"which is the bottleneck (Chorus busy {big['ingest']['cpu'] / big['ingest']['seconds']:.0%} "
        f"of the wall time). Normalise + redact + write feedback/: {normalize:,.0f} items/s per "
        f"CPU second (the embedding and the quality suites are measured elsewhere). Peak memory at 2x "
        f"the pages / at 1x: {growth:.2f}."
    )
    return {
        "ingest_per_s": per_cpu,
        "ingest_wall_per_s": wall,
        "normalize_per_s": normalize,
        "ingest_mem_growth": growth,
    }
