"""The webhook receiver (`chorus serve`) under a real uvicorn on 127.0.0.1: vendor-shaped, signed
deliveries land raw batches that process into feedback rows; forged, stale, replayed, oversized
or misaddressed deliveries are refused and land nothing. Signatures here are computed from each
vendor's documented scheme, independently of flows/webhook_signatures.py."""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn

from connectors.sandbox import start_sandbox
from connectors.sandbox.typeform import FORM_ID, TypeformSandbox
from flows.config import load_config
from flows.lake import Lake
from flows.steps import canonical_rows
from flows.webhook_items import ZENDESK_TRIGGER_BODY
from flows.webhooks import create_app

SECRETS = {
    "zd": "zd-signing-secret-test-only-4f1c",
    "ic": "ic-client-secret-test-only-9a2e",
    "tf": "tf-webhook-secret-test-only-77b0",
    "gh": "gh-webhook-secret-test-only-1d3c",
    "sl": "sl-signing-secret-test-only-c0de",
}
ENV = {name: f"CHORUS_TEST_{name.upper()}_HOOK" for name in SECRETS}
LIMIT = 8192

CONFIG = """
lake: lake
reports: reports
webhooks: {max_body_bytes: %(limit)s, tolerance_s: 300}
sources:
  - name: zd
    type: zendesk
    subdomain: acme
    webhook_secret: {env: CHORUS_TEST_ZD_HOOK}
  - name: ic
    type: intercom
    app_id: abc123
    webhook_secret: {env: CHORUS_TEST_IC_HOOK}
  - name: tf
    type: typeform
    form_id: %(form_id)s
    base_url: %(typeform_url)s
    credentials: {access_token: {env: CHORUS_TEST_TF_TOKEN}}
    customer_hidden_field: user_id
    webhook_secret: {env: CHORUS_TEST_TF_HOOK}
  - name: gh
    type: github
    repository: acme/widgets
    webhook_secret: {env: CHORUS_TEST_GH_HOOK}
  - name: sl
    type: slack
    channels: [C0FEEDBACK]
    webhook_secret: {env: CHORUS_TEST_SL_HOOK}
  - name: gh_polled
    type: github
    repository: acme/other
  - name: notes
    type: file_drop
    source_kind: notes
    path: inbox/*.md
    format: markdown
"""


# -- each vendor's documented signature, written out here --------------------------------------


def _mac(secret: str, message: bytes, algo: Any = hashlib.sha256) -> bytes:
    return hmac.new(secret.encode(), message, algo).digest()


def zendesk_headers(body: bytes, secret: str, at: datetime | None = None) -> dict[str, str]:
    ts = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sig = base64.b64encode(_mac(secret, ts.encode() + body)).decode()
    return {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": sig,
        "X-Zendesk-Webhook-Signature-Timestamp": ts,
        "X-Zendesk-Webhook-Id": "01F1KRFQ6BG29CNWFR60NK5FNY",
        "X-Zendesk-Webhook-Invocation-Id": f"inv-{hashlib.md5(body).hexdigest()[:10]}",
    }


def intercom_headers(body: bytes, secret: str) -> dict[str, str]:
    sig = _mac(secret, body, hashlib.sha1).hex()
    return {"Content-Type": "application/json", "X-Hub-Signature": f"sha1={sig}"}


def typeform_headers(body: bytes, secret: str) -> dict[str, str]:
    sig = base64.b64encode(_mac(secret, body)).decode()
    return {"Content-Type": "application/json", "Typeform-Signature": f"sha256={sig}"}


def github_headers(
    body: bytes, secret: str, event: str = "issues", delivery: str = "72d3162e-cc78-11e3"
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": f"sha256={_mac(secret, body).hex()}",
    }


def slack_headers(body: bytes, secret: str, at: float | None = None) -> dict[str, str]:
    ts = str(int(at if at is not None else time.time()))
    sig = _mac(secret, b"v0:" + ts.encode() + b":" + body).hex()
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={sig}",
    }


SIGNERS = {
    "zd": zendesk_headers,
    "ic": intercom_headers,
    "tf": typeform_headers,
    "gh": github_headers,
    "sl": slack_headers,
}
PREFIX = {"zd": "", "ic": "sha1=", "tf": "sha256=", "gh": "sha256=", "sl": "v0="}
SIGNATURE_HEADER = {
    "zd": "X-Zendesk-Webhook-Signature",
    "ic": "X-Hub-Signature",
    "tf": "Typeform-Signature",
    "gh": "X-Hub-Signature-256",
    "sl": "X-Slack-Signature",
}


