"""Every connector through the real ingest and process steps, against the local vendor sandbox.

The config is what `chorus sandbox` prints (connectors/common/sandbox/guide.py): one source per
connector type with only its base_url, its credentials and the ids the sandbox uses. Ingest runs
as a plain function (`.fn`), processing as its flow under a temporary Prefect API.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from connectors.common.registry import CONNECTORS, connector_class
from connectors.common.sandbox.guide import sandbox_env, sandbox_guide, sandbox_sources
from connectors.common.sandbox.server import start_sandbox
from flows.ingest import ingest_source
from flows.lake.store import Lake
from flows.process import process
from flows.runtime.config import load_config

ALLOWED = {"name", "type", "base_url", "credentials"}  # besides the ids a connector requires


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory):
    """The sandbox serving every vendor, its credentials in the environment, a chorus.yaml."""
    from prefect.testing.utilities import prefect_test_harness

    root = tmp_path_factory.mktemp("sandbox_run")
    with (
        pytest.MonkeyPatch.context() as env,
        start_sandbox() as sb,
        prefect_test_harness(server_startup_timeout=120),
    ):
        for name, value in sandbox_env(sb).items():
            env.setenv(name, value)
        config = root / "chorus.yaml"
        sources = sandbox_sources(sb)
        config.write_text(yaml.safe_dump({"lake": "lake", "sources": sources}), encoding="utf-8")
        yield sb, str(config), sources


def run_once(config: str, sources: list[dict[str, Any]]) -> tuple[dict[str, int], dict]:
    """Ingest every source, then process what landed: (items landed per source, process stats)."""
    landed = {s["name"]: ingest_source.fn(load_config(config), s["name"])["items"] for s in sources}
    return landed, process(config)


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file under a folder with a hash of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_config_names_every_connector_type_with_only_what_it_requires(project):
    sb, _, sources = project
    assert sorted(s["type"] for s in sources) == sorted(set(CONNECTORS) - {"file_drop"})
    for source in sources:
        fields = connector_class(source["type"]).Options.model_fields
        required = {name for name, f in fields.items() if f.is_required()}
        assert set(source) - ALLOWED <= required, source["type"]
    guide = sandbox_guide(sb)
    assert all(sb.url(vendor) in guide for vendor in sb.apps)
    assert all(f"export {name}=" in guide for name in sandbox_env(sb))


def test_every_source_lands_rows_in_feedback_then_a_second_run_changes_nothing(project):
    sb, config, sources = project
    lake_dir = Path(config).parent / "lake"
    landed, stats = run_once(config, sources)
    assert all(landed.values()), f"sources that landed nothing: {landed}"

    quarantined = Lake(str(lake_dir)).read_quarantine().to_pylist()
    for row in quarantined:
        print(f"quarantined: {row['source']} {row['source_id']}: {row['reason']}")
    # only what the quality suite must refuse: crash reports sent without a comment
    empty_crashes = {
        ("testflight", c["id"], "invalid: empty: no text, no title and no score")
        for c in sb.vendor("apple").store["crashes"]
        if not c["attributes"].get("comment")
    }
    assert empty_crashes
    assert {(r["source"], r["source_id"], r["reason"]) for r in quarantined} == empty_crashes
    assert stats["quarantined"] == len(empty_crashes)

    feedback = pd.read_parquet(lake_dir / "feedback")
    assert set(feedback["source"]) == {s["name"] for s in sources}
    assert feedback["feedback_id"].is_unique
    print({name: (src["landed"], src["rows"]) for name, src in stats["per_source"].items()})
    assert all(src["rows"] for src in stats["per_source"].values())
    assert stats["written"] == len(feedback)

    before = fingerprint(lake_dir / "feedback")
    landed_again, again = run_once(config, sources)
    assert landed_again == {s["name"]: 0 for s in sources}
    assert again["batches"] == again["written"] == 0
    assert fingerprint(lake_dir / "feedback") == before


def test_chorus_run_pulls_every_connector_through_prefect(project, tmp_path: Path) -> None:
    """The acceptance path: `chorus run --config` (ephemeral Prefect API) with every connector."""
    import os
    import subprocess
    import sys

    sb, config, sources = project
    fresh = tmp_path / "chorus.yaml"
    fresh.write_text(
        yaml.safe_dump({"lake": "lake", "reports": "reports", "sources": sources}), encoding="utf-8"
    )
    chorus = Path(sys.executable).with_name("chorus")
    done = subprocess.run(
        [str(chorus), "run", "--config", str(fresh)],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "report:" in done.stdout
    feedback = pd.read_parquet(tmp_path / "lake" / "feedback")
    assert set(feedback["source"].astype(str)) == {s["name"] for s in sources}
    assert feedback["feedback_id"].is_unique
    assert (tmp_path / "reports" / "latest.html").exists()
