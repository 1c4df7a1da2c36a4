"""Intercom webhooks: conversation notifications -> the conversation and its parts, as polled.

Signature: X-Hub-Signature = "sha1=" + hex(HMAC-SHA1(the app's client_secret, body)).
https://developers.intercom.com/docs/webhooks

Notifications whose `data.item` is a conversation (conversation.user.created, .user.replied,
.admin.*, .rating.added ...) -> the conversation on "conversations" and each of its
message-carrying `conversation_parts` on "conversation_parts" with the `_parent` context the
connector's child fetch gives. `conversation.deleted`, `ping` and the rest are ignored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from connectors.common.http.paginators import dig
from connectors.common.text import text_or_none
from connectors.common.webhooks import Cached, Mapped, Scheme, Webhook, hex_digest

SCHEME = Scheme(
    vendor="Intercom",
    header="X-Hub-Signature",
    prefix="sha1=",
    algorithm=hashlib.sha1,
    encode=hex_digest,
)


def intercom_items(
    connector: Any, body: dict[str, Any], headers: Mapping[str, str], cached: Cached
) -> Mapped:
    topic = str(body.get("topic") or "")
    delivery = text_or_none(body.get("id"))
    item = dig(body, "data.item")
    if topic == "ping":
        return Mapped.skip(topic, delivery, "ping")
    if not isinstance(item, dict) or item.get("type") != "conversation":
        return Mapped.skip(topic, delivery, "not a conversation notification")
    if topic == "conversation.deleted":
        return Mapped.skip(topic, delivery, "deletions are not mapped")
    conversation = dict(item)
    if "source" not in conversation and isinstance(conversation.get("conversation_message"), dict):
        conversation["source"] = conversation["conversation_message"]  # API versions before 2.0
    cid = conversation.get("id")
    contacts = dig(conversation, "contacts.contacts") or []
    contact = contacts[0].get("id") if contacts and isinstance(contacts[0], dict) else None
    parent = {
        "conversation_id": cid,
        "contact_id": text_or_none(contact),
        "company_id": conversation.get("company_id"),
    }
    parts = dig(conversation, "conversation_parts.conversation_parts") or []
    conversation.pop("conversation_parts", None)  # as search returns it: parts are their own items
    items = [{**conversation, "_endpoint": "conversations"}]
    items += [
        {**p, "_endpoint": "conversation_parts", "_parent": parent}
        for p in parts
        if isinstance(p, dict) and p.get("body")
    ]
    return Mapped(topic, delivery, items)


WEBHOOK = Webhook(scheme=SCHEME, items=intercom_items)
