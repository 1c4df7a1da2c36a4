"""Report: themes with stable ids, weighted trends per segment, and the Markdown/HTML report.

The first task reads the lake and writes every dataset the report derives: feedback/ is read
once for both the themes and the items frame (one row per item with its weights, too large to
pass between tasks), so theming and trends share that task. What it hands on is the report's
content, a small model: the rendering task writes the report files from it, the publishing task
announces them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.lake.store import Lake
from flows.runtime.artifacts import publish_report_artifacts
from flows.runtime.config import ChorusConfig, load_config, pseudonym_key
from flows.runtime.events import emit
from flows.runtime.logs import logger
from flows.runtime.prefect_server import as_writer
from flows.runtime.report_datasets import (
    read_feedback_and_corpus,
    report_customers,
    trend_params,
    update_themes,
)
from transforms.report_model import ReportModel, report_model
from transforms.report_render import html_report, markdown_report
from transforms.trends import newest_flags, theme_trends
from transforms.weighted_items import weighted_items

# the task writes themes/, assignments/ and lineage/ (one tag) and trends/ (the other)
REPORT_WRITER_TAGS = ("chorus-themes-writer", "chorus-trends-writer")


@dataclass(frozen=True)
class ReportContent:
    model: ReportModel
    flags: list[dict[str, Any]]  # the newest period's flagged theme x segment rows


@task(cache_policy=NO_CACHE)  # tagged with REPORT_WRITER_TAGS by as_writer
def themes_and_trends(cfg: ChorusConfig, counts: dict[str, Any] | None = None) -> ReportContent:
    """Themes to themes/, assignments/ and lineage/, weighted trends to trends/, and the report's
    content; feedback/, themes/, assignments/ and lineage/ are each read once."""
    lake = Lake(cfg.lake_url)
    feedback, corpus = read_feedback_and_corpus(lake)
    update = update_themes(lake, cfg, corpus)
    del corpus
    run = update.run
    logger().info(
        "themes: %d (%d new, %d merged), %d items assigned, %.1f%% unassigned",
        run.themes,
        run.born,
        run.merged,
        run.assigned,
        100 * run.unassigned_share,
    )
    customers = report_customers(cfg, pseudonym_key(cfg))
    items = weighted_items(
        feedback,
        update.assignments,
        customers,
        cfg.report.period,
        cfg.segments,
        cfg.personas,
        cfg.weighting,
    )
    del feedback
    themes = update.themes.to_pandas()
    trends = theme_trends(items, themes, cfg.weighting.version, trend_params(cfg))
    lake.replace_table("trends", pa.Table.from_pandas(trends, preserve_index=False))
    counts = counts or lake.read_state("runs/process_last")
    flags = newest_flags(trends)[["theme_id", "theme_label", "segment", "flag", "count"]]
    return ReportContent(report_model(items, trends, themes, cfg, counts), flags.to_dict("records"))


@task(cache_policy=NO_CACHE)
def write_report(cfg: ChorusConfig, model: ReportModel) -> dict[str, str]:
    """The report as Markdown and HTML, dated and as latest.*, under reports/; the latest paths."""
    out_dir = cfg.reports_dir
    os.makedirs(out_dir, exist_ok=True)
    paths = {}
    for ext, text in (("md", markdown_report(model)), ("html", html_report(model))):
        for name in (f"report-{model.as_of}.{ext}", f"latest.{ext}"):
            tmp = os.path.join(out_dir, f".{name}.tmp")
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, os.path.join(out_dir, name))
        paths[ext] = os.path.join(out_dir, f"latest.{ext}")
    return paths


@task(cache_policy=NO_CACHE)
def publish_report(content: ReportContent, paths: dict[str, str]) -> None:
    """The report as Prefect artifacts, a theme_emerging event per emerging theme x segment, and
    report_published."""
    model, flags = content.model, content.flags
    publish_report_artifacts(model, Path(paths["md"]).read_text(encoding="utf-8"), paths)
    for row in flags:
        if row["flag"] == "emerging":
            emit(
                "theme_emerging",
                f"chorus.theme.{row['theme_id']}",
                {
                    "label": row["theme_label"],
                    "segment": row["segment"],
                    "count": int(row["count"]),
                },
                **{"chorus.segment": row["segment"]},
            )
    emit(
        "report_published",
        "chorus.report.latest",
        {"html": paths["html"], "markdown": paths["md"], "flags": len(flags), "as_of": model.as_of},
    )
    logger().info("report: %s (%d flagged theme x segment rows)", paths["html"], len(flags))


@flow(name="chorus-report", log_prints=True)
def report(config_path: str, counts: dict[str, Any] | None = None) -> dict[str, str]:
    cfg = load_config(config_path)
    content = as_writer(themes_and_trends, *REPORT_WRITER_TAGS)(cfg, counts)
    paths = write_report(cfg, content.model)
    publish_report(content, paths)
    return paths
