"""Crash safety: ingest, process and report are killed with SIGKILL at every named crash point
(flows/lake/crash_points.py); a re-run then gives exactly the lake of a clean run, and disk full or
permission denied fail with a clear message and leave the lake consistent.

Every run is a child forked from one warm process (imports done, embedding weights loaded once),
so a killed run costs a fraction of a second: the child runs the pipeline with CHORUS_CRASH_AT
set and dies by SIGKILL at that point (the point writes a marker to stderr first); a second
child re-runs it without; the lake must equal the clean run's lake, dataset by dataset.

The project: the small file-drop project (CSV tickets cut into 2-item batches, JSON Lines beta
feedback, Markdown notes) plus Zendesk through the local vendor sandbox (3 records a page, so
the cursor commits page by page). The run: ingest + process, new files dropped (an update, a
new month, two versions of one item, bad rows), ingest + process again, then themes and report.

The Great Expectations quality gate passes rows through here: it takes about 4 s a run and on
this data refuses no row, so it writes nothing to the lake (tests/lake/test_reconcile.py runs it).
"""

from __future__ import annotations

import errno
import functools
import gzip
import json
import os
import shutil
import signal
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from flows.lake.crash_points import CRASH_ENV, FAULT_ENV, MARKER, POINTS, TRACE_ENV
from tests.conftest import write_small_project

pytestmark = pytest.mark.slow

VOLATILE = {"ingested_at", "quarantined_at", "landed_at", "at"}  # wall-clock times of a run
RESULTS: dict[str, Any] = {}  # what the module found, for the report (printed at the end)


# ---- running the pipeline in a forked child ------------------------------------------------
def spawn(fn: Callable[[], object], log: Path, env: dict[str, str] | None = None) -> int:
    """Run fn in a forked child (stdout and stderr to `log`); its pid."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 70
        try:
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.environ.update(env or {})
            import torch

            torch.set_num_threads(1)  # no thread pool inherited half-made across fork
            fn()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    return pid


def in_child(fn: Callable[[], object], log: Path, env: dict | None = None) -> tuple[int, str]:
    return wait(spawn(fn, log, env), log)


def wait(pid: int, log: Path, timeout: float = 120) -> tuple[int, str]:
    """(wait status, the child's output); a child that hangs is killed and fails the test."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status, log.read_text(errors="replace")
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"child {pid} hung for {timeout}s: {log.read_text()[-2000:]}")
        time.sleep(0.01)


def add_second_drop(root: Path) -> None:
    """New files: an updated ticket, a new month, two versions of one ticket, bad rows."""
    (root / "inbox/tickets/week2.csv").write_text(
        "id,created,updated,subject,body,org,email,score\n"
        "2,2026-10-02T10:00:00Z,2026-10-06T10:00:00Z,Slow dashboards,Dashboards now take 40 seconds to load,acc_2,bob@other.example,2\n"
        "5,2026-11-02T10:00:00Z,2026-11-02T10:00:00Z,Export again,The CSV export fails again for large files,acc_1,ann@customer.example,2\n"
        "6,2026-11-03T10:00:00Z,2026-11-03T10:00:00Z,SSO,We need SSO with Okta for our team,acc_3,cy@third.example,3\n"
        "6,2026-11-03T10:00:00Z,2026-11-04T10:00:00Z,SSO,We need SSO with Okta for all our teams,acc_3,cy@third.example,3\n"
        "7,yesterday,,Bad,Nobody can read this date,acc_1,ann@customer.example,1\n",
        encoding="utf-8",
    )  # fmt: skip
    (root / "inbox/beta/b2.jsonl").write_text(
        '{"feedback_id": "b-3", "timestamp": 1793700000, "comment": "Share sheet still crashes on iPad", "account_id": "acc_1", "tester_email": "dee@other.example"}\n'
        '{"feedback_id": "b-4", "timestamp": "2026-11-05T09:00:00+05:30", "comment": "Dark mode works now, thanks!", "account_id": "acc_2"}\n'
        '{"feedback_id": "", "timestamp": "2026-11-05T09:00:00Z", "comment": "no id"}\n',
        encoding="utf-8",
    )  # fmt: skip
    (root / "inbox/notes/2026-11-06-call.md").write_text(
        "---\ntitle: Call with Gamma\ndate: 2026-11-06\naccount: acc_3\n---\nThey want SSO with Okta and faster dashboards.\n",
        encoding="utf-8",
    )


STEPS = ("ingest", "process", "drop", "ingest", "process", "report")


