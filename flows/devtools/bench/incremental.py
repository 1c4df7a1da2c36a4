"""Incremental cost: the whole pipeline (ingest, process, report) on the demo, then again after
1% new items arrive at the vendors; the second run's wall time over the first's.

Both runs happen in this process after a warm-up pipeline on a small separate demo, so neither
pays the one-off start-up (imports, the ephemeral Prefect API, loading the model): what is
compared is the work each run does. The start-up a cold `chorus run` pays is printed beside.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path


def _pipeline(config: Path) -> tuple[float, dict]:
    from flows.pipeline import pipeline

    started = time.perf_counter()
    result = pipeline(str(config))
    return time.perf_counter() - started, result


def run(quick: bool = False) -> dict[str, float]:
    os.environ.setdefault("CHORUS_PSEUDONYM_KEY", "bench-key-not-a-secret")
    os.environ.setdefault("CHORUS_PROGRESS", "0")
    from prefect.testing.utilities import prefect_test_harness

    from flows.devtools.demo import generate_demo, run_demo_sandbox
    from flows.devtools.demo.generator import demo_items
    from flows.devtools.demo.sandbox import write_vendor_files
    from flows.devtools.demo.vendor_data import vendor_data

    n = 3_000 if quick else 40_000
    with (
        tempfile.TemporaryDirectory(prefix="chorus-bench-incr-") as tmp,
        prefect_test_harness(server_startup_timeout=120),
    ):
        started = time.perf_counter()
        warm = generate_demo(Path(tmp) / "warm", seed=5, n_items=600)
        with run_demo_sandbox(warm) as config:
            _pipeline(config)
        warm_s = time.perf_counter() - started

        out = Path(tmp) / "demo"
        manifest = generate_demo(out, seed=9, n_items=n)
        items = demo_items(seed=9, n_items=n).items
        new = max(1, len(items) // 100)
        write_vendor_files(out, vendor_data(items[:-new]).data)  # the newest 1% not yet there
        with run_demo_sandbox(manifest) as config:
            first_s, first = _pipeline(config)
        write_vendor_files(out, vendor_data(items).data)  # ... and now they are
        with run_demo_sandbox(manifest) as config:
            second_s, second = _pipeline(config)
    ratio = second_s / first_s
    p1, p2 = first["process"], second["process"]
    print(f"   {'run':<8}{'landed':>8}{'written':>9}{'embedded':>10}{'wall s':>9}")
    print(
        f"   {'first':<8}{p1['landed']:>8,}{p1['written']:>9,}{p1['embedded']:>10,}{first_s:>9.1f}"
    )
    print(
        f"   {'second':<8}{p2['landed']:>8,}{p2['written']:>9,}{p2['embedded']:>10,}{second_s:>9.1f}"
    )
    print(
        f"   second / first = {ratio:.4f} (target <= 0.10) with {new} new items of {len(items):,}; "
        f"warm-up (imports, Prefect API, model, small demo) {warm_s:.0f} s, paid by neither"
    )
    return {"incremental_ratio": ratio}
