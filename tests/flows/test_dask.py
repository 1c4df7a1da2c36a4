"""Scale-out: the processing flow on prefect-dask's DaskTaskRunner over a local cluster of two
worker processes, and the default run parsing in its own pool of worker processes, give exactly
the lake a run that parses everything in one process gives."""

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


def test_dask_runner_and_parse_pool_match_a_single_process_run(
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
    one_root = tmp_path_factory.mktemp("one") / "project"
    shutil.copytree(project, one_root)
    one_config = one_root / "chorus.yaml"
    one_config.write_text(
        small_project.read_text() + "processing: {chunk_rows: 1, parse_workers: 1}\n"
    )
    small_project.write_text(small_project.read_text() + "processing: {chunk_rows: 1}\n")

    for config in (small_project, dask_config, one_config):
        ingest(str(config))
    plain = run_process(str(small_project))
    on_dask = run_process(str(dask_config))
    in_one = run_process(str(one_config))

    assert on_dask["task_runner"].startswith("DaskTaskRunner")
    assert on_dask["chunks"] >= 2, on_dask
    assert plain["parse_workers"] == 2 and in_one["parse_workers"] == 1, (plain, in_one)
    assert on_dask["parse_workers"] == 1  # Dask's workers are the processes there
    volatile = ("ingested_at",)
    for other, root in ((on_dask, dask_root), (plain, project)):
        for key in ("landed", "written", "quarantined", "rows", "embedded", "unchanged"):
            assert other[key] == in_one[key], (key, other, in_one)
        assert _rows(root / "lake" / "feedback", volatile) == _rows(
            one_root / "lake" / "feedback", volatile
        )
        assert _rows(root / "lake" / "quarantine", ("quarantined_at",)) == _rows(
            one_root / "lake" / "quarantine", ("quarantined_at",)
        )
    # a second run on either lake finds nothing left to do
    assert run_process(str(dask_config))["written"] == 0
