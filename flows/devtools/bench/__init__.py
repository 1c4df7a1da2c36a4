"""`make bench`: Chorus measured side by side against what a user would do instead.

Each module here exposes `run(quick: bool = False) -> dict[str, float]`, prints its own table
and returns the figures that go into the closing `bench:` line (see `flows/devtools/bench/__main__.py`).
Ratios are taken against a baseline run in the same process, never as absolute timing asserts.
"""

import resource


def peak_rss_gb() -> float:
    """This process's peak resident memory in GB. Linux keeps ru_maxrss across exec, so a
    benchmark subprocess started from a large parent would report the parent's peak; VmHWM
    belongs to the process's own address space (ru_maxrss where /proc is missing)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
