"""The whole pipeline: ingest, process, report, in turn."""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.ingest import ingest
from flows.process import process
from flows.report import report


@flow(name="chorus-pipeline", log_prints=True)
def pipeline(config_path: str) -> dict[str, Any]:
    landed = ingest(config_path)
    processed = process(config_path)
    paths = report(config_path, processed)
    return {"ingest": landed, "process": processed, "report": paths}
