"""Chorus's custom Prefect events: their names, and emitting one without ever failing a flow."""

from __future__ import annotations

from typing import Any

from flows.runtime import prefect_server
from flows.runtime.logs import logger

EVENT_PREFIX = "chorus"
EVENTS = {
    "batch_landed": f"{EVENT_PREFIX}.batch.landed",
    "feedback_updated": f"{EVENT_PREFIX}.feedback.updated",
    "quality_failed": f"{EVENT_PREFIX}.quality.failed",
    "report_published": f"{EVENT_PREFIX}.report.published",
    "theme_emerging": f"{EVENT_PREFIX}.theme.emerging",
}


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


def _events_reachable() -> bool:
    """Inside a flow or task run, or with a configured Prefect API (env var or the active Prefect
    profile); plain function calls elsewhere emit nothing."""
    if prefect_server.api_server_configured():
        return True
    try:
        from prefect.context import FlowRunContext, TaskRunContext

        return FlowRunContext.get() is not None or TaskRunContext.get() is not None
    except Exception:
        return False
