"""The report as Prefect artifacts, so the Prefect UI shows it next to the run that made it."""

from __future__ import annotations

from typing import Any

from flows.runtime.logs import logger

TOP_THEMES = 15


def top_themes_table(model: Any, limit: int = TOP_THEMES) -> list[dict[str, Any]]:
    """Rows of the themes table artifact: weighted rank order, flags per segment, drivers."""
    rows = []
    for t in sorted(model.themes, key=lambda t: t.weighted_rank)[:limit]:
        rows.append(
            {
                "rank": t.weighted_rank,
                "theme": t.label,
                "theme_id": t.theme_id,
                "items": t.count,
                "accounts": t.accounts,
                "weighted": round(float(t.weighted), 2),
                "unweighted_rank": t.count_rank,
                "flags": ", ".join(f"{seg}: {flag}" for seg, flag in sorted(t.flags.items())),
                "drivers": ", ".join(t.drivers),
            }
        )
    return rows


def publish_report_artifacts(model: Any, markdown: str, paths: dict[str, str]) -> list[str]:
    """A Markdown artifact (the report) and a table artifact (top themes); keys are stable, so the
    UI keeps their history run after run. Outside a flow run this does nothing."""
    try:
        from prefect.context import FlowRunContext, TaskRunContext

        if FlowRunContext.get() is None and TaskRunContext.get() is None:
            return []
        from prefect.artifacts import create_markdown_artifact, create_table_artifact
    except Exception:  # pragma: no cover - prefect is always installed
        return []
    note = f"\n\n---\nFull report with charts: `{paths.get('html', '')}`\n"
    ids = [
        str(
            create_markdown_artifact(
                markdown=markdown + note,
                key="chorus-report",
                description=f"Chorus report as of {model.as_of} (policy {model.policy_version})",
            )
        ),
        str(
            create_table_artifact(
                table=top_themes_table(model),
                key="chorus-top-themes",
                description=f"Top themes by weighted volume, as of {model.as_of}",
            )
        ),
    ]
    logger().info("report published as Prefect artifacts chorus-report and chorus-top-themes")
    return ids
