"""Slack Events API: message events in the source's channels -> the message, as polled.

Signature: X-Slack-Signature = "v0=" + hex(HMAC-SHA256(signing secret, "v0:" + ts + ":" + body)),
ts (epoch seconds) in X-Slack-Request-Timestamp.
https://api.slack.com/authentication/verifying-requests-from-slack

`event_callback` with a `message` event in one of the source's channels -> the message on
"history:<channel>" (a thread reply on "replies:<channel>"); `message_changed` -> the edited
message. Bot messages (unless include_bots), system subtypes and deletions are ignored. The
`url_verification` handshake is answered with its challenge.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from connectors.common.text import text_or_none
from connectors.common.webhooks import Cached, Mapped, Scheme, Webhook, hex_digest
from connectors.slack.connector import KEPT_SUBTYPES

SCHEME = Scheme(
    vendor="Slack",
    header="X-Slack-Signature",
    prefix="v0=",
    algorithm=hashlib.sha256,
    encode=hex_digest,
    timestamp_header="X-Slack-Request-Timestamp",
    signed=lambda ts, body: b"v0:" + ts + b":" + body,
)


def url_verification(payload: dict[str, Any]) -> dict[str, Any] | None:
    """Slack checks a new endpoint with a signed url_verification: answer its challenge."""
    if payload.get("type") != "url_verification":
        return None
    return {"challenge": payload.get("challenge")}


def slack_items(
    connector: Any, body: dict[str, Any], headers: Mapping[str, str], cached: Cached
) -> Mapped:
    kind = str(body.get("type") or "")
    delivery = text_or_none(body.get("event_id"))
    event = body.get("event")
    if kind != "event_callback" or not isinstance(event, dict):
        return Mapped.skip(kind, delivery, f"callback type {kind!r} carries no event")
    name = str(event.get("type") or "")
    subtype = event.get("subtype")
    name = f"{name}.{subtype}" if subtype else name
    if event.get("type") != "message":
        return Mapped.skip(name, delivery, "not a message event")
    channel = str(event.get("channel") or "")
    if channel not in connector.channels():
        return Mapped.skip(name, delivery, f"channel {channel!r} is not one of this source's")
    message = event
    if subtype == "message_changed":
        message = event.get("message") if isinstance(event.get("message"), dict) else {}
        subtype = message.get("subtype")
    elif subtype == "message_deleted":
        return Mapped.skip(name, delivery, "deletions are not mapped")
    if subtype not in KEPT_SUBTYPES:
        return Mapped.skip(name, delivery, f"subtype {subtype!r} is not a message")
    bot = subtype == "bot_message" or bool(message.get("bot_id"))
    if bot and not connector.options.include_bots:
        return Mapped.skip(name, delivery, "bot message (include_bots is off)")
    if not message.get("ts"):
        return Mapped.skip(name, delivery, "message has no ts")
    thread_ts = message.get("thread_ts")
    reply = bool(thread_ts) and thread_ts != message["ts"] and subtype != "thread_broadcast"
    endpoint = f"{'replies' if reply else 'history'}:{channel}"
    item = {k: v for k, v in message.items() if k != "channel"}
    return Mapped(name, delivery, [{**item, "_endpoint": endpoint}])


WEBHOOK = Webhook(scheme=SCHEME, items=slack_items, handshake=url_verification)
