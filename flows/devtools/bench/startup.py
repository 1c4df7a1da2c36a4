"""Start-up: `chorus --help` wall time in a fresh interpreter (best of 5)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time


def run(quick: bool = False) -> dict[str, float]:
    exe = shutil.which("chorus") or shutil.which("chorus", path=sys.prefix + "/bin")
    cmd = [exe, "--help"] if exe else [sys.executable, "-m", "flows.cli.main", "--help"]
    times = []
    for _ in range(3 if quick else 5):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    best = min(times)
    print(f"   chorus --help: best {best:.3f} s of {len(times)} (target < 1 s)")
    return {"help_s": best}
