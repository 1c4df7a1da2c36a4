"""Report: themes with stable ids, weighted trends per segment, and the Markdown/HTML report."""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Any

import pandas as pd
from prefect import flow, task

from flows.analysis import compute_trends, items_frame, newest_flags, update_themes
from flows.runtime.artifacts import publish_report_artifacts
from flows.runtime.config import config_and_lake, pseudonym_key
from flows.runtime.events import emit
from flows.runtime.logs import logger
from flows.runtime.prefect_server import as_writer
from schemas.tables import THEMES_SCHEMA


@task  # tagged chorus-themes-writer by as_writer
def themes_step(config_path: str) -> dict[str, Any]:
    cfg, lake = config_and_lake(config_path)
    run = update_themes(lake, cfg)
    logger().info(
        "themes: %d (%d new, %d merged), %d items assigned, %.1f%% unassigned",
        run.themes,
        run.born,
        run.merged,
        run.assigned,
        100 * run.unassigned_share,
    )
    return asdict(run)


@task  # tagged chorus-trends-writer by as_writer
def report_step(config_path: str, counts: dict[str, Any] | None = None) -> dict[str, str]:
    """Trends to trends/, then the report files; returns their paths."""
    from transforms.report_model import report_model
    from transforms.report_render import html_report, markdown_report

    cfg, lake = config_and_lake(config_path)
    items = items_frame(lake, cfg, pseudonym_key(cfg))
    trends = compute_trends(lake, cfg, items)
    themes = lake.read_table("themes")
    counts = counts or lake.read_state("runs/process_last")
    themes_df = (
        themes.to_pandas()
        if themes is not None
        else pd.DataFrame(columns=list(THEMES_SCHEMA.names))
    )
    model = report_model(items, trends, themes_df, cfg, counts)
    out_dir = cfg.reports_dir
    os.makedirs(out_dir, exist_ok=True)
    paths = {}
    markdown = markdown_report(model)
    for ext, text in (("md", markdown), ("html", html_report(model))):
        for name in (f"report-{model.as_of}.{ext}", f"latest.{ext}"):
            path = os.path.join(out_dir, name)
            tmp = os.path.join(out_dir, f".{name}.tmp")
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        paths[ext] = os.path.join(out_dir, f"latest.{ext}")
    publish_report_artifacts(model, markdown, paths)
    flags = newest_flags(trends)
    for row in flags[flags["flag"] == "emerging"].itertuples():
        emit(
            "theme_emerging",
            f"chorus.theme.{row.theme_id}",
            {"label": row.theme_label, "segment": row.segment, "count": int(row.count)},
            **{"chorus.segment": row.segment},
        )
    emit(
        "report_published",
        "chorus.report.latest",
        {"html": paths["html"], "markdown": paths["md"], "flags": len(flags), "as_of": model.as_of},
    )
    logger().info("report: %s (%d flagged theme x segment rows)", paths["html"], len(flags))
    return paths


@flow(name="chorus-report", log_prints=True)
def report(config_path: str, counts: dict[str, Any] | None = None) -> dict[str, str]:
    as_writer(themes_step, "chorus-themes-writer")(config_path)
    return as_writer(report_step, "chorus-trends-writer")(config_path, counts)
