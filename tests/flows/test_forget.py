"""Forgetting a customer: built with the real pipeline (ingest, process with redaction and the
quality suites, themes, report) on the small file-drop project plus a second week of tickets,
then every file under the lake is searched for what could identify them."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from flows.forget import forget_customer
from tests.conftest import write_small_project

pytestmark = pytest.mark.slow

ANN = "ann@customer.example"  # tickets (week1 and week2, one refused for its date) and beta
ANN_TEXTS = [
    "The CSV export fails with an error.",
    "This row has a date nobody can read",
    "CSV export to Excel times out for our large workspace",
    "Export of the monthly usage report fails with a timeout",
    "Beta export wizard freezes at the column mapping step",
]
WEEK2 = """\
id,created,updated,subject,body,org,email,score
5,2026-10-06T10:00:00Z,2026-10-06T10:00:00Z,Export timeout,CSV export to Excel times out for our large workspace,acc_1,ann@customer.example,1
6,2026-10-07T10:00:00Z,2026-10-07T10:00:00Z,Export,Export of the monthly usage report fails with a timeout,acc_1,ANN@customer.example,2
7,2026-10-07T11:00:00Z,2026-10-07T11:00:00Z,Export slow,The CSV export takes forever and then fails,acc_2,bob@other.example,2
8,2026-10-08T10:00:00Z,2026-10-08T10:00:00Z,Export,Exporting to CSV fails with a timeout error on big reports,acc_3,cy@third.example,2
9,2026-10-08T12:00:00Z,2026-10-08T12:00:00Z,Export,Our CSV exports time out since the last release,acc_2,eve@other.example,1
10,2026-10-09T10:00:00Z,2026-10-09T10:00:00Z,Dashboards,Dashboards are very slow to load in the morning,acc_2,bob@other.example,3
11,2026-10-09T11:00:00Z,2026-10-09T11:00:00Z,Dashboards,The dashboard takes a minute to load for big teams,acc_3,cy@third.example,3
12,2026-10-10T10:00:00Z,2026-10-10T10:00:00Z,Access,Please add ann@customer.example to our workspace as a viewer,acc_2,eve@other.example,4
"""
ANN_BETA = (
    '{"feedback_id": "b-3", "timestamp": "2026-10-06T09:00:00Z", "comment": "Beta export '
    'wizard freezes at the column mapping step", "account_id": "acc_1", "tester_email": '
    '"Ann@Customer.example", "app_version": "5.4.1 (1210)"}\n'
)
SOURCES = ("tickets", "beta", "notes")


def _run_pipeline(config: str, report: bool = True) -> dict[str, Any]:
    from flows.ingest import ingest_source
    from flows.process import process
    from flows.report import report
    from flows.runtime.config import load_config

    for name in SOURCES:
        ingest_source.fn(load_config(config), name)
    stats = process(config)
    if report:
        report(config)
    return stats


@pytest.fixture(scope="module")
def prefect_api():
    """A temporary Prefect API for the processing flow."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="module")
