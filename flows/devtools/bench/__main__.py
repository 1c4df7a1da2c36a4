"""Run every benchmark and end with one line: `bench: embed_speedup_unique=… … help_s=…`."""

from __future__ import annotations

import argparse
import importlib
import sys
import time

# (module, figures it returns), in the order they run and appear on the closing line
SUITES = [
    ("startup", ["help_s"]),
    ("embed", ["embed_speedup_unique", "embed_speedup_mix", "embed_cosine"]),
    ("ingest", ["ingest_per_s"]),
    ("incremental", ["incremental_ratio"]),
    ("scale", ["trends_1m_s", "trends_1m_gb"]),
]
LINE_ORDER = [
    "embed_speedup_unique",
    "embed_speedup_mix",
    "embed_cosine",
    "incremental_ratio",
    "trends_1m_s",
    "trends_1m_gb",
    "ingest_per_s",
    "help_s",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.devtools.bench", description=__doc__)
    parser.add_argument("--only", nargs="*", help="run only these suites")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args(argv)
    figures: dict[str, float] = {}
    for name, _keys in SUITES:
        if args.only and name not in args.only:
            continue
        started = time.monotonic()
        print(f"== {name} ==", flush=True)
        module = importlib.import_module(f"flows.devtools.bench.{name}")
        figures.update(module.run(quick=args.quick))
        print(f"   ({name}: {time.monotonic() - started:.0f} s)", flush=True)
    parts = [f"{k}={_fmt(figures[k])}" for k in LINE_ORDER if k in figures]
    print("bench: " + " ".join(parts), flush=True)
    return 0


def _fmt(value: float) -> str:
    """Three decimals below 10 (four below 0.1, so a ratio of 0.0998 does not print as its
    target 0.100), whole numbers above."""
    if abs(value) < 0.1:
        return f"{value:.4f}"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.0f}"


if __name__ == "__main__":
    sys.exit(main())
