"""The whole pipeline: ingest, process, report, in turn."""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.ingest import ingest
from flows.process import run_process
from flows.report import report


@flow(name="chorus-pipeline", log_prints=True)
def pipeline(config_path: str) -> dict[str, Any]:
    landed = ingest(config_path)
    processed = run_process(config_path)  # on the task runner the config names
    paths = report(config_path, processed)
    return {"ingest": landed, "process": processed, "report": paths}
