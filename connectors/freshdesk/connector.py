"""Freshdesk: tickets (updated_since, oldest first), their conversations, CSAT ratings.

Traps handled:
- `updated_since` is inclusive: the boundary ticket of the previous run comes back. The
  Watermark cursor keeps the ids at its timestamp and drops them, so it arrives once.
- The ticket list stops at page 300 (a 400 "You cannot access tickets beyond the 300th page"
  follows). At the last allowed page the paginator opens a new window: page 1 again, with
  `updated_since` set to the last ticket's updated_at; the repeats at that second are dropped
  by the (id, updated_at) dedupe key.
- Without `updated_since` the list holds only tickets created in the last 30 days: the first
  run always sends it (from `start_date`, else the epoch).
- Conversations have no incremental API: an updated ticket's conversations are read again and
  only those updated after the previous run's watermark are kept.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import requests
from pydantic import Field

from connectors.common.base import ParseError, parse_timestamp, parsed_tags
from connectors.common.http.auth import AuthStrategy, BasicAuth
from connectors.common.http.paginators import LinkHeaderPaginator, NextRequest, Paginator
from connectors.common.incremental import Watermark
from connectors.common.rest import ChildEndpoint, Endpoint, RestConnector, RestOptions, required
from connectors.common.text import text_from_html, text_or_none

API_DOCS = "https://developers.freshdesk.com/api/"
TICKETS_MAX_PAGE = 300  # Freshdesk refuses `page` beyond 300 on the ticket list
STATUSES = {2: "open", 3: "pending", 4: "resolved", 5: "closed"}
SOURCES = {
    1: "email",
    2: "portal",
    3: "phone",
    7: "chat",
    9: "feedback_widget",
    10: "outbound_email",
}
# CSAT answers: -103 (extremely unhappy) .. 103 (extremely happy); 3- and 5-point surveys use a subset.
CSAT_SCALE = (-103, -102, -101, 100, 101, 102, 103)
CSAT_SCALE_LABEL = "freshdesk:-103..103"


def iso_z(epoch: float) -> str:
    """Epoch seconds as Freshdesk's timestamp form, 2015-01-19T02:00:00Z."""
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class TicketWindowPaginator(Paginator):
    """Page numbers while the Link header says rel="next"; past the page limit, a new time window."""

    def __init__(
        self, max_page: int = TICKETS_MAX_PAGE, since_param: str = "updated_since"
    ) -> None:
        super().__init__()
        self.max_page = max_page
        self.since_param = since_param

    def first_request(self, params: dict[str, Any]) -> dict[str, Any]:
        first = super().first_request({**params, "page": 1})
        self._remember("window start", first.get(self.since_param))
        return first

    def _remember_resumed(self, request: NextRequest) -> None:
        if isinstance(request, dict) and request.get("page") == 1:
            self._remember("window start", request.get(self.since_param))

    def _next_request(
        self, response: requests.Response, records: list[Any], params: dict[str, Any]
    ) -> NextRequest:
        if not records or not response.links.get("next"):
            return None
        page = int(params["page"])
        if page < self.max_page:
            return {**params, "page": page + 1}
        start = required(records[-1], "updated_at", "last ticket of the page")
        self._remember("window start", start)  # a whole window within one second: a loop
        return {**params, "page": 1, self.since_param: start}


TICKET_CONVERSATIONS = ChildEndpoint(
    name="ticket_conversations",
    path="api/v2/tickets/{ticket_id}/conversations",
    records=None,
    paginator=LinkHeaderPaginator,
    parent_params=lambda ticket: {"ticket_id": ticket["id"]},
    context=lambda ticket: {"ticket_id": ticket["id"], "requester_id": ticket.get("requester_id")},
    page_size_param="per_page",
    since_field="updated_at",
    docs_url=f"{API_DOCS}#list_all_ticket_notes",
)

TICKETS = Endpoint(
    name="tickets",
    path="api/v2/tickets",
    records=None,
    paginator=lambda: TicketWindowPaginator(TICKETS_MAX_PAGE),
    params={"order_by": "updated_at", "order_type": "asc", "include": "description"},
    page_size_param="per_page",
    incremental=Watermark("updated_at", "updated_since", to_param=iso_z),
    dedupe_key=lambda ticket: (ticket.get("id"), ticket.get("updated_at")),
    child=TICKET_CONVERSATIONS,
    docs_url=f"{API_DOCS}#list_all_tickets",
)

SATISFACTION_RATINGS = Endpoint(
    name="satisfaction_ratings",
    path="api/v2/surveys/satisfaction_ratings",
    records=None,
    paginator=LinkHeaderPaginator,
    page_size_param="per_page",
    incremental=Watermark("created_at", "created_since", to_param=iso_z),
    dedupe_key=lambda rating: rating.get("id"),
    docs_url=f"{API_DOCS}#view_all_satisfaction_ratings",
)


class FreshdeskOptions(RestOptions):
    """Freshdesk keys: the helpdesk domain (acme for acme.freshdesk.com)."""

    domain: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]*$")


