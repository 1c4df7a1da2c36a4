"""Shared plumbing for flows: config, lake, pseudonym key, events, logging and progress."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flows.lake.store import Lake
from flows.runtime.config import ChorusConfig, ConfigError, load_config

EVENT_PREFIX = "chorus"
EVENTS = {
    "batch_landed": f"{EVENT_PREFIX}.batch.landed",
    "feedback_updated": f"{EVENT_PREFIX}.feedback.updated",
    "quality_failed": f"{EVENT_PREFIX}.quality.failed",
    "report_published": f"{EVENT_PREFIX}.report.published",
    "theme_emerging": f"{EVENT_PREFIX}.theme.emerging",
}


def context(config_path: str) -> tuple[ChorusConfig, Lake]:
    cfg = load_config(config_path)
    return cfg, Lake(cfg.lake_url)


def pseudonym_key(cfg: ChorusConfig) -> bytes:
    try:
        return cfg.pseudonym_key.resolve().encode()
    except ConfigError as exc:
        raise ConfigError(
            f"pseudonym_key: {exc}; the keyed HMAC for customer and account ids needs a secret ({cfg.pseudonym_key.describe()})"
        ) from None


def logger() -> logging.Logger | logging.LoggerAdapter:
    """Prefect's run logger inside a flow or task, a plain logger elsewhere (tests, CLI)."""
    try:
        from prefect import get_run_logger

        return get_run_logger()
    except Exception:
        return logging.getLogger("chorus")


def emit(name: str, resource_id: str, payload: dict[str, Any], **labels: str) -> None:
    """Emit a Chorus event to the Prefect API; an event that cannot be sent never fails the flow."""
    if not _events_reachable():
        return
    try:
        from prefect.events import emit_event

        emit_event(
            event=EVENTS[name],
            resource={"prefect.resource.id": resource_id, **labels},
            payload=payload,
        )
    except Exception as exc:  # pragma: no cover - network edge
        logger().warning("could not emit %s: %s", EVENTS[name], exc)


def api_server_configured() -> bool:
    """A Prefect API server is named (env var or the active profile), not the ephemeral one."""
    if os.environ.get("PREFECT_API_URL"):
        return True
    try:
        from prefect.settings import get_current_settings

        return bool(get_current_settings().api.url)
    except Exception:  # pragma: no cover - prefect is always installed
        return False


def as_writer(task: Any, tag: str) -> Any:
    """`task` tagged as the writer of one dataset when a Prefect server holds the tag concurrency
    limits (`chorus deploy` sets them to 1), so no two flows write that dataset at once. Under
    the ephemeral API there are no limits, and a tagged task would pay a slot round trip (0.3 to
    2 s) for nothing; the lake's own lock still serialises writers there."""
    return task.with_options(tags={tag}) if api_server_configured() else task


def _events_reachable() -> bool:
    """Inside a flow or task run, or with a configured Prefect API (env var or the active Prefect
    profile); plain function calls elsewhere emit nothing."""
    if api_server_configured():
        return True
    try:
        from prefect.context import FlowRunContext, TaskRunContext

        return FlowRunContext.get() is not None or TaskRunContext.get() is not None
    except Exception:
        return False


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