def run_steps(config: str, sources: list[str], start: int = 0, after=None) -> None:  # noqa: ANN001
    """The pipeline from step `start`: ingest + process, a second drop of files, ingest +
    process again, report (themes, trends, the report); `after(k)` is called once step k is done."""
    from flows.ingest import ingest_source
    from flows.process import process
    from flows.report import report
    from flows.runtime.config import load_config

    for k in range(start, len(STEPS)):
        step = STEPS[k]
        if step == "ingest":
            for name in sources:
                ingest_source.fn(load_config(config), name)
        elif step == "process":
            process(config)
        elif step == "drop":
            add_second_drop(Path(config).parent)
        else:
            report(config)
        if after:
            after(k)


# ---- what a lake holds, volatile times left out -------------------------------------------
def _rows(table: Any) -> list[str]:
    keep = [c for c in table.column_names if c not in VOLATILE]
    return sorted(
        json.dumps(r, sort_keys=True, default=str) for r in table.select(keep).to_pylist()
    )


def lake_content(lake: Path) -> dict[str, Any]:
    """Every file a reader sees, by path: Parquet rows (sorted), raw batches, state JSON."""
    out: dict[str, Any] = {}
    for p in sorted(lake.rglob("*")):
        rel = p.relative_to(lake).as_posix()
        if not p.is_file() or rel.startswith("_locks/") or p.name.startswith("."):
            continue
        if rel == "_state/runs/process_last.json":  # the last run's own counts, checked apart
            continue
        if p.suffix == ".parquet":
            out[rel] = _rows(pq.read_table(p))
        elif p.name.endswith(".json.gz"):
            doc = json.loads(gzip.decompress(p.read_bytes()))
            out[rel] = {k: v for k, v in doc.items() if k not in VOLATILE}
        elif p.suffix == ".json":
            out[rel] = json.loads(p.read_text())
        else:
            out[rel] = p.read_bytes()
    return out


def assert_readable(lake: Path) -> None:
    """What readers see: one row per feedback_id, every Parquet file whole, no temp file in a glob."""
    import duckdb
    import pandas as pd

    if any((lake / "feedback").rglob("part-0.parquet")):
        fb = pd.read_parquet(lake / "feedback")
        assert fb["feedback_id"].is_unique, "a feedback row is duplicated"
        n, distinct = duckdb.sql(
            f"select count(*), count(distinct feedback_id) from read_parquet('{lake}/feedback/**/*.parquet', hive_partitioning = true)"
        ).fetchall()[0]
        assert n == distinct == len(fb)
    for name in ("themes", "assignments", "trends", "lineage", "quarantine", "_cache"):
        if any((lake / name).rglob("*.parquet")):
            pd.read_parquet(lake / name)
    for p in [*lake.rglob("*.json"), *lake.rglob("*.json.gz")]:
        if not p.name.startswith("."):
            json.loads(gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_text())


def diff(want: dict[str, Any], got: dict[str, Any]) -> str:
    lines = [f"missing: {p}" for p in sorted(set(want) - set(got))]
    lines += [f"extra: {p}" for p in sorted(set(got) - set(want))]
    lines += [f"differs: {p}" for p in sorted(set(want) & set(got)) if want[p] != got[p]]
    return "\n".join(lines)


# ---- fixtures --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory):
    """The pristine project (no lake yet) and its source names; Zendesk is the vendor sandbox
    cut down to 4 tickets with their comments and ratings."""
    from connectors.common.sandbox.guide import sandbox_env, sandbox_sources
    from connectors.common.sandbox.server import start_sandbox

    with (
        pytest.MonkeyPatch.context() as env,
        start_sandbox(vendors=("zendesk",), page_size_cap=3) as sb,
    ):
        store = sb.vendor("zendesk").store
        keep = {t["id"] for t in store["tickets"][:4]}
        store["tickets"] = [t for t in store["tickets"] if t["id"] in keep]
        store["comments"] = [c for c in store["comments"] if c.get("_ticket_id") in keep]
        store["ratings"] = [r for r in store["ratings"] if r.get("ticket_id") in keep]
        for name, value in sandbox_env(sb).items():
            env.setenv(name, value)
        root = tmp_path_factory.mktemp("crash_project") / "p"
        root.mkdir()
        config = write_small_project(root)
        cfg = yaml.safe_load(config.read_text())
        cfg["sources"][0]["batch_size"] = 2  # 2 tickets a batch: the cursor commits in between
        cfg["sources"] += sandbox_sources(sb)
        cfg["themes"] = {"min_theme_size": 2}
        config.write_text(yaml.safe_dump(cfg), encoding="utf-8")
        yield root, [s["name"] for s in cfg["sources"]]


