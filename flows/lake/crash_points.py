"""Named crash and fault points, for proving that a killed or failing run leaves the lake consistent.

Every point is a call `crash_point("lake.write.replaced", path)` in the code that writes the
lake. It costs three environment lookups and does nothing unless one of these names it:

- ``CHORUS_CRASH_AT="NAME[:N]"``: the N-th time (default the first) this process passes NAME, it
  writes ``chorus: crash point NAME hit N`` to stderr and kills itself with SIGKILL: no
  ``finally`` block, no buffered write, no cleanup runs, exactly like a power cut of the process.
- ``CHORUS_FAULT_AT="NAME:ERRNO[:N[+]]"``: the N-th time (``N+``: the N-th and every later time)
  it passes NAME, it raises ``OSError(ERRNO)`` for the given path, as the operating-system call
  at that point would (``ENOSPC`` disk full, ``EACCES`` permission denied, ``EROFS``, ``EIO``...).
- ``CHORUS_TRACE_POINTS=FILE``: every point passed is appended to FILE as ``NAME<tab>PATH``,
  so a test can list the points a run reaches (and the files they write) and kill it at each.

Several specs may be given, separated by commas. Counts are per process.

A real (or injected) OSError while writing the lake becomes `LakeWriteError`, whose message
names the file, the errno and its meaning, says that nothing of it was committed and what to do.
"""

from __future__ import annotations

import errno
import os
import signal
from dataclasses import dataclass

CRASH_ENV = "CHORUS_CRASH_AT"
FAULT_ENV = "CHORUS_FAULT_AT"
TRACE_ENV = "CHORUS_TRACE_POINTS"
MARKER = "chorus: crash point"

# Every point placed in the code, with where it sits (documentation, and the tests' checklist).
POINTS: dict[str, str] = {
    "lake.write.mkdir": "before the parent folder of a lake file is created",
    "lake.write.open": "before the temporary file is created",
    "lake.write.data": "before the bytes are written to the temporary file",
    "lake.write.flush": "bytes handed to Python's buffer, not yet flushed: a partial temporary file",
    "lake.write.written": "temporary file complete and fsynced, not yet moved into place",
    "lake.write.replaced": "file moved into place (os.replace done)",
    "lake.upsert.locked": "feedback lock held, before the index is read",
    "lake.upsert.partition": "one feedback partition written, before the next one of the same upsert",
    "lake.table.replaced": "a derived table (themes, assignments, lineage, trends) replaced",
    "lake.commit.journal": "themes, assignments, lineage staged and journaled, none moved in yet",
    "lake.quarantine.written": "a quarantine file written",
    "lake.cache.written": "an embedding-cache file written",
    "ingest.fetched": "a batch fetched from the source, before it lands",
    "ingest.landed": "a raw batch landed, before the source's cursor state is written",
    "ingest.state": "a cursor state written, before the next batch is fetched",
    "process.locked": "process lock held, before the pending batches are re-checked",
    "process.quarantined": "a batch's quarantine written, before its rows are upserted",
    "process.embedded": "a chunk embedded (cache written), before the upsert",
    "process.upserted": "a chunk upserted into feedback/, before any processed-batch state",
    "process.state": "one source's processed-batch state written, before the next source's",
    "process.done": "all processed-batch state written, before the run's counts are saved",
}


@dataclass(frozen=True)
class _Spec:
    name: str
    nth: int
    onwards: bool
    errno: int | None


def _parse(value: str, with_errno: bool) -> list[_Spec]:
    specs = []
    for raw in filter(None, (s.strip() for s in value.split(","))):
        parts = raw.split(":")
        nth, onwards = 1, False
        if len(parts) > 1 and parts[-1].rstrip("+").isdigit():
            onwards = parts[-1].endswith("+")
            nth = int(parts.pop().rstrip("+"))
        code = None
        if with_errno:
            if len(parts) < 2 or not hasattr(errno, parts[-1]):
                raise ValueError(
                    f"{FAULT_ENV}={value!r}: expected NAME:ERRNO[:N[+]] with an errno name "
                    f"such as ENOSPC or EACCES, got {raw!r}"
                )
            code = getattr(errno, parts.pop())
        specs.append(_Spec(":".join(parts), nth, onwards, code))
    return specs


_cache: dict[tuple[str, str], list[_Spec]] = {}
_hits: dict[tuple[str, str], int] = {}


def _specs(env: str, value: str, with_errno: bool) -> list[_Spec]:
    key = (env, value)
    if key not in _cache:
        _cache[key] = _parse(value, with_errno)
    return _cache[key]


def _hit(env: str, value: str, name: str) -> int:
    key = (f"{env}={value}", name)
    _hits[key] = _hits.get(key, 0) + 1
    return _hits[key]


def crash_point(name: str, path: str | None = None) -> None:
    """Pass the named point: a no-op unless CHORUS_CRASH_AT, CHORUS_FAULT_AT or the trace names it."""
    crash = os.environ.get(CRASH_ENV)
    fault = os.environ.get(FAULT_ENV)
    trace = os.environ.get(TRACE_ENV)
    if not (crash or fault or trace):
        return
    if trace:
        with open(trace, "a", encoding="utf-8") as fh:
            fh.write(f"{name}\t{path or '-'}\n")
    if crash:
        specs = [s for s in _specs(CRASH_ENV, crash, False) if s.name == name]
        if specs:
            n = _hit(CRASH_ENV, crash, name)
            if any(n == s.nth or (s.onwards and n > s.nth) for s in specs):
                os.write(2, f"\n{MARKER} {name} hit {n} ({path or '-'})\n".encode())
                os.kill(os.getpid(), signal.SIGKILL)
    if fault:
        specs = [s for s in _specs(FAULT_ENV, fault, True) if s.name == name]
        if specs:
            n = _hit(FAULT_ENV, fault, name)
            for s in specs:
                if n == s.nth or (s.onwards and n > s.nth):
                    code = s.errno or errno.EIO
                    raise OSError(code, os.strerror(code), path)
