"""GitHub webhooks: `issues` and `issue_comment` events -> the issue or comment, as polled.

Signature: X-Hub-Signature-256 = "sha256=" + hex(HMAC-SHA256(webhook secret, body)), the
delivery id in X-GitHub-Delivery.
https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries

`issues` -> the `issue` object (as GET /repos/{o}/{r}/issues returns it) on endpoint "issues";
`issue_comment` -> the `comment` object on "issue_comments". Pull requests and their comments
only with `include_pull_requests`; `deleted` actions, other repositories and other events are
ignored. A webhook may be set to send its JSON form-encoded (`payload=`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from connectors.common.http.paginators import dig
from connectors.common.text import text_or_none
from connectors.common.webhooks import Cached, Mapped, Scheme, Webhook, hex_digest

SCHEME = Scheme(
    vendor="GitHub",
    header="X-Hub-Signature-256",
    prefix="sha256=",
    algorithm=hashlib.sha256,
    encode=hex_digest,
    delivery_header="X-GitHub-Delivery",
)


def json_body(body: bytes, content_type: str) -> bytes:
    """The JSON text: the body, or its `payload` field when sent form-encoded."""
    if content_type != "application/x-www-form-urlencoded":
        return body
    return (parse_qs(body.decode("utf-8", "replace")).get("payload") or [""])[0].encode()


def github_items(
    connector: Any, body: dict[str, Any], headers: Mapping[str, str], cached: Cached
) -> Mapped:
    event = headers.get("X-GitHub-Event") or ""
    delivery = text_or_none(headers.get("X-GitHub-Delivery"))
    action = body.get("action")
    name = f"{event}.{action}" if action else event
    if event == "ping":
        return Mapped.skip(name, delivery, "ping")
    repo = str(dig(body, "repository.full_name") or "")
    if repo.lower() != connector.options.repository.lower():
        return Mapped.skip(name, delivery, f"repository {repo!r} is not this source's")
    if event not in ("issues", "issue_comment"):
        return Mapped.skip(name, delivery, f"event {event!r} carries no issue or comment")
    if action == "deleted":
        return Mapped.skip(name, delivery, "deletions are not mapped")
    issue = body.get("issue")
    if not isinstance(issue, dict):
        return Mapped.skip(name, delivery, "no issue object in the payload")
    if "pull_request" in issue and not connector.options.include_pull_requests:
        return Mapped.skip(name, delivery, "pull request (include_pull_requests is off)")
    if event == "issues":
        return Mapped(name, delivery, [{**issue, "_endpoint": "issues"}])
    comment = body.get("comment")
    if not isinstance(comment, dict):
        return Mapped.skip(name, delivery, "no comment object in the payload")
    return Mapped(
        name,
        delivery,
        [{"issue_url": issue.get("url"), **comment, "_endpoint": "issue_comments"}],
    )


WEBHOOK = Webhook(scheme=SCHEME, items=github_items, json_body=json_body)
