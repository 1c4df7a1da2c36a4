"""Vendor webhook payloads -> the items each source's connector lands when it polls.

A webhook item is indistinguishable from a polled one (same `_endpoint`, same object shape,
`_parent` context where the connector adds one), so processing parses both with the same
normaliser. What carries no feedback (pings, bot messages, deletions, other repositories or
forms) maps to no items, with the reason.

Per vendor:
- GitHub `issues` -> the `issue` object (as GET /repos/{o}/{r}/issues returns it) on endpoint
  "issues"; `issue_comment` -> the `comment` object on "issue_comments". Pull requests and
  their comments only with `include_pull_requests`; `deleted` actions and other events ignored.
- Intercom notifications whose `data.item` is a conversation (conversation.user.created,
  .user.replied, .admin.*, .rating.added ...) -> the conversation on "conversations" and each
  of its message-carrying `conversation_parts` on "conversation_parts" with the `_parent`
  context the connector's child fetch gives. `conversation.deleted`, `ping` and the rest ignored.
- Typeform `form_response` -> the response (form_response without its definition) on
  "responses", with `_form` the form summary. Webhook definitions carry no scale steps: when a
  scale question lacks them, the definition is read from the Create API with the source's
  credentials (cached by the caller); without credentials the webhook's definition is used.
- Slack `event_callback` with a `message` event in one of the source's channels -> the message
  on "history:<channel>" (a thread reply on "replies:<channel>"); `message_changed` -> the
  edited message. Bot messages (unless include_bots), system subtypes, deletions ignored.
- Zendesk event subscriptions: `zen:event-type:ticket.*` -> `detail` (the ticket) on "tickets";
  `ticket.comment_added` -> `event.comment` on "ticket_comments" with `_parent.ticket_id`;
  soft or permanent deletion -> the ticket with status "deleted". Trigger or automation
  webhooks: a body `{"ticket": {...}}` with the API's ticket keys (ZENDESK_TRIGGER_BODY).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.common.http.paginators import dig
from connectors.slack.connector import KEPT_SUBTYPES
from connectors.typeform.connector import form_summary

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

WEBHOOK_TYPES = ("zendesk", "intercom", "typeform", "github", "slack")
_DELETED_TICKET = re.compile(r"ticket\.(soft_deleted|permanently_deleted)$")


@dataclass
class Mapped:
    """What one delivery becomes: the vendor's event name, its delivery id, items to land."""

    event: str
    delivery_id: str | None
    items: list[dict[str, Any]] = field(default_factory=list)
    ignored: str | None = None  # why nothing is landed

    @classmethod
    def skip(cls, event: str, delivery_id: str | None, reason: str) -> Mapped:
        return cls(event, delivery_id, [], reason)


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


# -- GitHub -------------------------------------------------------------------------------------


def github_items(connector: Any, body: dict[str, Any], headers: Mapping[str, str]) -> Mapped:
    event = headers.get("X-GitHub-Event") or ""
    delivery = _text(headers.get("X-GitHub-Delivery"))
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


# -- Intercom -----------------------------------------------------------------------------------


def intercom_items(connector: Any, body: dict[str, Any], headers: Mapping[str, str]) -> Mapped:
    topic = str(body.get("topic") or "")
    delivery = _text(body.get("id"))
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
        "contact_id": _text(contact),
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


# -- Typeform -----------------------------------------------------------------------------------


def needs_definition(summary: dict[str, Any]) -> bool:
    """A rating or opinion scale whose steps the (webhook's) definition does not give."""
    return any(
        f.get("type") in ("rating", "opinion_scale") and not f.get("steps")
        for f in (summary.get("fields") or {}).values()
    )


def typeform_items(
    connector: Any,
    body: dict[str, Any],
    headers: Mapping[str, str],
    definition: Callable[[str], dict[str, Any] | None] = lambda form_id: None,
) -> Mapped:
    """`definition(form_id)`: the form read from the API (or None) when the webhook's lacks scales."""
    kind = str(body.get("event_type") or "")
    delivery = _text(body.get("event_id"))
    response = body.get("form_response")
    if kind != "form_response":
        return Mapped.skip(kind, delivery, f"event_type {kind!r} is not a submitted response")
    if not isinstance(response, dict):
        return Mapped.skip(kind, delivery, "no form_response object")
    form_id = str(response.get("form_id") or dig(response, "definition.id") or "")
    if form_id != connector.options.form_id:
        return Mapped.skip(kind, delivery, f"form {form_id!r} is not this source's")
    summary = form_summary(response.get("definition") or {"id": form_id})
    if needs_definition(summary):
        fetched = definition(form_id)
        if fetched is not None:
            summary = form_summary(fetched)
    item = {k: v for k, v in response.items() if k != "definition"}
    item.setdefault("response_id", response.get("token"))
    return Mapped(kind, delivery, [{**item, "_endpoint": "responses", "_form": summary}])


# -- Slack --------------------------------------------------------------------------------------


def slack_items(connector: Any, body: dict[str, Any], headers: Mapping[str, str]) -> Mapped:
    kind = str(body.get("type") or "")
    delivery = _text(body.get("event_id"))
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


# -- Zendesk ------------------------------------------------------------------------------------


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


def zendesk_items(connector: Any, body: dict[str, Any], headers: Mapping[str, str]) -> Mapped:
    kind = str(body.get("type") or "")
    if kind.startswith("zen:event-type:"):
        delivery = _text(body.get("id")) or _text(headers.get("X-Zendesk-Webhook-Invocation-Id"))
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
    delivery = _text(headers.get("X-Zendesk-Webhook-Invocation-Id"))
    if isinstance(body.get("ticket"), dict) and body["ticket"].get("id"):
        ticket = _ticket(body["ticket"])
        return Mapped("trigger.ticket", delivery, [{**ticket, "_endpoint": "tickets"}])
    return Mapped.skip(kind or "trigger", delivery, "neither a ticket event nor a {ticket} body")


MAPPERS: dict[str, Callable[..., Mapped]] = {
    "zendesk": zendesk_items,
    "intercom": intercom_items,
    "typeform": typeform_items,
    "github": github_items,
    "slack": slack_items,
}