def built(prefect_api, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("forget")
    config = write_small_project(root)
    config.write_text(config.read_text() + "themes: {min_theme_size: 3}\n", encoding="utf-8")
    (root / "inbox/tickets/week2.csv").write_text(WEEK2, encoding="utf-8")
    with open(root / "inbox/beta/b1.jsonl", "a", encoding="utf-8") as fh:
        fh.write(ANN_BETA)
    _run_pipeline(str(config))
    return root


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    """A private copy of the built project (paths in chorus.yaml are relative)."""
    return Path(shutil.copytree(built, tmp_path / "p"))


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _file_text(path: Path) -> str:
    """Everything a file holds, as searchable text: Parquet rows, gunzipped JSON, or bytes."""
    if path.suffix == ".parquet":
        return json.dumps(pq.read_table(path).to_pylist(), default=str, ensure_ascii=False)
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def _feedback(root: Path) -> pd.DataFrame:
    return pd.read_parquet(root / "lake" / "feedback")


def _pseudonym(root: Path, customer: str) -> str:
    from flows.runtime.config import config_and_lake, pseudonym_key
    from transforms import ids

    cfg, _ = config_and_lake(str(root / "chorus.yaml"))
    return ids.pseudonym(customer, pseudonym_key(cfg), "cust")


def test_dry_run_changes_nothing_and_counts_what_would_go(project: Path) -> None:
    before = _fingerprint(project)
    result = forget_customer(str(project / "chorus.yaml"), ANN, dry_run=True)
    assert _fingerprint(project) == before
    assert result["dry_run"] is True
    # week1 rows 1 and 3, week2 rows 5 and 6, the beta line
    assert result["per_source"]["tickets"]["raw"] == 4
    assert result["per_source"]["beta"]["raw"] == 1
    assert result["removed"]["feedback"] == 4  # row 3 was refused for its date
    assert result["removed"]["quarantine"] == 1


def test_forget_removes_every_trace_and_leaves_the_others(project: Path) -> None:
    config = str(project / "chorus.yaml")
    lake = project / "lake"
    pseudonym = _pseudonym(project, ANN)
    fb = _feedback(project)
    mine = fb[fb["customer_id"] == pseudonym]
    assert len(mine) == 4 and set(mine["source"].astype(str)) == {"tickets", "beta"}
    others = fb[fb["customer_id"] != pseudonym].sort_values("feedback_id").reset_index(drop=True)
    quoted = [p.name for p in (project / "reports").glob("*.md") if ANN_TEXTS[2] in p.read_text()]

    result = forget_customer(config, ANN)

    assert result["customer"] == pseudonym and ANN not in json.dumps(result).lower()
    assert result["removed"]["raw"] == 5 and result["removed"]["feedback"] == 4
    assert result["per_source"] == {
        "beta": {"feedback": 1, "raw": 1},
        "tickets": {"feedback": 3, "quarantine": 1, "raw": 4},
    }
    assert result["removed"]["assignments"] == 4
    assert result["removed"]["embedding_cache"] == 4
    assert result["scrubbed_mentions"]["raw"] == 1  # eve's ticket names ann's address
    assert result["still_mentioned"] == []
    assert set(quoted) <= {Path(p).name for p in result["reports_to_rerun"]}

    # nothing under the lake names her: e-mail, pseudonym, feedback ids, texts, vectors
    needles = [ANN, pseudonym, *mine["feedback_id"], *(t.lower() for t in ANN_TEXTS)]
    logs = list((lake / "_state" / "forget").glob("*.json"))
    assert len(logs) == 1 and json.loads(logs[0].read_text())["customer"] == pseudonym
    for path in sorted(p for p in lake.rglob("*") if p.is_file()):
        content = _file_text(path).lower()
        allowed = {pseudonym} if path in logs else set()
        found = [n for n in needles if n.lower() in content and n not in allowed]
        assert not found, f"{path.relative_to(lake)} still holds {found}"
    cache = pd.read_parquet(lake / "_cache" / "embeddings")
    assert not set(mine["text_hash"]) & set(cache["text_hash"])

    # the others are untouched, row for row
    after = _feedback(project).sort_values("feedback_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(after, others)
    assert set(cache["text_hash"]) >= set(others["text_hash"][others["text"] != ""])
    assignments = pd.read_parquet(lake / "assignments")
    assert set(assignments["feedback_id"]) == set(others["feedback_id"][others["text"] != ""])
    themes = pd.read_parquet(lake / "themes")
    assert not {f for r in themes["representative_ids"] for f in r} & set(mine["feedback_id"])

    # the processed-batch state counts what the rewritten batches hold
    for source in SOURCES:
        state = json.loads((lake / "_state" / "process" / f"{source}.json").read_text())
        for batch_id, entry in state["batches"].items():
            with gzip.open(lake / "raw" / source / f"{batch_id}.json.gz") as fh:
                assert entry["items"] == len(json.load(fh)["items"]), (source, batch_id)
    tickets = json.loads((lake / "_state" / "process" / "tickets.json").read_text())["batches"]
    assert sum(e["rows"] for e in tickets.values()) == (others["source"] == "tickets").sum()
    assert sum(e["quarantined"] for e in tickets.values()) == 0

    # a new pipeline run brings nothing back, and the report no longer quotes her
    stats = _run_pipeline(config)
    assert stats["landed"] == 0
    assert len(_feedback(project)) == len(others)
    for path in (project / "reports").glob("*.md"):
        assert not any(t.lower() in path.read_text().lower() for t in ANN_TEXTS), path
    again = forget_customer(config, ANN, dry_run=True)
    assert sum(again["removed"].values()) == 0

    # unless the source delivers her items again: a changed file is read again whole
    with open(project / "inbox/tickets/week2.csv", "a", encoding="utf-8") as fh:
        fh.write(
            "13,2026-10-11T10:00:00Z,2026-10-11T10:00:00Z,Thanks,All good now,acc_2,bob@other.example,5\n"
        )
    _run_pipeline(config, report=False)
    assert (_feedback(project)["customer_id"] == pseudonym).sum() == 2


def test_a_quoted_customer_by_pseudonym_from_the_command_line(project: Path) -> None:
    """Bob is quoted by a theme and in the report: his quotes go, the reports are named."""
    from flows.cli.main import app

    config = str(project / "chorus.yaml")
    bob = _pseudonym(project, "bob@other.example")
    fb = _feedback(project)
    his = fb[fb["customer_id"] == bob]
    assert len(his) == 3
    themes = pd.read_parquet(project / "lake" / "themes")
    quotes = [f for r in themes["representative_ids"] for f in r if f in set(his["feedback_id"])]
    assert quotes, "the data no longer makes bob a representative quote: adjust the test"
    openings = [t[:40] for t in his["text"]]
    reports = {
        p for p in (project / "reports").glob("*.*") if any(o in p.read_text() for o in openings)
    }
    assert reports, "the report no longer quotes bob: adjust the test"
    before = _fingerprint(project / "lake")

    dry = CliRunner().invoke(app, ["forget", "--config", config, "--customer", bob, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"forget {bob} (dry run)" in dry.output and "would remove:" in dry.output
    assert "feedback 3" in dry.output and "bob@other.example" not in dry.output
    assert _fingerprint(project / "lake") == before

    run = CliRunner().invoke(app, ["forget", "--config", config, "--customer", bob])
    assert run.exit_code == 0, run.output
    assert f"theme_quotes {len(quotes)}" in run.output
    for path in reports:
        assert f"quotes them: {path} (re-run the report)" in run.output
    after = _feedback(project)
    assert (after["customer_id"] == bob).sum() == 0 and len(after) == len(fb) - 3
    themes = pd.read_parquet(project / "lake" / "themes")
    assert not {f for r in themes["representative_ids"] for f in r} & set(his["feedback_id"])
    assert sum(map(len, themes["representative_ids"])) > 0  # the other quotes stay
    for path in (project / "lake" / "raw").rglob("*.json.gz"):
        assert "bob@other.example" not in _file_text(path)
    assert CliRunner().invoke(app, ["forget", "--config", config, "--customer", " "]).exit_code == 2