# -- vendor-shaped payloads (documented shapes, invented data) ----------------------------------


def zendesk_ticket_created() -> dict[str, Any]:
    return {
        "type": "zen:event-type:ticket.created",
        "account_id": 12514403,
        "id": "2b24ef10-19d4-4740-93cf-8f98ec4776c0",
        "time": "2026-11-20T09:15:02Z",
        "zendesk_event_version": "2022-11-06",
        "subject": "zen:ticket:35436",
        "detail": {
            "actor_id": "20978392",
            "assignee_id": None,
            "brand_id": "123",
            "created_at": "2026-11-20T09:15:00Z",
            "custom_status": "1",
            "description": "Exporting the quarterly report to PDF hangs at 90 percent every time.",
            "external_id": None,
            "form_id": "6876543",
            "group_id": "98738",
            "id": "35436",
            "is_public": True,
            "organization_id": "509974",
            "priority": "HIGH",
            "requester_id": "20978392",
            "status": "NEW",
            "subject": "PDF export hangs",
            "submitter_id": "20978392",
            "tags": ["export", "pdf"],
            "type": "INCIDENT",
            "updated_at": "2026-11-20T09:15:00Z",
            "via": {"channel": "web_form"},
        },
        "event": {"meta": {"sequence": {"id": "CE4A698A", "position": 1, "total": 1}}},
    }


def zendesk_comment_added() -> dict[str, Any]:
    doc = zendesk_ticket_created()
    doc.update(
        type="zen:event-type:ticket.comment_added",
        id="5c1b2a94-0e1f-4c55-9f6a-7fb9d3f0d1aa",
        time="2026-11-20T10:02:11Z",
    )
    doc["detail"]["updated_at"] = "2026-11-20T10:02:11Z"
    doc["event"] = {
        "comment": {
            "id": "40123",
            "body": "Same with the yearly report, it never finishes.",
            "author": {"id": "20978392", "is_staff": False, "name": "Kim Park"},
            "is_public": True,
        }
    }
    return doc


def intercom_notification(topic: str = "conversation.user.replied") -> dict[str, Any]:
    return {
        "type": "notification_event",
        "app_id": "abc123",
        "data": {
            "type": "notification_event_data",
            "item": {
                "type": "conversation",
                "id": "5000001",
                "created_at": 1763900000,
                "updated_at": 1763900600,
                "title": None,
                "state": "open",
                "company_id": None,
                "source": {
                    "type": "conversation",
                    "id": "9001",
                    "delivered_as": "customer_initiated",
                    "subject": "",
                    "body": "<p>The CSV export times out for large workspaces.</p>",
                    "author": {"type": "user", "id": "6500abc", "name": "Ana"},
                },
                "contacts": {
                    "type": "contact.list",
                    "contacts": [{"type": "contact", "id": "6500abc", "external_id": "u-1"}],
                },
                "tags": {
                    "type": "tag.list",
                    "tags": [{"type": "tag", "id": "7", "name": "export"}],
                },
                "conversation_rating": None,
                "conversation_parts": {
                    "type": "conversation_part.list",
                    "conversation_parts": [
                        {
                            "type": "conversation_part",
                            "id": "77001",
                            "part_type": "comment",
                            "body": "<p>Still failing today with twenty thousand rows.</p>",
                            "created_at": 1763900600,
                            "updated_at": 1763900600,
                            "author": {"type": "user", "id": "6500abc"},
                        }
                    ],
                    "total_count": 1,
                },
            },
        },
        "links": {},
        "id": "notif_5c4a1e2b-0f3d-4a57-8a3a-3c1e5a7f9b21",
        "topic": topic,
        "delivery_status": "pending",
        "delivery_attempts": 1,
        "delivered_at": 0,
        "first_sent_at": 1763900601,
        "created_at": 1763900601,
        "self": None,
    }


