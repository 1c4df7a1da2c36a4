"""Counts reconcile on every processing run, and two processing runs at once count nothing twice.

Every landed item ends in exactly one place: landed + extra rows (a developer reply, a
conversation rating) = written + unchanged + stale + superseded + quarantined (parser, checks
and the quality suites) + not feedback (Slack joins, bot messages). The processing flow checks
this before it commits any state, logs it, and the report shows it.

The project: the small file-drop project plus Slack (system and bot messages) and Google Play
(developer replies) from the vendor sandbox, with the real Great Expectations gate.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from flows.processing.process_stats import ProcessStats
from flows.runtime.config import load_config
from tests.conftest import write_small_project

pytestmark = pytest.mark.slow

WEEK2 = (  # ticket 9 twice (the older is superseded), ticket 10 updated before it was created
    "id,created,updated,subject,body,org,email,score\n"
    "9,2026-10-06T10:00:00Z,2026-10-06T10:00:00Z,Search,Search misses exact titles,acc_2,bob@other.example,2\n"
    "9,2026-10-06T10:00:00Z,2026-10-07T10:00:00Z,Search,Search misses exact titles and tags,acc_2,bob@other.example,2\n"
    "10,2026-10-08T10:00:00Z,2026-10-01T10:00:00Z,Clock,Updated a week before it was created,acc_1,ann@customer.example,3\n"
)  # fmt: skip
WEEK3 = (  # ticket 2 again as it is (unchanged), ticket 9 older than stored (stale), 4 updated
    "id,created,updated,subject,body,org,email,score\n"
    "2,2026-10-02T10:00:00Z,2026-10-02T10:00:00Z,Slow dashboards,Dashboards take 30 seconds to load every morning,acc_2,bob@other.example,3\n"
    "9,2026-10-06T10:00:00Z,2026-10-06T12:00:00Z,Search,Search misses titles,acc_2,bob@other.example,2\n"
    "4,2026-10-03T10:00:00Z,2026-10-09T11:00:00Z,Billing,Billing page still shows the old plan,acc_3,cy@third.example,4\n"
)  # fmt: skip
TERMS = ("written", "unchanged", "stale", "superseded", "quarantined", "skipped")


def balanced(stats: dict) -> bool:
    return stats["landed"] + stats["expanded"] == sum(stats[k] for k in TERMS)


@pytest.fixture(scope="module")
def prefect_api():
    """A temporary Prefect API for the processing flow; the forked children use it too."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="module")
def project(prefect_api, tmp_path_factory: pytest.TempPathFactory):
    from connectors.common.sandbox.guide import sandbox_env, sandbox_sources
    from connectors.common.sandbox.server import start_sandbox

    with (
        pytest.MonkeyPatch.context() as env,
        start_sandbox(vendors=("slack", "google_play")) as sb,
    ):
        for name, value in sandbox_env(sb).items():
            env.setenv(name, value)
        root = tmp_path_factory.mktemp("reconcile")
        config = write_small_project(root)
        (root / "inbox/tickets/week2.csv").write_text(WEEK2, encoding="utf-8")
        cfg = yaml.safe_load(config.read_text())
        cfg["sources"] += sandbox_sources(sb)
        config.write_text(yaml.safe_dump(cfg), encoding="utf-8")
        yield str(config), [s["name"] for s in cfg["sources"]]


def ingest_and_process(config: str, sources: list[str]) -> dict:
    from flows.ingest import ingest_source
    from flows.process import process

    for name in sources:
        ingest_source.fn(load_config(config), name)
    return process(config)


