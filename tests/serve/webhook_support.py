# ruff: noqa: F405 - payload builders come from tests.serve.webhook_payloads
"""Shared pieces of the webhook receiver tests: each vendor's documented signature written out
independently of connectors/<vendor>/webhook.py, vendor-shaped payloads (invented data), and a
real uvicorn server on 127.0.0.1 with a tmp config and lake."""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn

from connectors.common.sandbox.server import start_sandbox
from connectors.typeform.sandbox import FORM_ID, TypeformSandbox
from flows.lake.store import Lake
from flows.processing.landed_rows import landed_rows as canonical_rows
from flows.runtime.config import load_config
from flows.serve.app import create_app

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


from tests.serve.webhook_payloads import *  # noqa: E402, F403 - vendor-shaped payloads

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
