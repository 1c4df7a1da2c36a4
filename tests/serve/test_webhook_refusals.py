# ruff: noqa: F405, F811 - names and fixtures come from tests.serve.webhook_support
"""The webhook receiver refuses forged, stale, replayed, oversized or misaddressed deliveries, and
they land nothing."""

from __future__ import annotations

import json
import logging
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from flows.runtime.config import load_config
from tests.serve.webhook_support import *  # noqa: F403 - helpers, payloads and fixtures
from tests.serve.webhook_support import env, hook, typeform_api  # noqa: F401 - fixtures

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
    import flows.serve.app

    sent: list[tuple] = []
    monkeypatch.setattr(flows.serve.app, "emit", lambda *a, **kw: sent.append((a, kw)))
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