def typeform_response() -> dict[str, Any]:
    """A submission of the sandbox's feedback form; the webhook definition has no scale steps."""
    fields = [
        ("Nps01", "How likely are you to recommend us?", "nps", "nps"),
        ("Csat01", "How satisfied are you overall?", "opinion_scale", "csat"),
        ("Better01", "What could we do better?", "long_text", "better"),
        ("Feat01", "Which features do you use?", "multiple_choice", "features"),
    ]
    return {
        "event_id": "01HZX3Q7Y4K1W8ZK0S5Q6M9B2C",
        "event_type": "form_response",
        "form_response": {
            "form_id": FORM_ID,
            "token": "a3a12ec67a1365927098a606107fac15",
            "landed_at": "2026-11-21T08:00:00Z",
            "submitted_at": "2026-11-21T08:03:12Z",
            "hidden": {"user_id": "u-881", "account_id": "acc_9"},
            "definition": {
                "id": FORM_ID,
                "title": "Product feedback",
                "fields": [
                    {"id": i, "title": t, "type": k, "ref": r, "allow_multiple_selections": False}
                    for i, t, k, r in fields
                ],
            },
            "answers": [
                {"type": "number", "number": 3, "field": {"id": "Nps01", "type": "nps"}},
                {"type": "number", "number": 4, "field": {"id": "Csat01", "type": "opinion_scale"}},
                {
                    "type": "text",
                    "text": "Offline mode for the mobile app, please.",
                    "field": {"id": "Better01", "type": "long_text"},
                },
                {
                    "type": "choices",
                    "choices": {"labels": ["Dashboards", "Exports"]},
                    "field": {"id": "Feat01", "type": "multiple_choice"},
                },
            ],
        },
    }


def github_issue(action: str = "opened") -> dict[str, Any]:
    return {
        "action": action,
        "issue": {
            "url": "https://api.github.com/repos/acme/widgets/issues/1347",
            "id": 1347,
            "node_id": "MDU6SXNzdWUxMzQ3",
            "number": 1347,
            "html_url": "https://github.com/acme/widgets/issues/1347",
            "title": "Offline mode loses my draft",
            "body": "<!-- template -->When the train enters a tunnel the app drops my unsent draft.",
            "state": "open",
            "user": {"login": "tester-octo", "id": 583231, "type": "User"},
            "labels": [{"name": "beta"}],
            "comments": 0,
            "created_at": "2026-11-23T09:12:00Z",
            "updated_at": "2026-11-23T09:12:00Z",
            "author_association": "NONE",
        },
        "repository": {"id": 1296269, "full_name": "acme/widgets"},
        "sender": {"login": "tester-octo", "id": 583231, "type": "User"},
    }


def github_comment() -> dict[str, Any]:
    doc = github_issue()
    doc["action"] = "created"
    doc["comment"] = {
        "url": "https://api.github.com/repos/acme/widgets/issues/comments/998",
        "html_url": "https://github.com/acme/widgets/issues/1347#issuecomment-998",
        "issue_url": "https://api.github.com/repos/acme/widgets/issues/1347",
        "id": 998,
        "user": {"login": "beta-bea", "id": 7, "type": "User"},
        "created_at": "2026-11-23T10:00:00Z",
        "updated_at": "2026-11-23T10:00:00Z",
        "author_association": "NONE",
        "body": "Same here on Android 15, drafts vanish after a reconnect.",
    }
    return doc


def slack_event(event_id: str = "Ev0FEEDBACK1", **event: Any) -> dict[str, Any]:
    message = {
        "type": "message",
        "channel": "C0FEEDBACK",
        "user": "U0ANA",
        "text": "The new filter is great but <https://example.com/x|exports> still lag :confused:",
        "ts": "1763900000.000100",
        "event_ts": "1763900000.000100",
        "channel_type": "channel",
        "team": "T0CUSTOMER",
        **event,
    }
    return {
        "token": "XXYYZZ",
        "team_id": "T0CUSTOMER",
        "api_app_id": "A0CHORUS",
        "event": message,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1763900000,
    }


PAYLOADS = {
    "zd": zendesk_ticket_created,
    "ic": intercom_notification,
    "tf": typeform_response,
    "gh": github_issue,
    "sl": slack_event,
}


# -- a real server --------------------------------------------------------------------------


