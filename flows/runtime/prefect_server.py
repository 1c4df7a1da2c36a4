"""Whether a Prefect API server is configured, and what changes when one is (writer tags)."""

from __future__ import annotations

import os
from typing import Any


def api_server_configured() -> bool:
    """A Prefect API server is named (env var or the active profile), not the ephemeral one."""
    if os.environ.get("PREFECT_API_URL"):
        return True
    try:
        from prefect.settings import get_current_settings

        return bool(get_current_settings().api.url)
    except Exception:  # pragma: no cover - prefect is always installed
        return False


def as_writer(task: Any, *tags: str) -> Any:
    """`task` tagged as the writer of its datasets when a Prefect server holds the tag concurrency
    limits (`chorus deploy` sets them to 1), so no two flows write one dataset at once. Under
    the ephemeral API there are no limits, and a tagged task would pay a slot round trip (0.3 to
    2 s) for nothing; the lake's own lock still serialises writers there."""
    return task.with_options(tags=set(tags)) if api_server_configured() else task