class FreshdeskConnector(RestConnector):
    type = "freshdesk"
    source_kind = "support"
    docs_url = API_DOCS
    description = "Freshdesk tickets, their replies and notes, and satisfaction ratings"
    Options = FreshdeskOptions
    DEFAULT_BASE_URL = "https://{domain}.freshdesk.com"
    ENDPOINTS: ClassVar[tuple[Endpoint, ...]] = (TICKETS, SATISFACTION_RATINGS)

    def auth(self) -> tuple[AuthStrategy, str]:
        """Basic auth with the API key as username and "X" as password."""
        name = self.credential_name("api_key")
        return BasicAuth(self.secret("api_key"), "X", credential_name=name), name

    def agent_url(self, ticket_id: Any) -> str | None:
        """The ticket's page in the agent portal, when the domain is known."""
        domain = self.options.domain
        return f"https://{domain}.freshdesk.com/a/tickets/{ticket_id}" if domain else None

    def parse_tickets(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """A ticket: subject and plain-text description, status and source as tags."""
        tid = required(item, "id", "ticket")
        what = f"ticket {tid}"
        created = parse_timestamp(item.get("created_at"), what=f"{what}: created_at")
        updated = parse_timestamp(item.get("updated_at") or created, what=f"{what}: updated_at")
        text = _text(item, "description_text", "description", what)
        tags = parsed_tags(item.get("tags"))
        if item.get("status") in STATUSES:
            tags.append(f"status:{STATUSES[item['status']]}")
        if item.get("source") in SOURCES:
            tags.append(f"channel:{SOURCES[item['source']]}")
        if item.get("type"):
            tags.append(f"type:{item['type']}")
        return [
            self.row(
                source_id=str(tid),
                thread_id=str(tid),
                account_id=text_or_none(item.get("company_id")),
                customer_id=text_or_none(item.get("requester_id")),
                created_at=created,
                updated_at=updated,
                title=text_or_none(item.get("subject")),
                text=text,
                tags=tags,
                url=self.agent_url(tid),
            )
        ]

    def parse_ticket_conversations(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """A reply or note; private notes and agents' outgoing replies are internal."""
        parent = item.get("_parent") or {}
        ticket_id = parent.get("ticket_id")
        if ticket_id is None:
            raise ParseError(
                "conversation: _parent.ticket_id is missing (not fetched via its ticket)"
            )
        cid = required(item, "id", f"conversation on ticket {ticket_id}")
        what = f"conversation {cid} on ticket {ticket_id}"
        created = parse_timestamp(item.get("created_at"), what=f"{what}: created_at")
        updated = parse_timestamp(item.get("updated_at") or created, what=f"{what}: updated_at")
        private, incoming = item.get("private"), item.get("incoming")
        if not isinstance(private, bool) or not isinstance(incoming, bool):
            raise ParseError(f"{what}: private and incoming must be true or false")
        user_id = text_or_none(item.get("user_id"))
        from_requester = incoming or (
            user_id is not None and user_id == text_or_none(parent.get("requester_id"))
        )
        kind = "note" if private else ("customer_reply" if from_requester else "agent_reply")
        return [
            self.row(
                source_id=f"{ticket_id}:{cid}",
                thread_id=str(ticket_id),
                customer_id=user_id,
                created_at=created,
                updated_at=updated,
                text=_text(item, "body_text", "body", what),
                tags=[kind],
                url=self.agent_url(ticket_id),
                is_internal=private or not from_requester,
            )
        ]

    def parse_satisfaction_ratings(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """A CSAT answer: its default question's -103..103 code, placed on [0, 1] by rank."""
        rid = required(item, "id", "satisfaction rating")
        what = f"satisfaction rating {rid}"
        raw = (item.get("ratings") or {}).get("default_question")
        if raw not in CSAT_SCALE:
            raise ParseError(f"{what}: ratings.default_question {raw!r} is not one of {CSAT_SCALE}")
        created = parse_timestamp(item.get("created_at"), what=f"{what}: created_at")
        updated = parse_timestamp(item.get("updated_at") or created, what=f"{what}: updated_at")
        ticket_id = text_or_none(item.get("ticket_id"))
        feedback = item.get("feedback")
        if feedback is not None and not isinstance(feedback, str):
            raise ParseError(f"{what}: feedback is {type(feedback).__name__}, not text")
        return [
            self.row(
                source_id=f"rating:{rid}",
                thread_id=ticket_id,
                customer_id=text_or_none(item.get("user_id")),
                created_at=created,
                updated_at=updated,
                text=feedback or "",
                rating=CSAT_SCALE.index(raw) / (len(CSAT_SCALE) - 1),
                rating_raw=float(raw),
                rating_scale=CSAT_SCALE_LABEL,
                tags=["csat", f"csat:{raw}"],
                url=self.agent_url(ticket_id) if ticket_id else None,
            )
        ]


def _text(item: dict[str, Any], plain_key: str, html_key: str, what: str) -> str:
    """The plain-text field, else the HTML one as text; "" when neither is given."""
    plain, html = item.get(plain_key), item.get(html_key)
    for key, value in ((plain_key, plain), (html_key, html)):
        if value is not None and not isinstance(value, str):
            raise ParseError(f"{what}: {key} is {type(value).__name__}, not text")
    if plain:
        return plain
    return text_from_html(html) if html else ""