class Hook:
    def __init__(self, url: str, root: Path, config: Path) -> None:
        self.url, self.root, self.config = url, root, config

    def post(self, source: str, body: bytes, headers: dict[str, str], **kw: Any):
        return requests.post(f"{self.url}/webhooks/{source}", data=body, headers=headers, **kw)

    def signed(self, source: str, payload: Any, **kw: Any):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return self.post(source, body, SIGNERS[source](body, SECRETS[source], **kw))

    def batches(self, source: str) -> list[Path]:
        return sorted((self.root / "lake" / "raw" / source).glob("*.json.gz"))

    def landed(self, source: str) -> list[dict[str, Any]]:
        return [json.loads(gzip.decompress(p.read_bytes())) for p in self.batches(source)]

    def rows(self, source: str, batch_id: str) -> tuple[list[dict], list[dict]]:
        cfg = load_config(self.config)
        lake = Lake(cfg.lake_url)
        batch = next(b for b in lake.raw_batches(source) if b.batch_id == batch_id)
        return canonical_rows(cfg, batch, lake.read_raw(batch), datetime.now(UTC))


@contextmanager
def serving(config: Path) -> Iterator[str]:
    app = create_app(str(config))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def typeform_api() -> Iterator[Any]:
    with start_sandbox(vendors=("typeform",)) as sandbox:
        yield sandbox


def write_config(root: Path, typeform_url: str, limit: int | None = LIMIT) -> Path:
    text = CONFIG % {"limit": limit, "form_id": FORM_ID, "typeform_url": typeform_url}
    if limit is None:
        text = text.replace("webhooks: {max_body_bytes: None, tolerance_s: 300}\n", "")
    (root / "inbox").mkdir(exist_ok=True)
    path = root / "chorus.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, var in ENV.items():
        monkeypatch.setenv(var, SECRETS[name])
    monkeypatch.setenv("CHORUS_TEST_TF_TOKEN", TypeformSandbox.default_credentials["access_token"])


@pytest.fixture
def hook(tmp_path: Path, env: None, typeform_api: Any) -> Iterator[Hook]:
    config = write_config(tmp_path, typeform_api.url("typeform"))
    with serving(config) as url:
        yield Hook(url, tmp_path, config)


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


# -- refused deliveries land nothing ------------------------------------------------------------


@pytest.mark.parametrize("source", sorted(SECRETS))
def test_wrong_or_missing_signature_is_401_naming_the_header(hook: Hook, source: str) -> None:
    body = json.dumps(PAYLOADS[source]()).encode()
    forged = SIGNERS[source](body, "not-the-secret")
    reply = hook.post(source, body, forged)
    assert reply.status_code == 401
    assert reply.json()["error"] == "bad_signature"
    assert reply.json()["header"] == SIGNATURE_HEADER[source]
    correct = SIGNERS[source](body, SECRETS[source])[SIGNATURE_HEADER[source]]
    assert (
        SECRETS[source] not in reply.text and correct.removeprefix(PREFIX[source]) not in reply.text
    )

    tampered = SIGNERS[source](body, SECRETS[source])
    assert hook.post(source, body.replace(b"e", b"E", 1), tampered).status_code == 401

    unsigned = {k: v for k, v in forged.items() if k != SIGNATURE_HEADER[source]}
    reply = hook.post(source, body, unsigned)
    assert reply.status_code == 401 and reply.json()["error"] == "missing_signature"
    assert reply.json()["header"] == SIGNATURE_HEADER[source]
    assert hook.batches(source) == []


def test_stale_signed_timestamps_are_refused(hook: Hook) -> None:
    old = datetime.now(UTC) - timedelta(minutes=10)
    reply = hook.signed("zd", zendesk_ticket_created(), at=old)
    assert reply.status_code == 401 and reply.json()["error"] == "stale_delivery"
    assert reply.json()["header"] == "X-Zendesk-Webhook-Signature-Timestamp"
    reply = hook.signed("sl", slack_event(), at=time.time() - 301)
    assert reply.status_code == 401 and reply.json()["error"] == "stale_delivery"
    future = hook.signed("sl", slack_event(), at=time.time() + 600)
    assert future.status_code == 401
    body = json.dumps(slack_event()).encode()
    no_ts = {k: v for k, v in slack_headers(body, SECRETS["sl"]).items() if "Timestamp" not in k}
    assert hook.post("sl", body, no_ts).status_code == 401
    assert hook.batches("zd") == hook.batches("sl") == []
    # within the tolerance it is accepted
    assert hook.signed("sl", slack_event(), at=time.time() - 200).status_code == 202