@pytest.fixture(scope="module")
def prefect_api():
    """A temporary Prefect API for the processing flow; the forked children use it too. Flow
    run heartbeats (the API's crash detection) are off: each run would wait up to a second for
    its heartbeat thread, and the children run the flow a hundred times."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with (
        prefect_test_harness(server_startup_timeout=120),
        temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
    ):
        yield


@pytest.fixture(scope="module")
def clean(
    prefect_api, project, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
):
    """A clean run in this process (which warms every import, the embedding model and the
    language identifier for the children forked later): the project as it stood before each
    step, the crash points passed in each step in order, and the final lake's content.

    Torch runs single-threaded while this module forks, so no thread pool is half-copied."""
    import torch

    from flows.processing import quality_gate

    root, sources = project
    base = tmp_path_factory.mktemp("clean")
    shutil.copytree(root, base / "before-0")
    run_dir = base / "run"
    shutil.copytree(root, run_dir)
    trace = base / "trace.txt"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as mp:
        passing = SimpleNamespace(
            check=lambda batches, rows, table, stats, done: table, warm_up=lambda: None
        )
        mp.setattr(quality_gate, "QualityGate", lambda *args: passing)  # see the module docstring
        mp.setenv(TRACE_ENV, str(trace))

        def after(k: int) -> None:
            with trace.open("a") as fh:
                fh.write(f"step-done-{k}\n")
            shutil.copytree(run_dir, base / f"before-{k + 1}")

        started = time.monotonic()
        run_steps(str(run_dir / "chorus.yaml"), sources, 0, after)
        RESULTS["clean run in a warm process (s)"] = round(time.monotonic() - started, 2)
        mp.delenv(TRACE_ENV)
        lake = run_dir / "lake"
        assert_readable(lake)
        content = lake_content(lake)
        assert any(p.startswith("feedback/source=zendesk/") for p in content)
        assert any(p.startswith("quarantine/") for p in content)
        hits, step, seen = [], 0, Counter()  # (step, point, n-th time within the step, path)
        for line in trace.read_text().splitlines():
            if line.startswith("step-done-"):
                step, seen = step + 1, Counter()
                continue
            name, path = line.split("\t")
            seen[name] += 1
            hits.append((step, name, seen[name], path))
        yield base, content, hits
    torch.set_num_threads(threads)
    with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        print("\ncrash tests:", json.dumps(RESULTS, indent=1))  # shown even when captured


def kill_points(hits: list[tuple[int, str, int, str]]) -> list[tuple[int, str, int]]:
    """(step, point, n within the step): the first and the last time each point is passed."""
    where: dict[str, list[tuple[int, int]]] = {}
    for step, name, n, _ in hits:
        where.setdefault(name, []).append((step, n))
    return sorted({(h[i][0], name, h[i][1]) for name, h in where.items() for i in (0, -1)})


# ---- the tests -------------------------------------------------------------------------------
def test_every_crash_point_is_reached_by_a_clean_run(clean) -> None:
    passed = {name for _, name, _, _ in clean[2]}
    assert passed == set(POINTS), passed ^ set(POINTS)


def test_a_run_killed_at_any_point_then_re_run_gives_the_clean_lake(
    clean, project, tmp_path: Path
) -> None:
    """Each kill starts from the project as it stood before the step it kills in; the re-run
    runs that step and the rest again, as re-running the failed flow would."""
    base, want, hits = clean
    sources = project[1]
    points = kill_points(hits)
    assert len({name for _, name, _ in points}) >= 20
    survived, leftovers, failures = 0, 0, []
    started = time.monotonic()
    for k, (step, name, n) in enumerate(points):
        where = tmp_path / f"k{k}"
        shutil.copytree(base / f"before-{step}", where)
        config = str(where / "chorus.yaml")
        run = functools.partial(run_steps, config, sources, step)
        status, log = in_child(run, tmp_path / f"k{k}.log", {CRASH_ENV: f"{name}:{n}"})
        what = f"{name}:{n} in step {step} ({STEPS[step]})"
        if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL):
            failures.append(f"{what}: not killed (status {status}): {log[-1500:]}")
            continue
        assert f"{MARKER} {name} hit {n}" in log
        status, log = in_child(run, tmp_path / f"k{k}.rerun.log")
        if status != 0:
            failures.append(f"{what}: the re-run failed: {log[-1500:]}")
            continue
        assert_readable(where / "lake")
        got = lake_content(where / "lake")
        if got != want:
            failures.append(f"{what}: the lake differs from a clean run's:\n{diff(want, got)}")
            continue
        leftovers += sum(1 for _ in (where / "lake").rglob(".tmp-*"))
        survived += 1
        shutil.rmtree(where)
    RESULTS["kill points"] = (
        f"{survived} of {len(points)} kills survived "
        f"({len({name for _, name, _ in points})} named points, first and last hit of each)"
    )
    RESULTS["kills: seconds"] = round(time.monotonic() - started, 1)
    RESULTS["temp files left by kills (hidden from readers)"] = leftovers
    assert not failures, "\n\n".join(failures)


# ---- disk full, permission denied: a clear message, a consistent lake, a re-run that heals --
def check_failure_then_heal(
    clean, project, where: Path, step: int, env: dict[str, str], expect: tuple[str, ...],
    before_run: Callable[[], None] = lambda: None, after_fail: Callable[[], None] = lambda: None,
) -> str:  # fmt: skip
    """The run fails with a LakeWriteError naming `expect`; the lake stays readable; once the
    condition clears, a re-run from the same step gives the clean lake. Returns the message."""
    base, want, _ = clean
    shutil.copytree(base / f"before-{step}", where)
    config, sources = str(where / "chorus.yaml"), project[1]
    message = where.parent / f"{where.name}.message"

    def child() -> None:
        from flows.lake.store import LakeWriteError

        before_run()
        try:
            run_steps(config, sources, step)
        except LakeWriteError as exc:
            message.write_text(str(exc))
            raise

    status, log = in_child(child, where.parent / f"{where.name}.log", env)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 70, log[-2000:]
    assert message.exists(), f"the run did not fail with a LakeWriteError: {log[-2000:]}"
    text = message.read_text()
    for part in (*expect, "Nothing of it was committed", "re-run the same step"):
        assert part in text, (part, text)
    after_fail()
    assert_readable(where / "lake")
    status, log = in_child(lambda: run_steps(config, sources, step), where.parent / "heal.log")
    assert status == 0, log[-2000:]
    got = lake_content(where / "lake")
    assert got == want, diff(want, got)
    return text


INJECTED = [  # (point, errno, a fragment of the path it fails on)
    ("lake.write.data", "ENOSPC", "/raw/"),  # landing a batch
    ("lake.write.open", "EACCES", "/_state/ingest/"),  # a cursor
    ("lake.write.flush", "ENOSPC", "/quarantine/"),
    ("lake.write.data", "EDQUOT", "/_cache/"),  # the embedding cache
    ("lake.write.data", "ENOSPC", "/feedback/"),  # a partition of an upsert
    ("lake.write.written", "EACCES", "/_state/process/"),  # the rename of processed state
    ("lake.write.mkdir", "EROFS", "/lake/themes"),  # staging the themes
    ("lake.write.data", "ENOSPC", "/trends/"),
]


@pytest.mark.parametrize(("point", "code", "fragment"), INJECTED)
def test_an_injected_disk_full_or_permission_denied_fails_clearly_and_a_re_run_heals(
    clean, project, tmp_path: Path, point: str, code: str, fragment: str
) -> None:
    step, n, path = next((s, n, p) for s, nm, n, p in clean[2] if nm == point and fragment in p)
    num = getattr(errno, code)
    target = path.rsplit("/.tmp-", 1)[0] if "/.tmp-" in path else path
    text = check_failure_then_heal(
        clean, project, tmp_path / "p", step, {FAULT_ENV: f"{point}:{code}:{n}"},
        (os.strerror(num), f"[{code}]", Path(target).relative_to(clean[0] / "run").as_posix()),
    )  # fmt: skip
    assert str(tmp_path / "p") in text  # the path named is the real one


def test_a_real_permission_denied_on_a_feedback_partition(clean, project, tmp_path: Path) -> None:
    """A real EACCES from the kernel: as root the child drops to `nobody` (root passes any
    chmod); the partition the second process run must rewrite is not writable for it."""
    import tempfile

    root = os.geteuid() == 0
    where = Path(tempfile.mkdtemp(prefix="chorus-eacces-")) / "p"  # reachable by nobody
    part = where / "lake/feedback/source=tickets/created_month=2026-10"
    try:

        def deny() -> None:
            if root:
                for p in [where.parent, *where.parent.rglob("*")]:
                    os.chown(p, 65534, 65534)
                os.chown(part, 0, 0)
            part.chmod(0o555)

        def drop() -> None:
            if root:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)

        def allow() -> None:
            part.chmod(0o755)

        step = STEPS.index("process", STEPS.index("drop"))
        text = check_failure_then_heal(
            clean, project, where, step, {}, ("Permission denied", "[EACCES]", f"{part}/"),
            before_run=lambda: (deny(), drop()), after_fail=allow,
        )  # fmt: skip
        RESULTS["real EACCES"] = text[:160]
    finally:
        shutil.rmtree(where.parent, ignore_errors=True)


def test_a_real_refused_write_file_too_large(clean, project, tmp_path: Path) -> None:
    """A real write refused by the kernel without privileges: RLIMIT_FSIZE makes write() fail
    with EFBIG once a file passes the limit (SIGXFSZ ignored), as a full disk fails it with
    ENOSPC; making a full file system would need a mount, which needs privileges."""
    import resource

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, resource.RLIM_INFINITY))

    step = STEPS.index("process")
    text = check_failure_then_heal(
        clean, project, tmp_path / "p", step, {}, ("File too large", "[EFBIG]", "/lake/"),
        before_run=limit,
    )  # fmt: skip
    RESULTS["real EFBIG"] = text[:160]
