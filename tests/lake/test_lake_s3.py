"""The lake on object storage through fsspec: a local S3 server (moto's server mode on
127.0.0.1) holds the lake; the pipeline writes the same rows there as on a local disk."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from flows.lake.store import Lake

pytestmark = pytest.mark.slow
BUCKET = "chorus-lake"


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    saved = {
        k: os.environ.get(k)
        for k in (
            "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION",
        )
    }
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://{host}:{port}",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    import boto3

    boto3.client("s3", endpoint_url=f"http://{host}:{port}").create_bucket(Bucket=BUCKET)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def prefect_api():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def _s3fs():
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    return s3fs.S3FileSystem()


def test_lake_primitives_on_s3(s3_server):
    lake = Lake(f"s3://{BUCKET}/unit")
    assert not lake.local
    lake.write_state("ingest/x", {"cursor": 3})
    assert lake.read_state("ingest/x") == {"cursor": 3}
    batch = lake.land_raw("x", "b1", [{"id": 1, "text": "hello"}], {"page": 1})
    assert [b.batch_id for b in lake.raw_batches("x")] == ["b1"]
    assert lake.read_raw(batch)["items"] == [{"id": 1, "text": "hello"}]
    # the objects really are in the bucket, with no temporary names left behind
    keys = _s3fs().find(f"{BUCKET}/unit")
    assert sorted(k.split("/unit/", 1)[1] for k in keys) == [
        "_state/ingest/x.json",
        "raw/x/b1.json.gz",
    ]


def _run_pipeline(config: Path) -> dict:
    from flows.pipeline import pipeline

    return pipeline(str(config))


def _rows(table) -> list[dict]:
    rows = table.drop_columns(["ingested_at"]).to_pylist()
    return sorted(rows, key=lambda r: r["feedback_id"])


def test_pipeline_on_s3_matches_local(
    s3_server, prefect_api, small_project: Path, tmp_path_factory: pytest.TempPathFactory
):
    project = small_project.parent
    local_root = tmp_path_factory.mktemp("local") / "project"
    shutil.copytree(project, local_root)
    cfg_text = small_project.read_text()
    small_project.write_text(cfg_text.replace("lake: lake", f"lake: s3://{BUCKET}/pipeline"))
    remote = _run_pipeline(small_project)
    local = _run_pipeline(local_root / "chorus.yaml")
    assert remote["process"]["written"] == local["process"]["written"] > 0
    assert remote["process"]["quarantined"] == local["process"]["quarantined"] > 0

    fs = _s3fs()
    parts = sorted(fs.glob(f"{BUCKET}/pipeline/feedback/source=*/created_month=*/part-0.parquet"))
    assert parts, fs.find(f"{BUCKET}/pipeline")
    import pyarrow as pa

    remote_rows = pa.concat_tables(
        [pq.read_table(io.BytesIO(fs.cat_file(p))) for p in parts], promote_options="default"
    )
    local_rows = pq.read_table(local_root / "lake" / "feedback")
    local_rows = local_rows.select(remote_rows.column_names)
    assert _rows(remote_rows) == _rows(local_rows)
    assert fs.find(f"{BUCKET}/pipeline/quarantine")
    assert not [k for k in fs.find(f"{BUCKET}/pipeline") if "/.tmp-" in k]

    # a second run over the same bucket lands and writes nothing new
    again = _run_pipeline(small_project)
    assert again["process"]["written"] == 0
    assert Lake(f"s3://{BUCKET}/pipeline").read_feedback().num_rows == remote_rows.num_rows