def test_replays_land_nothing_twice_even_after_a_restart(hook: Hook, typeform_api: Any) -> None:
    body = json.dumps(github_issue()).encode()
    headers = github_headers(body, SECRETS["gh"])
    first = hook.post("gh", body, headers)
    assert first.status_code == 202
    again = hook.post("gh", body, headers)
    assert again.status_code == 200
    assert again.json() == {
        "duplicate": True,
        "batch_id": first.json()["batch_id"],
        "items": 0,
        "delivery_id": "72d3162e-cc78-11e3",
    }
    # the same body under a new delivery id is still the same signature: a replay
    assert hook.post("gh", body, {**headers, "X-GitHub-Delivery": "other"}).json()["duplicate"]
    # Slack retries re-sign with a new timestamp; the event_id is what repeats
    assert hook.signed("sl", slack_event(), at=time.time() - 5).status_code == 202
    assert hook.signed("sl", slack_event()).json()["duplicate"] is True
    assert len(hook.batches("gh")) == len(hook.batches("sl")) == 1

    with serving(hook.config) as url:  # a restarted receiver reads the accepted ids from the lake
        restarted = Hook(url, hook.root, hook.config)
        assert restarted.post("gh", body, headers).json()["duplicate"] is True
        assert restarted.signed("sl", slack_event()).json()["duplicate"] is True
    assert len(hook.batches("gh")) == len(hook.batches("sl")) == 1
    state = json.loads((hook.root / "lake" / "_state" / "webhooks" / "gh.json").read_text())
    assert "id:72d3162e-cc78-11e3" in state["seen"]


def test_accepted_ids_are_pruned_after_the_replay_window(hook: Hook) -> None:
    state_file = hook.root / "lake" / "_state" / "webhooks" / "gh.json"
    assert hook.signed("gh", github_issue()).status_code == 202
    state = json.loads(state_file.read_text())
    aged = {k: [v[0] - 4 * 86400, v[1]] for k, v in state["seen"].items()}
    state_file.write_text(json.dumps({"seen": aged}))
    other = github_issue()
    other["issue"]["number"] = other["issue"]["id"] = 1348
    body = json.dumps(other).encode()
    assert (
        hook.post("gh", body, github_headers(body, SECRETS["gh"], delivery="d-3")).status_code
        == 202
    )
    seen = json.loads(state_file.read_text())["seen"]
    assert "id:d-3" in seen and "id:72d3162e-cc78-11e3" not in seen


def _raw_request(url: str, head: str, chunks: list[bytes]) -> tuple[int, bytes]:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(head.encode())
        for chunk in chunks:
            s.sendall(chunk)
        data = b""
        while b"\r\n\r\n" not in data:
            got = s.recv(65536)
            if not got:
                break
            data += got
    status = int(data.split(b" ", 2)[1])
    return status, data


def test_bodies_over_the_limit_are_413_however_they_are_sent(hook: Hook) -> None:
    big = json.dumps({**github_issue(), "padding": "x" * (2 * LIMIT)}).encode()
    headers = github_headers(big, SECRETS["gh"])
    # declared: refused on the Content-Length alone, before any body byte is sent
    head = (
        f"POST /webhooks/gh HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        f"X-Hub-Signature-256: {headers['X-Hub-Signature-256']}\r\nX-GitHub-Event: issues\r\n"
        f"Content-Length: {len(big)}\r\n\r\n"
    )
    assert _raw_request(hook.url, head, [])[0] == 413
    # chunked, no Content-Length: counted while streaming, even when correctly signed
    reply = hook.post("gh", (big[i : i + 1000] for i in range(0, len(big), 1000)), headers)
    assert reply.status_code == 413 and reply.json()["error"] == "too_large"
    # a Content-Length that claims less than is sent: only the declared bytes are the body
    head = head.replace(f"Content-Length: {len(big)}", "Content-Length: 100")
    assert _raw_request(hook.url, head, [big])[0] == 401
    assert hook.batches("gh") == []
    # under the limit, chunked and signed, it lands
    small = json.dumps(github_issue()).encode()
    chunks = (small[i : i + 100] for i in range(0, len(small), 100))
    assert hook.post("gh", chunks, github_headers(small, SECRETS["gh"])).status_code == 202


def test_default_limit_is_one_mebibyte(tmp_path: Path, env: None, typeform_api: Any) -> None:
    config = write_config(tmp_path, typeform_api.url("typeform"), limit=None)
    assert load_config(config).webhooks.max_body_bytes == 1 << 20
    with serving(config) as url:
        target = f"{url}/webhooks/gh"
        at_limit = b"{" + b" " * ((1 << 20) - 2) + b"}"
        assert requests.post(target, data=at_limit, timeout=30).status_code == 401  # size ok
        over = at_limit + b" "
        chunks = (over[i : i + 65536] for i in range(0, len(over), 65536))
        assert requests.post(target, data=chunks, timeout=30).status_code == 413


