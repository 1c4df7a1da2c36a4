"""Chorus as users run it in production: a real `prefect server start`, deployments from
prefect.yaml on a process work pool with a real worker, the webhook receiver, and the event
chain webhook -> batch landed -> processing run -> feedback updated -> report run."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import requests

from flows.deploy import WRITER_TAGS, render_deployments
from tests.serve.webhook_payloads import github_issue

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec-test-only-not-a-secret"

CONFIG = """
lake: lake
reports: reports
sources:
  - name: gh_issues
    type: github
    base_url: http://127.0.0.1:9/github
    repository: acme/widgets
    credentials: {token: {env: CHORUS_TEST_GH_TOKEN}}
    webhook_secret: {env: CHORUS_TEST_GH_WEBHOOK_SECRET}
    schedule: "0 0 1 1 *"
customers: {path: customers.csv}
segments:
  - {name: enterprise, where: {plan: enterprise}}
weighting: {version: deploy-test}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"{url}: process exited {proc.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} not healthy after {timeout} s:\n{log.read_text()[-3000:]}")


def _start(cmd: list[str], env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen:
    fh = open(log, "w")  # noqa: SIM115 - closed when the process is reaped
    return subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=cwd)


def test_render_expands_one_ingest_deployment_per_source(tmp_path):
    (tmp_path / "customers.csv").write_text("account_id,plan\nacc_1,enterprise\n")
    (tmp_path / "chorus.yaml").write_text(
        CONFIG.replace(
            "customers:",
            "  - {name: notes, type: file_drop, source_kind: notes, path: 'n/*.md',"
            " format: markdown}\ncustomers:",
        )
    )
    spec = render_deployments(tmp_path / "chorus.yaml", ROOT / "prefect.yaml", debounce=5)
    names = [d["name"] for d in spec["deployments"]]
    assert names == ["ingest-gh_issues", "ingest-notes", "process", "report"]
    by_name = {d["name"]: d for d in spec["deployments"]}
    cfg_path = str((tmp_path / "chorus.yaml").resolve())
    assert all(d["parameters"]["config_path"] == cfg_path for d in spec["deployments"])
    assert by_name["ingest-gh_issues"]["parameters"]["sources"] == ["gh_issues"]
    # the source's own cron wins; the other source keeps prefect.yaml's shared schedule
    assert by_name["ingest-gh_issues"]["schedules"] == [{"cron": "0 0 1 1 *", "timezone": "UTC"}]
    assert by_name["ingest-notes"]["schedules"][0]["cron"] == "7 * * * *"
    assert by_name["report"]["schedules"][0]["cron"] == "0 6 * * 1"
    process_trigger = by_name["process"]["triggers"][0]
    assert process_trigger["expect"] == ["chorus.batch.landed"]
    assert process_trigger["within"] == process_trigger["schedule_after"] == 5
    assert by_name["report"]["triggers"][0]["expect"] == ["chorus.feedback.updated"]
    assert all(d["concurrency_limit"]["limit"] == 1 for d in spec["deployments"])


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-home")
    port = _free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_WORKER_PREFETCH_SECONDS": "1",
        "CHORUS_PROGRESS": "0",
    }
    env.pop("PREFECT_TEST_MODE", None)
    log = home / "server.log"
    proc = _start(
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env,
        log,
        ROOT,
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/api/health", 120, proc, log)
        yield env
    finally:
        proc.terminate()
        proc.wait(30)


def _flow_runs(env: dict[str, str]) -> list:
    code = (
        "import json\nfrom prefect.client.orchestration import get_client\n"
        "with get_client(sync_client=True) as c:\n"
        "    out=[]\n"
        "    deps={d.id: d.name for d in c.read_deployments()}\n"
        "    for r in c.read_flow_runs():\n"
        "        out.append({'deployment': deps.get(r.deployment_id), 'state': r.state_type.value,"
        " 'created_by': r.created_by.type if r.created_by else None,"
        " 'by': r.created_by.display_value if r.created_by else None,"
        " 'end': r.end_time.timestamp() if r.end_time else None})\n"
        "    arts=[a.key for a in c.read_artifacts()]\n"
        "    print(json.dumps({'runs': out, 'artifacts': arts}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _github_delivery(body: bytes, secret: str) -> dict[str, str]:
    sig = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-Hub-Signature-256": f"sha256={sig}",
        "User-Agent": "GitHub-Hookshot/044aadd",
    }


def _issue_event() -> bytes:
    return json.dumps(github_issue("opened")).encode()


def test_signed_webhook_triggers_processing_and_report_on_a_real_server(prefect_server, tmp_path):
    env = {
        **prefect_server,
        "CHORUS_TEST_GH_TOKEN": "ghp_test_only",
        "CHORUS_TEST_GH_WEBHOOK_SECRET": SECRET,
    }
    (tmp_path / "customers.csv").write_text("account_id,plan\nacc_1,enterprise\n")
    config = tmp_path / "chorus.yaml"
    config.write_text(CONFIG)
    chorus = [sys.executable, "-m", "flows.cli.main"]
    deployed = subprocess.run(
        [*chorus, "deploy", "--config", str(config), "--pool", "chorus-test", "--debounce", "2"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    for name in (
        "chorus-ingest/ingest-gh_issues",
        "chorus-process/process",
        "chorus-report/report",
    ):
        assert f"deployed {name}" in deployed.stdout
    for tag in WRITER_TAGS:
        assert f"concurrency limit {tag}=1" in deployed.stdout

    worker = _start(
        [
            sys.executable,
            "-m",
            "prefect",
            "worker",
            "start",
            "--pool",
            "chorus-test",
            "--type",
            "process",
        ],
        env,
        tmp_path / "worker.log",
        ROOT,
    )
    port = _free_port()
    serve_log = tmp_path / "serve.log"
    receiver = _start(
        [*chorus, "serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
        env,
        serve_log,
        ROOT,
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/healthz", 60, receiver, serve_log)
        url = f"http://127.0.0.1:{port}/webhooks/gh_issues"
        body = _issue_event()
        wrong = requests.post(
            url, data=body, headers=_github_delivery(body, "not-the-secret"), timeout=10
        )
        assert wrong.status_code == 401, wrong.text
        unsigned = dict(_github_delivery(body, SECRET))
        del unsigned["X-Hub-Signature-256"]
        assert requests.post(url, data=body, headers=unsigned, timeout=10).status_code == 401
        lake = tmp_path / "lake"
        assert not list(lake.glob("raw/gh_issues/*")), "a refused delivery landed"

        sent = time.time()
        ok = requests.post(url, data=body, headers=_github_delivery(body, SECRET), timeout=10)
        assert ok.status_code in (200, 202), ok.text
        assert list(lake.glob("raw/gh_issues/*.json.gz"))

        deadline = time.monotonic() + 240
        runs: dict = {}
        while time.monotonic() < deadline:
            runs = _flow_runs(env)
            done = {
                r["deployment"]
                for r in runs["runs"]
                if r["state"] == "COMPLETED" and r["created_by"] == "AUTOMATION"
            }
            if {"process", "report"} <= done:
                break
            failed = [r for r in runs["runs"] if r["state"] in ("FAILED", "CRASHED")]
            assert not failed, f"{failed}\n{(tmp_path / 'worker.log').read_text()[-4000:]}"
            time.sleep(2)
        else:
            raise AssertionError(
                f"chain incomplete: {runs}\n{(tmp_path / 'worker.log').read_text()[-4000:]}"
            )
        report_end = max(r["end"] for r in runs["runs"] if r["deployment"] == "report")
        print(f"\nevent chain webhook -> report: {report_end - sent:.1f} s (debounce 2 s)")
        by = {r["deployment"]: r["by"] for r in runs["runs"] if r["created_by"] == "AUTOMATION"}
        assert by["process"].startswith("process__automation")
        assert by["report"].startswith("report__automation")
        assert {"chorus-report", "chorus-top-themes"} <= set(runs["artifacts"])

        rows = pq.read_table(lake / "feedback").to_pylist()
        assert [r["source"] for r in rows] == ["gh_issues"]
        assert "tunnel" in rows[0]["text"]
        assert (tmp_path / "reports" / "latest.html").exists()
        assert SECRET not in serve_log.read_text() + (tmp_path / "worker.log").read_text()
    finally:
        for proc in (receiver, worker):
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_writer_tasks_carry_their_tag_only_against_a_server(monkeypatch):
    from flows.process import commit_chunk
    from flows.report import REPORT_WRITER_TAGS, themes_and_trends
    from flows.runtime.prefect_server import as_writer

    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert as_writer(commit_chunk, "chorus-feedback-writer").tags == {"chorus-feedback-writer"}
    assert as_writer(themes_and_trends, *REPORT_WRITER_TAGS).tags == {
        "chorus-themes-writer",
        "chorus-trends-writer",
    }
    monkeypatch.delenv("PREFECT_API_URL")
    monkeypatch.setattr("flows.runtime.prefect_server.api_server_configured", lambda: False)
    assert as_writer(commit_chunk, "chorus-feedback-writer").tags == set()