@pytest.fixture(scope="module")
def runs(project):
    """Two processing runs (the second after a third file): their stats, log lines, lake counts."""
    config, sources = project
    lake = Path(config).parent / "lake"
    # the log line comes from a task of the flow, through Prefect's run logger; Prefect sets its
    # logging up again at each flow run (handlers added beforehand are dropped), so the test
    # listens where the line is written: every message given to the run logger is kept too
    import flows.processing.feedback_commit as feedback_commit

    handler, real_logger = _Records(), feedback_commit.logger

    def listening_logger():  # noqa: ANN202
        log = real_logger()
        original = log.info

        def info(msg, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            handler.messages.append(msg % args if args else msg)
            return original(msg, *args, **kwargs)

        log.info = info
        return log

    feedback_commit.logger = listening_logger
    try:
        first = ingest_and_process(config, sources)
        rows_after_first = len(pd.read_parquet(lake / "feedback"))
        quarantined_after_first = len(pd.read_parquet(lake / "quarantine"))
        (Path(config).parent / "inbox/tickets/week3.csv").write_text(WEEK3, encoding="utf-8")
        second = ingest_and_process(config, sources)
    finally:
        feedback_commit.logger = real_logger
    lines = [m for m in handler.messages if m.startswith("processed ")]
    return first, second, lines, rows_after_first, quarantined_after_first


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_every_run_reconciles_with_each_kind_of_outcome(runs) -> None:
    first, second, _, rows, quarantined = runs
    assert balanced(first) and balanced(second), (first, second)
    # the first run has every term: replies, Slack events, a superseded version, refusals
    assert first["expanded"] >= 1 and first["skipped"] >= 1, first
    assert first["superseded"] == 1 and first["quality_quarantined"] == 1, first
    assert first["quarantined"] >= 3 and first["unchanged"] == first["stale"] == 0, first
    # ... and its counts are what the lake holds
    assert first["written"] == rows
    assert first["quarantined"] == quarantined
    # the second: one unchanged, one older than stored, one updated
    assert (second["landed"], second["written"]) == (3, 1), second
    assert (second["unchanged"], second["stale"], second["quarantined"]) == (1, 1, 0), second


def test_the_log_line_states_the_reconciliation(runs) -> None:
    first, second, lines, _, _ = runs
    assert len(lines) == 2
    for stats, line in zip((first, second), lines, strict=True):
        expected = (
            f"{stats['landed']} items landed + {stats['expanded']} extra rows = "
            f"{stats['written']} written + {stats['unchanged']} unchanged + {stats['stale']} stale"
            f" + {stats['superseded']} superseded + {stats['quarantined']} quarantined "
            f"({stats['quality_quarantined']} by the quality suites) + {stats['skipped']} not feedback"
        )
        assert expected in line, line


def test_the_report_shows_the_reconciliation_of_the_last_run(runs, project) -> None:
    from flows.report import report

    first, second, _, _, _ = runs
    config, _ = project
    for counts, stats in ((first, first), (None, second)):  # None: the last run's, from state
        md = Path(report(config, counts)["md"]).read_text()
        line = re.search(r"this run: ([^\n]*)\.", md).group(1)
        left, right = line.split(" = ")
        numbers = [int(n.replace(",", "")) for n in re.findall(r"(\d[\d,]*) ", right)]
        assert sum(numbers) == stats["landed"] + stats["expanded"], line
        assert left == f"{stats['landed']:,} landed" + (
            f" + {stats['expanded']:,} extra rows (replies, ratings)" if stats["expanded"] else ""
        )
        html = (Path(config).parent / "reports/latest.html").read_text()
        assert line in html
        if stats is first:
            assert f"{first['skipped']:,} not feedback (system events, bots)" in right
            assert f"{first['superseded']:,} superseded in the same run" in right


def test_the_report_line_names_extra_rows_and_items_that_are_not_feedback() -> None:
    from transforms.report_render import _reconciliation

    text = _reconciliation(
        {"landed": 10, "expanded": 2, "written": 7, "unchanged": 1, "superseded": 1}
        | {"quarantined": 2, "skipped": 1}
    )
    assert text == (
        "10 landed + 2 extra rows (replies, ratings) = 7 written + 1 unchanged + "
        "1 superseded in the same run + 2 quarantined + 1 not feedback (system events, bots)"
    )


@pytest.mark.parametrize("term", ["landed", "expanded", *TERMS, "rows"])
def test_any_count_off_by_one_is_a_reconciliation_problem_naming_the_counts(term: str) -> None:
    stats = ProcessStats(landed=10, expanded=2, rows=8, written=5, unchanged=1, stale=1)
    stats.superseded, stats.quarantined, stats.skipped = 1, 3, 1
    assert stats.reconciliation_problem() is None
    setattr(stats, term, getattr(stats, term) + 1)
    problem = stats.reconciliation_problem()
    assert problem and problem.startswith("counts do not reconcile")
    assert f"{stats.landed} landed + {stats.expanded} extra rows" in problem
    assert f"{stats.written} written" in problem and f"{stats.skipped} not feedback" in problem


def test_a_mismatch_logs_an_error_fails_the_run_and_commits_no_state(
    project, runs, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An upsert that loses count of a row (a bug) must not pass silently."""
    from dataclasses import replace

    from flows.lake.store import Lake
    from flows.process import pending_batches, process

    config, sources = project
    (Path(config).parent / "inbox/tickets/week4.csv").write_text(
        WEEK3.replace("2026-10-09T11", "2026-10-10T11"), encoding="utf-8"
    )
    from flows.ingest import ingest_source

    ingest_source.fn(load_config(config), "tickets")
    pending = pending_batches.fn(load_config(config))
    assert pending
    upsert = Lake.upsert_feedback
    monkeypatch.setattr(
        Lake, "upsert_feedback", lambda self, rows: replace(upsert(self, rows), unchanged=0)
    )
    with caplog.at_level(logging.ERROR, "chorus"), pytest.raises(RuntimeError) as err:
        process(config)
    assert "counts do not reconcile" in str(err.value)
    assert any("counts do not reconcile" in r.getMessage() for r in caplog.records)
    assert pending_batches.fn(load_config(config)) == pending  # nothing marked processed
    monkeypatch.undo()
    assert balanced(process(config))


# ---- two processing runs at once -------------------------------------------------------------
def test_two_processing_runs_at_once_lose_nothing_and_count_nothing_twice(
    runs, tmp_path: Path
) -> None:
    """Two forked processes run `process` on one lake at once; the lake equals a single run's
    and the two runs' counts add up to the single run's (the second waits, then finds the work
    done). The quality gate passes rows through here (each child would spend seconds in it)."""
    import torch

    from flows.ingest import ingest_source
    from flows.processing import quality_gate
    from tests.lake.test_crash import diff, lake_content, spawn, wait

    root = tmp_path / "p"
    root.mkdir()
    config = str(write_small_project(root))
    for name in ("tickets", "beta", "notes"):
        ingest_source.fn(load_config(config), name)
    shutil.copytree(root, tmp_path / "single")

    def process_once(cfg: str, out: Path) -> Callable[[], None]:
        def run() -> None:
            from flows.process import process

            started = time.time()
            stats = process(cfg)
            out.write_text(json.dumps({**stats, "span": [started, time.time()]}))

        return run

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(quality_gate, "QualityGate", _PassThrough)
        try:
            outs = [tmp_path / "a.json", tmp_path / "b.json", tmp_path / "single.json"]
            pids = [spawn(process_once(config, o), o.with_suffix(".log")) for o in outs[:2]]
            for pid, o in zip(pids, outs, strict=False):
                status, log = wait(pid, o.with_suffix(".log"))
                assert status == 0, log[-2000:]
            single_cfg = str(tmp_path / "single/chorus.yaml")
            status, log = wait(
                spawn(process_once(single_cfg, outs[2]), tmp_path / "s.log"), tmp_path / "s.log"
            )
            assert status == 0, log[-2000:]
        finally:
            torch.set_num_threads(threads)
    a, b, single = (json.loads(o.read_text()) for o in outs)
    assert a["span"][0] < b["span"][1] and b["span"][0] < a["span"][1], "the runs did not overlap"
    for key in ("batches", "landed", "written", "quarantined", "embedded"):
        assert a[key] + b[key] == single[key], (key, a, b, single)
    assert min(a["batches"], b["batches"]) == 0  # the second found the work done
    want, got = lake_content(tmp_path / "single/lake"), lake_content(root / "lake")
    assert got == want, diff(want, got)


class _PassThrough:
    def __init__(self, *args: object) -> None:
        pass

    def warm_up(self) -> None:
        pass

    def check(self, batches, rows, table, stats, done):  # noqa: ANN001
        return table