def test_routing_answers_404_405_400_and_healthz(hook: Hook) -> None:
    assert requests.get(f"{hook.url}/healthz").json() == {
        "status": "ok",
        "webhooks": ["gh", "ic", "sl", "tf", "zd"],
    }
    body = json.dumps(github_issue()).encode()
    headers = github_headers(body, SECRETS["gh"])
    for name, error in [("nope", "unknown_source"), ("notes", "no_webhooks"), ("gh_polled", "no_webhooks")]:  # fmt: skip
        reply = hook.post(name, body, headers)
        assert reply.status_code == 404 and reply.json()["error"] == error
    reply = requests.get(f"{hook.url}/webhooks/gh")
    assert reply.status_code == 405 and reply.headers["Allow"] == "POST"
    assert requests.put(f"{hook.url}/webhooks/gh", data=body, headers=headers).status_code == 405
    assert (
        hook.post("gh", b"not json", github_headers(b"not json", SECRETS["gh"])).status_code == 400
    )
    assert hook.post("gh", b"[1, 2]", github_headers(b"[1, 2]", SECRETS["gh"])).status_code == 400
    assert hook.post("gh", b"not json", github_headers(b"not json", "wrong")).status_code == 401
    # GitHub's form-encoded content type: payload=<json>
    form = b"payload=" + requests.utils.quote(body.decode(), safe="").encode()
    headers = {**github_headers(form, SECRETS["gh"]), "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
    assert hook.post("gh", form, headers).status_code == 202
    assert len(hook.batches("gh")) == 1


def test_unreadable_secret_is_503_and_lands_nothing(
    hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV["ic"])
    reply = hook.signed("ic", intercom_notification())
    assert reply.status_code == 503 and reply.json()["error"] == "secret_unavailable"
    assert hook.batches("ic") == []


def test_no_secret_reaches_the_logs_or_answers(
    hook: Hook, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answers = []
    for source, make in PAYLOADS.items():
        body = json.dumps(make()).encode()
        answers.append(hook.signed(source, make()))
        answers.append(hook.post(source, body, SIGNERS[source](body, "not-the-secret")))
        answers.append(hook.signed(source, make()))  # a replay
    assert [a.status_code for a in answers] == [202, 401, 200] * 5
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "webhook gh: issues.opened delivery 72d3162e-cc78-11e3 landed 1 items" in logged
    assert "bad_signature" in logged and "already accepted" in logged
    for secret in SECRETS.values():
        assert secret not in logged
        assert not any(secret in a.text for a in answers)


def test_landing_emits_batch_landed_like_ingest(
    hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.webhooks

    sent: list[tuple] = []
    monkeypatch.setattr(flows.webhooks, "emit", lambda *a, **kw: sent.append((a, kw)))
    reply = hook.signed("gh", github_issue())
    assert reply.status_code == 202
    deadline = time.monotonic() + 5
    while not sent and time.monotonic() < deadline:
        time.sleep(0.02)
    batch_id = reply.json()["batch_id"]
    assert sent == [
        (
            ("batch_landed", "chorus.source.gh", {"batch_id": batch_id, "items": 1}),
            {"chorus.source": "gh"},
        )
    ]


# -- processing picks the landed batches up -----------------------------------------------------


@pytest.mark.slow
def test_landed_deliveries_are_pending_and_process_into_feedback(hook: Hook) -> None:
    from flows.process import pending_batches, process_batches

    for source, make in PAYLOADS.items():
        assert hook.signed(source, make()).status_code == 202
    pending = pending_batches.fn(str(hook.config))
    assert sorted(Path(p).parent.name for p in pending) == sorted(PAYLOADS)
    stats = process_batches.fn(str(hook.config), pending)
    assert stats["quarantined"] == 0 and stats["written"] == stats["rows"] == 6
    import pyarrow.parquet as pq

    rows = pq.read_table(hook.root / "lake" / "feedback").to_pylist()
    assert sorted({r["source"] for r in rows}) == sorted(PAYLOADS)
    assert pending_batches.fn(str(hook.config)) == []


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
    cmd = [sys.executable, "-m", "flows.cli", "serve", "--config", str(config), "--port", str(port)]
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
