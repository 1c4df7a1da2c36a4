"""Zendesk webhooks: event subscriptions and trigger/automation bodies -> the items polling lands.

Signature: X-Zendesk-Webhook-Signature = base64(HMAC-SHA256(signing secret, timestamp + body)),
the timestamp (ISO 8601) in X-Zendesk-Webhook-Signature-Timestamp.
https://developer.zendesk.com/documentation/webhooks/verifying/

Event subscriptions: `zen:event-type:ticket.*` -> `detail` (the ticket) on "tickets";
`ticket.comment_added` -> `event.comment` on "ticket_comments" with `_parent.ticket_id`;
soft or permanent deletion -> the ticket with status "deleted". Trigger or automation
webhooks: a body `{"ticket": {...}}` with the API's ticket keys (ZENDESK_TRIGGER_BODY).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from connectors.common.http.paginators import dig
from connectors.common.text import text_or_none
from connectors.common.webhooks import Cached, Mapped, Scheme, Webhook, base64_digest

# The JSON body to give a Zendesk trigger or automation webhook (request format JSON, method
# POST): each key is the API's ticket field; Zendesk fills the placeholders.
ZENDESK_TRIGGER_BODY = """{
  "ticket": {
    "id": "{{ticket.id}}",
    "subject": "{{ticket.title}}",
    "description": "{{ticket.description}}",
    "status": "{{ticket.status}}",
    "tags": "{{ticket.tags}}",
    "requester_id": "{{ticket.requester.id}}",
    "organization_id": "{{ticket.organization.id}}",
    "created_at": "{{ticket.created_at_with_timestamp}}",
    "updated_at": "{{ticket.updated_at_with_timestamp}}"
  }
}"""

_DELETED_TICKET = re.compile(r"ticket\.(soft_deleted|permanently_deleted)$")

SCHEME = Scheme(
    vendor="Zendesk",
    header="X-Zendesk-Webhook-Signature",
    prefix="",
    algorithm=hashlib.sha256,
    encode=base64_digest,
    timestamp_header="X-Zendesk-Webhook-Signature-Timestamp",
    delivery_header="X-Zendesk-Webhook-Invocation-Id",
    signed=lambda ts, body: ts + body,
)


def _ticket(raw: dict[str, Any]) -> dict[str, Any]:
    """A ticket as the API spells it, from an event's `detail` or the trigger body's `ticket`."""
    ticket = dict(raw)
    if isinstance(ticket.get("status"), str):
        ticket["status"] = ticket["status"].strip().lower()
    if isinstance(ticket.get("tags"), str):  # {{ticket.tags}} renders "a b c"
        ticket["tags"] = ticket["tags"].replace(",", " ").split()
    for key in ("organization_id", "requester_id"):
        if str(ticket.get(key) or "").strip() in ("", "0"):
            ticket[key] = None
    for key in ("subject", "description", "updated_at"):
        if ticket.get(key) == "":
            ticket[key] = None
    return ticket


def zendesk_items(
    connector: Any, body: dict[str, Any], headers: Mapping[str, str], cached: Cached
) -> Mapped:
    kind = str(body.get("type") or "")
    if kind.startswith("zen:event-type:"):
        delivery = text_or_none(body.get("id")) or text_or_none(
            headers.get("X-Zendesk-Webhook-Invocation-Id")
        )
        event = kind.removeprefix("zen:event-type:")
        detail = body.get("detail")
        if not event.startswith("ticket.") or not isinstance(detail, dict) or not detail.get("id"):
            return Mapped.skip(event, delivery, "not a ticket event")
        ticket = _ticket(detail)
        if event == "ticket.comment_added":
            comment = dig(body, "event.comment")
            if not isinstance(comment, dict):
                return Mapped.skip(event, delivery, "no event.comment object")
            public = comment.get("is_public", comment.get("public"))
            item = {
                "id": comment.get("id"),
                "body": comment.get("body"),
                "plain_body": comment.get("plain_body"),
                "public": public if isinstance(public, bool) else None,
                "author_id": dig(comment, "author.id") or comment.get("author_id"),
                "created_at": comment.get("created_at") or body.get("time"),
                "_endpoint": "ticket_comments",
                "_parent": {"ticket_id": ticket["id"]},
            }
            return Mapped(event, delivery, [item])
        if _DELETED_TICKET.search(event):
            ticket["status"] = "deleted"
        ticket["updated_at"] = ticket.get("updated_at") or body.get("time")
        return Mapped(event, delivery, [{**ticket, "_endpoint": "tickets"}])
    delivery = text_or_none(headers.get("X-Zendesk-Webhook-Invocation-Id"))
    if isinstance(body.get("ticket"), dict) and body["ticket"].get("id"):
        ticket = _ticket(body["ticket"])
        return Mapped("trigger.ticket", delivery, [{**ticket, "_endpoint": "tickets"}])
    return Mapped.skip(kind or "trigger", delivery, "neither a ticket event nor a {ticket} body")


WEBHOOK = Webhook(scheme=SCHEME, items=zendesk_items)
