"""Scale-out: the processing flow on prefect-dask's DaskTaskRunner over a local cluster of two
worker processes gives exactly the lake the default run gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prefect_api():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def _rows(path: Path, drop: tuple[str, ...]) -> list[dict]:
    table = pq.read_table(path)
    table = table.drop_columns([c for c in drop if c in table.column_names])
    rows = table.to_pylist()
    return sorted(rows, key=lambda r: (str(r.get("feedback_id")), str(r.get("reason"))))


def test_dask_task_runner_matches_default_run(
    prefect_api, small_project: Path, tmp_path_factory: pytest.TempPathFactory
):
    from flows.ingest import ingest
    from flows.process import run_process

    project = small_project.parent
    dask_root = tmp_path_factory.mktemp("dask") / "project"
    shutil.copytree(project, dask_root)
    dask_config = dask_root / "chorus.yaml"
    # small chunks, so the two workers really share the batches
    dask_config.write_text(
        small_project.read_text()
        + "processing: {task_runner: dask, dask_workers: 2, chunk_rows: 1}\n"
    )
    small_project.write_text(small_project.read_text() + "processing: {chunk_rows: 1}\n")

    ingest(str(small_project))
    ingest(str(dask_config))
    plain = run_process(str(small_project))
    on_dask = run_process(str(dask_config))

    assert on_dask["task_runner"].startswith("DaskTaskRunner")
    assert on_dask["chunks"] >= 2, on_dask
    for key in ("landed", "written", "quarantined", "rows", "embedded", "unchanged"):
        assert on_dask[key] == plain[key], (key, on_dask, plain)
    volatile = ("ingested_at",)
    assert _rows(dask_root / "lake" / "feedback", volatile) == _rows(
        project / "lake" / "feedback", volatile
    )
    assert _rows(dask_root / "lake" / "quarantine", ("quarantined_at",)) == _rows(
        project / "lake" / "quarantine", ("quarantined_at",)
    )
    # a second run on either lake finds nothing left to do
    assert run_process(str(dask_config))["written"] == 0
