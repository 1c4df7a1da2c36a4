"""Logging for flows: Prefect's run logger where there is one, and progress for long steps."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def logger() -> logging.Logger | logging.LoggerAdapter:
    """Prefect's run logger inside a flow or task, a plain logger elsewhere (tests, CLI)."""
    try:
        from prefect import get_run_logger

        return get_run_logger()
    except Exception:
        return logging.getLogger("chorus")


def _progress_enabled() -> bool:
    flag = os.environ.get("CHORUS_PROGRESS")
    if flag is not None:
        return flag not in ("0", "false", "")
    return sys.stderr.isatty()


@contextmanager
def progress(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on a terminal; log lines at each quarter otherwise."""
    log = logger()
    if total <= 0:
        yield lambda n: None
        return
    if _progress_enabled():
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=False,
        ) as bar:
            task = bar.add_task(description, total=total)
            yield lambda n: bar.advance(task, n)
        return
    done = [0, 0]

    def advance(n: int) -> None:
        done[0] += n
        quarter = min(4, 4 * done[0] // total)
        if quarter > done[1]:
            done[1] = quarter
            log.info("%s: %d/%d (%d%%)", description, done[0], total, 25 * quarter)

    yield advance
