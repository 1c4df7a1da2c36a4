# ruff: noqa: F405, F811 - names and fixtures come from tests.serve.webhook_support
"""The webhook receiver (`chorus serve`) under a real uvicorn on 127.0.0.1: vendor-shaped, signed
deliveries land raw batches that process into feedback rows."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.typeform.sandbox import FORM_ID
from connectors.zendesk.webhook import ZENDESK_TRIGGER_BODY
from tests.serve.webhook_support import *  # noqa: F403 - helpers, payloads and fixtures
from tests.serve.webhook_support import env, hook, typeform_api  # noqa: F401 - fixtures

# -- accepted deliveries become feedback rows ---------------------------------------------------


def _accepted(hook: Hook, source: str, payload: Any, **kw: Any) -> tuple[dict, list[dict]]:
    reply = hook.signed(source, payload, **kw)
    assert reply.status_code == 202, reply.text
    answer = reply.json()
    doc = next(d for d in hook.landed(source) if d["batch_id"] == answer["batch_id"])
    assert answer["items"] == len(doc["items"]) > 0
    assert doc["meta"]["via"] == "webhook" and doc["meta"]["vendor"]
    rows, bad = hook.rows(source, answer["batch_id"])
    assert bad == []
    return doc, rows


def test_zendesk_ticket_event_and_comment_become_rows(hook: Hook) -> None:
    doc, rows = _accepted(hook, "zd", zendesk_ticket_created())
    assert doc["meta"]["delivery_id"] == "2b24ef10-19d4-4740-93cf-8f98ec4776c0"
    assert doc["meta"]["event"] == "ticket.created"
    [row] = rows
    assert (row["source_id"], row["title"]) == ("35436", "PDF export hangs")
    assert "hangs at 90 percent" in row["text"]
    assert {"export", "pdf", "status:new"} <= set(row["tags"])
    assert (row["account_id"], row["customer_id"]) == ("509974", "20978392")
    assert row["url"] == "https://acme.zendesk.com/agent/tickets/35436"

    _, rows = _accepted(hook, "zd", zendesk_comment_added())
    [row] = rows
    assert row["source_id"] == "35436:40123" and row["thread_id"] == "35436"
    assert row["text"] == "Same with the yearly report, it never finishes."
    assert row["is_internal"] is False and row["customer_id"] == "20978392"


def test_zendesk_trigger_body_template_becomes_a_ticket_row(hook: Hook) -> None:
    """The documented trigger body, filled the way Zendesk renders its placeholders."""
    rendered = ZENDESK_TRIGGER_BODY
    for placeholder, value in {
        "ticket.id": "35501",
        "ticket.title": "Billing page shows the wrong currency",
        "ticket.description": "Since Monday the invoice page shows dollars instead of euros.",
        "ticket.status": "Open",
        "ticket.tags": "billing currency",
        "ticket.requester.id": "20978555",
        "ticket.organization.id": "",
        "ticket.created_at_with_timestamp": "2026-11-22T07:45Z",
        "ticket.updated_at_with_timestamp": "2026-11-22T08:00Z",
    }.items():
        rendered = rendered.replace("{{" + placeholder + "}}", value)
    assert "{{" not in rendered
    doc, [row] = _accepted(hook, "zd", rendered.encode())
    assert doc["meta"]["event"] == "trigger.ticket"
    assert doc["meta"]["delivery_id"].startswith("inv-")
    assert row["source_id"] == "35501" and row["title"] == "Billing page shows the wrong currency"
    assert {"billing", "currency", "status:open"} <= set(row["tags"])
    assert (
        row["account_id"] is None and row["created_at"].isoformat() == "2026-11-22T07:45:00+00:00"
    )


def test_intercom_conversation_and_its_reply_become_rows(hook: Hook) -> None:
    doc, rows = _accepted(hook, "ic", intercom_notification())
    assert doc["meta"]["delivery_id"] == "notif_5c4a1e2b-0f3d-4a57-8a3a-3c1e5a7f9b21"
    by_id = {r["source_id"]: r for r in rows}
    assert set(by_id) == {"5000001", "5000001:77001"}
    assert by_id["5000001"]["text"] == "The CSV export times out for large workspaces."
    assert "export" in by_id["5000001"]["tags"]
    assert by_id["5000001:77001"]["text"] == "Still failing today with twenty thousand rows."
    assert by_id["5000001:77001"]["customer_id"] == "6500abc"
    assert (
        by_id["5000001"]["url"]
        == "https://app.intercom.com/a/inbox/abc123/inbox/conversation/5000001"
    )


def test_typeform_response_becomes_a_row_with_scales_from_the_form_api(
    hook: Hook, typeform_api: Any
) -> None:
    doc, [row] = _accepted(hook, "tf", typeform_response())
    assert doc["meta"]["delivery_id"] == "01HZX3Q7Y4K1W8ZK0S5Q6M9B2C"
    assert row["source_id"] == "a3a12ec67a1365927098a606107fac15"
    assert row["text"] == "Offline mode for the mobile app, please."
    assert row["nps"] == 3
    # the webhook's definition gives no steps: the 1-5 scale came from GET /forms/{id}
    assert row["rating"] == pytest.approx(0.75) and row["rating_scale"] == "1-5"
    assert {"Dashboards", "Exports"} <= set(row["tags"]) and row["customer_id"] == "u-881"
    assert typeform_api.requests_to("typeform", f"forms/{FORM_ID}")


def test_github_issue_and_comment_become_rows(hook: Hook) -> None:
    doc, [row] = _accepted(hook, "gh", github_issue())
    assert doc["meta"] == {
        **doc["meta"],
        "event": "issues.opened",
        "delivery_id": "72d3162e-cc78-11e3",
    }
    assert row["source_id"] == "acme/widgets#1347" and row["title"] == "Offline mode loses my draft"
    assert row["text"] == "When the train enters a tunnel the app drops my unsent draft."
    assert "beta" in row["tags"] and row["source_kind"] == "beta"

    body = json.dumps(github_comment()).encode()
    reply = hook.post("gh", body, github_headers(body, SECRETS["gh"], "issue_comment", "d-2"))
    assert reply.status_code == 202, reply.text
    [row], bad = hook.rows("gh", reply.json()["batch_id"])
    assert bad == [] and row["source_id"] == "acme/widgets#1347:998"
    assert row["text"].startswith("Same here on Android 15")


def test_slack_message_and_edit_become_rows(hook: Hook) -> None:
    doc, [row] = _accepted(hook, "sl", slack_event())
    assert doc["meta"]["delivery_id"] == "Ev0FEEDBACK1"
    assert doc["items"][0]["_endpoint"] == "history:C0FEEDBACK"
    assert row["source_id"] == "C0FEEDBACK:1763900000.000100"
    assert row["text"] == "The new filter is great but exports still lag 😕"
    assert row["is_internal"] is True  # not a customer channel

    edited = slack_event(
        "Ev0FEEDBACK2",
        subtype="message_changed",
        hidden=True,
        message={
            "type": "message",
            "user": "U0ANA",
            "text": "Exports still lag, and the filter resets",
            "ts": "1763900000.000100",
            "edited": {"user": "U0ANA", "ts": "1763900100.000000"},
        },
    )
    _, [row] = _accepted(hook, "sl", edited)
    assert row["source_id"] == "C0FEEDBACK:1763900000.000100"
    assert row["text"] == "Exports still lag, and the filter resets"
    assert row["updated_at"] > row["created_at"]


def test_slack_url_verification_is_answered_only_when_signed(hook: Hook) -> None:
    challenge = {"token": "XXYYZZ", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMm", "type": "url_verification"}  # fmt: skip
    reply = hook.signed("sl", challenge)
    assert reply.status_code == 200 and reply.json() == {"challenge": challenge["challenge"]}
    body = json.dumps(challenge).encode()
    assert hook.post("sl", body, {"Content-Type": "application/json"}).status_code == 401
    assert hook.batches("sl") == []


@pytest.mark.parametrize(
    ("source", "payload", "headers", "reason"),
    [
        ("gh", {"zen": "Keep it logically awesome.", "hook_id": 1}, {"event": "ping"}, "ping"),
        ("gh", {**github_issue(), "repository": {"full_name": "acme/other"}}, {}, "repository"),
        ("gh", github_issue("deleted"), {}, "deletions"),
        ("ic", {**intercom_notification("ping"), "data": {"item": {"type": "ping"}}}, {}, "ping"),
        ("sl", slack_event(subtype="bot_message", bot_id="B01"), {}, "bot message"),
        ("sl", slack_event(subtype="channel_join"), {}, "subtype"),
        ("sl", slack_event(channel="C0ELSEWHERE"), {}, "channel"),
        ("tf", {**typeform_response(), "event_type": "form_response_partial"}, {}, "partial"),
        ("zd", {**zendesk_ticket_created(), "type": "zen:event-type:user.created"}, {}, "ticket"),
    ],
)
def test_deliveries_without_feedback_are_acknowledged_and_not_landed(
    hook: Hook, source: str, payload: dict, headers: dict, reason: str
) -> None:
    reply = hook.signed(source, payload, **headers)
    assert reply.status_code == 200, reply.text
    assert reason in reply.json()["ignored"] and reply.json()["items"] == 0
    assert hook.batches(source) == []


# -- processing picks the landed batches up -----------------------------------------------------


@pytest.mark.slow
def test_landed_deliveries_are_pending_and_process_into_feedback(hook: Hook) -> None:
    from prefect.testing.utilities import prefect_test_harness

    from flows.process import pending_batches, process
    from flows.runtime.config import load_config

    for source, make in PAYLOADS.items():
        assert hook.signed(source, make()).status_code == 202
    pending = pending_batches.fn(load_config(hook.config))
    assert sorted(Path(p).parent.name for p in pending) == sorted(PAYLOADS)
    with prefect_test_harness(server_startup_timeout=120):
        stats = process(str(hook.config))
    assert stats["quarantined"] == 0 and stats["written"] == stats["rows"] == 6
    import pyarrow.parquet as pq

    rows = pq.read_table(hook.root / "lake" / "feedback").to_pylist()
    assert sorted({r["source"] for r in rows}) == sorted(PAYLOADS)
    assert pending_batches.fn(load_config(hook.config)) == []


@pytest.mark.slow
def test_secret_from_a_prefect_secret_block_and_the_landed_event(
    tmp_path: Path, env: None, typeform_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.blocks.system import Secret
    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventNameFilter
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    config = write_config(tmp_path, typeform_api.url("typeform"))
    config.write_text(
        config.read_text().replace(
            "webhook_secret: {env: CHORUS_TEST_GH_HOOK}", "webhook_secret: {block: chorus-gh-hook}"
        )
    )
    with prefect_test_harness(server_startup_timeout=120):
        Secret(value=SECRETS["gh"]).save("chorus-gh-hook")
        monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())  # as `chorus serve` runs
        with serving(config) as url:
            h = Hook(url, tmp_path, config)
            reply = h.signed("gh", github_issue())
            assert reply.status_code == 202, reply.text
            body = json.dumps(github_comment()).encode()
            wrong = github_headers(body, SECRETS["ic"], "issue_comment", "d-9")
            assert h.post("gh", body, wrong).status_code == 401
            landed = EventFilter(event=EventNameFilter(name=["chorus.batch.landed"]))
            deadline, events = time.monotonic() + 30, []
            with get_client(sync_client=True) as client:
                while not events and time.monotonic() < deadline:
                    time.sleep(0.5)
                    events = client.read_events(landed, limit=50).events
        assert len(h.batches("gh")) == 1
        [event] = events
        assert event.resource.id == "chorus.source.gh"
        assert event.payload == {"batch_id": reply.json()["batch_id"], "items": 1}


def test_chorus_serve_command_runs_the_receiver(tmp_path: Path, typeform_api: Any) -> None:
    import os
    import subprocess
    import sys

    config = write_config(tmp_path, typeform_api.url("typeform"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, **{ENV[n]: SECRETS[n] for n in SECRETS}}
    env.pop("PREFECT_API_URL", None)
    cmd = [
        sys.executable,
        "-m",
        "flows.cli.main",
        "serve",
        "--config",
        str(config),
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read().decode()
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        h = Hook(f"http://127.0.0.1:{port}", tmp_path, config)
        assert h.signed("gh", github_issue()).status_code == 202
        assert h.post("gh", b"{}", github_headers(b"{}", "wrong")).status_code == 401
    finally:
        proc.terminate()
        out = proc.communicate(timeout=20)[0].decode()
    assert f"webhook: POST http://127.0.0.1:{port}/webhooks/gh" in out
    assert "landed 1 items" in out and "bad_signature" in out
    assert not any(secret in out for secret in SECRETS.values())
    assert len(h.batches("gh")) == 1
